#!/usr/bin/env bash
# End-to-end proxy benchmark, one worker each, in one run, with the two
# requests of ../shared/bench (the browser GET and the 1 KB form POST):
#   nginx          plain reverse proxy (proxy_pass, keepalive upstream)
#   nginx+modsec   nginx + libmodsecurity 3 (Debian's libnginx-mod-http-modsecurity) + CRS 4.28 PL1, blocking
#   rampart        no WAF
#   rampart+crs    CRS 4.28 PL1 in block mode
#   rampart+crs/nm the same with waf.value_memo off: the worker does not remember
#                  the values CRS found nothing in (this bench sends one request
#                  again and again, so with the memo on every value is known
#                  after the first; real traffic repeats its headers, not all
#                  its arguments and cookies)
# The WAF pair needs ../shared/crs (or $RAMPART_CRS_DIR); WAF=0 skips it.
#
#   bench/e2e.sh                 # env: DURATION=10s CONNECTIONS=32 WAF=1 UNLOADED_ROUNDS=5 RAMPART_BUILD_DIR=build
#
# The backend is a third nginx process answering `return 200` (so the backend is
# never the bottleneck). Access logs are off in both proxies. Everything binds
# 127.0.0.1. nginx and wrk are installed with apt-get only when missing (only
# this script needs them). Prints requests/s, p50 and p99 for each proxy and
# request (two interleaved runs averaged), the ratios, and the unloaded latency
# (one connection; the median of 5 interleaved rounds) each WAF adds; for
# rampart also with busy_poll_us: 200 (a worker polls 200 us before it sleeps:
# on a VM an idle vCPU wakes slow and cold).
# Also the proxy's own CPU time per request under load (its process and
# children, from /proc): steadier than requests/s when the machine's other
# tenants take the cores for a while.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${RAMPART_BUILD_DIR:-$root/build}
SHARED=${RAMPART_SHARED_BENCH:-$root/../shared/bench}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
WORK=$(mktemp -d /tmp/rampart-e2e.XXXXXX)
WAF=${WAF:-1}
CRS=${RAMPART_CRS_DIR:-$root/../shared/crs}
if [ "$WAF" = 1 ] && [ ! -f "$CRS/crs-setup.conf.example" ]; then echo "e2e: no CRS at $CRS, WAF runs skipped" >&2; WAF=0; fi
MODSEC_SO=/usr/lib/nginx/modules/ngx_http_modsecurity_module.so

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
if [ "$WAF" = 1 ] && [ ! -f "$MODSEC_SO" ]; then need+=(libnginx-mod-http-modsecurity); fi
source "$here/lib.sh"
apt_install_missing e2e "${need[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BUILD/rampart" ] || { echo "e2e: build rampart first ($BUILD/rampart missing)" >&2; exit 1; }
echo "e2e: $("$BUILD/rampart" version)"
BACKEND=$(free_port); NGINX_PORT=$(free_port); RAMPART_PORT=$(free_port); ADMIN=$(free_port)
MODSEC_PORT=$(free_port); RAMPART_CRS_PORT=$(free_port); ADMIN2=$(free_port)

mkdir -p "$WORK/proxy"
write_backend_nginx "$WORK/backend" "$BACKEND"
cat > "$WORK/proxy/nginx.conf" <<EOF
worker_processes 1; daemon off; pid $WORK/proxy/nginx.pid; error_log $WORK/proxy/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK/proxy; proxy_temp_path $WORK/proxy;
  fastcgi_temp_path $WORK/proxy; uwsgi_temp_path $WORK/proxy; scgi_temp_path $WORK/proxy;
  upstream app { server 127.0.0.1:$BACKEND; keepalive 64; }
  server { listen 127.0.0.1:$NGINX_PORT; keepalive_requests 1000000;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }
EOF
cat > "$WORK/rampart.yaml" <<EOF
workers: 1
log: { level: warn, access: { enabled: false } }
admin: { listen: "127.0.0.1:$ADMIN" }
listeners: [ { name: main, listen: ["127.0.0.1:$RAMPART_PORT"] } ]
routes: [ { name: app, match: { path: { prefix: "/" } }, pool: app } ]
pools: [ { name: app, endpoints: [ { address: "127.0.0.1:$BACKEND" } ], connections: { max_idle_per_endpoint: 128 } } ]
EOF

if [ "$WAF" = 1 ]; then
  mkdir -p "$WORK/modsec"
  # ModSecurity's recommended engine settings (body access, limits, JSON/XML processors), then CRS.
  cat > "$WORK/modsec/main.conf" <<EOF
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecResponseBodyAccess Off
SecPcreMatchLimit 100000
SecPcreMatchLimitRecursion 100000
SecAuditEngine Off
SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
Include $CRS/crs-setup.conf.example
Include $CRS/rules/*.conf
EOF
  cat > "$WORK/modsec/nginx.conf" <<EOF
load_module $MODSEC_SO;
worker_processes 1; daemon off; pid $WORK/modsec/nginx.pid; error_log $WORK/modsec/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK/modsec; proxy_temp_path $WORK/modsec;
  fastcgi_temp_path $WORK/modsec; uwsgi_temp_path $WORK/modsec; scgi_temp_path $WORK/modsec;
  upstream app { server 127.0.0.1:$BACKEND; keepalive 64; }
  server { listen 127.0.0.1:$MODSEC_PORT; keepalive_requests 1000000;
    modsecurity on; modsecurity_rules_file $WORK/modsec/main.conf;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }
EOF
  cat > "$WORK/rampart-crs.yaml" <<EOF
workers: 1
log: { level: warn, access: { enabled: false } }
admin: { listen: "127.0.0.1:$ADMIN2" }
waf:
  audit: { path: "$WORK/audit.log" }
  rule_sets:
    crs: { files: ["$CRS/crs-setup.conf.example", "$CRS/rules/*.conf"], paranoia_level: 1 }
listeners: [ { name: main, listen: ["127.0.0.1:$RAMPART_CRS_PORT"], waf: { rule_set: crs, mode: block } } ]
routes: [ { name: app, match: { path: { prefix: "/" } }, pool: app } ]
pools: [ { name: app, endpoints: [ { address: "127.0.0.1:$BACKEND" } ], connections: { max_idle_per_endpoint: 128 } } ]
EOF
fi

"$NGINX" -c "$WORK/backend/nginx.conf" -p "$WORK/backend" & pids+=($!)
declare -A PID
"$NGINX" -c "$WORK/proxy/nginx.conf" -p "$WORK/proxy" & pids+=($!); PID[nginx]=$!
"$BUILD/rampart" run -c "$WORK/rampart.yaml" & pids+=($!); PID[rampart]=$!
systems="nginx rampart"
ports="$BACKEND $NGINX_PORT $RAMPART_PORT"
if [ "$WAF" = 1 ]; then
  "$NGINX" -c "$WORK/modsec/nginx.conf" -p "$WORK/modsec" & pids+=($!); PID[nginx+modsec]=$!
  "$BUILD/rampart" run -c "$WORK/rampart-crs.yaml" & pids+=($!); PID[rampart+crs]=$!
  NOMEMO_PORT=$(free_port); nm_admin=$(free_port)
  sed -e "s/^waf:$/waf:\n  value_memo: false/" -e "s/127.0.0.1:$RAMPART_CRS_PORT/127.0.0.1:$NOMEMO_PORT/" \
      -e "s/listen: \"127.0.0.1:[0-9]*\" }/listen: \"127.0.0.1:$nm_admin\" }/" -e "s|$WORK/audit.log|$WORK/audit-nm.log|" \
      "$WORK/rampart-crs.yaml" > "$WORK/rampart-crs-nm.yaml"
  "$BUILD/rampart" run -c "$WORK/rampart-crs-nm.yaml" & pids+=($!); PID[rampart+crs/nm]=$!
  systems="nginx nginx+modsec rampart rampart+crs rampart+crs/nm"
  ports="$ports $MODSEC_PORT $RAMPART_CRS_PORT $NOMEMO_PORT"
fi
declare -A PORT=([nginx]=$NGINX_PORT [rampart]=$RAMPART_PORT [nginx+modsec]=$MODSEC_PORT [rampart+crs]=$RAMPART_CRS_PORT)
[ "$WAF" = 1 ] && PORT[rampart+crs/nm]=$NOMEMO_PORT
# The same rampart configurations with busy_poll_us: 200 (docs/config.md), for
# the unloaded latency only (they are idle, and so asleep, during the loaded runs).
bp_systems=""
for sys in rampart rampart+crs; do
  [ "$sys" = rampart+crs ] && [ "$WAF" != 1 ] && continue
  src="$WORK/rampart.yaml"; [ "$sys" = rampart+crs ] && src="$WORK/rampart-crs.yaml"
  PORT[$sys/bp]=$(free_port); bp_admin=$(free_port)
  sed -e "s/^workers: 1$/workers: 1\nbusy_poll_us: 200/" -e "s/127.0.0.1:${PORT[$sys]}/127.0.0.1:${PORT[$sys/bp]}/" \
      -e "s/listen: \"127.0.0.1:[0-9]*\" }/listen: \"127.0.0.1:$bp_admin\" }/" "$src" > "$WORK/bp-${sys/+/-}.yaml"
  "$BUILD/rampart" run -c "$WORK/bp-${sys/+/-}.yaml" & pids+=($!)
  bp_systems="$bp_systems $sys/bp"
  ports="$ports ${PORT[$sys/bp]}"
done
wait_ports $ports

write_wrk_scripts "$SHARED" "$WORK"

# Sanity: every proxy passes the benign requests and the WAFs block an attack.
for sys in $systems; do
  port=${PORT[$sys]}
  for req in get post; do
    bad=$(wrk -t1 -c1 -d1s -s "$WORK/$req.lua" "http://127.0.0.1:$port" 2>&1 | awk '/Non-2xx/ {print "bad"}')
    [ -z "$bad" ] || { echo "e2e: $sys answered non-2xx to the benign $req" >&2; exit 1; }
  done
  case $sys in *modsec|*crs|*crs/nm)
    code=$(curl -s -o /dev/null -w '%{http_code}' -A Mozilla/5.0 "http://127.0.0.1:$port/?q=%3Cscript%3Ealert(1)%3C/script%3E")
    [ "$code" = 403 ] || { echo "e2e: $sys did not block an XSS ($code)" >&2; exit 1; } ;;
  esac
done

printf '%-6s %-15s %12s %10s %10s %8s %12s\n' request system "requests/s" "p50 ms" "p99 ms" non2xx "CPU us/req"
declare -A R L SUM BAD CPU REQS C
tick_us=$((1000000 / $(getconf CLK_TCK)))
secs=$(seconds "$DURATION")
# Each system runs twice per request, in the order given and then reversed
# (nginx rampart rampart nginx...), and the two runs are averaged: drift on a
# shared machine then hits all alike.
reversed=$(echo $systems | tr ' ' '\n' | tac | tr '\n' ' ')
for req in get post; do
  for sys in $systems $reversed; do
    t0=$(cpu_ticks "${PID[$sys]}")
    read -r rps p50 p99 bad < <(run_wrk "${PORT[$sys]}" "$WORK/$req.lua")
    t1=$(cpu_ticks "${PID[$sys]}")
    CPU[$req.$sys]=$(( ${CPU[$req.$sys]:-0} + (t1 - t0) * tick_us ))
    REQS[$req.$sys]=$(awk -v a="${REQS[$req.$sys]:-0}" -v r="$rps" -v s="$secs" 'BEGIN { print a + r * s }')
    read -r s_rps s_p50 s_p99 <<< "${SUM[$req.$sys]:-0 0 0}"
    SUM[$req.$sys]=$(awk -v a="$s_rps" -v b="$s_p50" -v c="$s_p99" -v x="$rps" -v y="$p50" -v z="$p99" \
      'BEGIN { print a + x, b + y, c + z }')
    BAD[$req.$sys]=$(( ${BAD[$req.$sys]:-0} + bad ))
  done
  for sys in $systems; do
    read -r s_rps s_p50 s_p99 <<< "${SUM[$req.$sys]}"
    R[$req.$sys]=$(awk -v a="$s_rps" -v b="$s_p50" -v c="$s_p99" 'BEGIN { print a / 2, b / 2, c / 2 }')
    read -r rps p50 p99 <<< "${R[$req.$sys]}"
    C[$req.$sys]=$(awk -v c="${CPU[$req.$sys]}" -v n="${REQS[$req.$sys]}" 'BEGIN { print (n > 0 ? c / n : 0) }')
    printf '%-6s %-15s %12.0f %10.3f %10.3f %8s %12.1f\n' "$req" "$sys" "$rps" "$p50" "$p99" "${BAD[$req.$sys]}" "${C[$req.$sys]}"
  done
done
# Unloaded latency: one connection, one request at a time, in UNLOADED_ROUNDS
# rounds of 2 s per system (each round in the order given, the next reversed),
# so that a slow spell of the machine hits a WAF and its baseline alike. A
# system's figure is its median p50 over the rounds; what a WAF adds is the
# median of its differences to its baseline in the same round, with their range.
ROUNDS_U=${UNLOADED_ROUNDS:-5}
declare -A LR  # per system: the rounds' p50s (ms), space-separated
order="$systems $bp_systems"
for req in get post; do
  for r in $(seq "$ROUNDS_U"); do
    for sys in $order; do
      read -r rps p50 p99 bad < <(CONNECTIONS=1 DURATION=2s run_wrk "${PORT[$sys]}" "$WORK/$req.lua")
      LR[$req.$sys]="${LR[$req.$sys]:-} $p50"
    done
    order=$(echo $order | tr ' ' '\n' | tac | tr '\n' ' ')
  done
done
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# added REQ A B: "median min max" of A's p50 minus B's, round by round, in us
added() {
  local d
  d=$(paste -d' ' <(echo ${LR[$1.$2]} | tr ' ' '\n') <(echo ${LR[$1.$3]} | tr ' ' '\n') |
    awk '{ printf "%.1f\n", ($1 - $2) * 1000 }' | sort -g)
  printf '%.0f %.0f %.0f\n' "$(echo $d | median)" "$(echo "$d" | head -1)" "$(echo "$d" | tail -1)"
}
echo
printf '%-6s %-15s %16s  (median of %s rounds)\n' request system "unloaded p50 ms" "$ROUNDS_U"
for req in get post; do
  for sys in $systems $bp_systems; do
    L[$req.$sys]=$(echo ${LR[$req.$sys]} | median)
    printf '%-6s %-15s %16.3f\n' "$req" "$sys" "${L[$req.$sys]}"
  done
done
echo
ratio() {  # ratio NAME A B: requests/s and p99 of A over B
  read -r a_rps a_p50 a_p99 <<< "${R[$2]}"
  read -r b_rps b_p50 b_p99 <<< "${R[$3]}"
  awk -v n="$1" -v ar="$a_rps" -v br="$b_rps" -v a99="$a_p99" -v b99="$b_p99" \
    'BEGIN { printf "%-34s requests/s %9.2fx   p99 %7.2fx\n", n, ar/br, a99/b99 }'
}
for req in get post; do
  up=${req^^}
  ratio "$up rampart / nginx" "$req.rampart" "$req.nginx"
  if [ "$WAF" = 1 ]; then
    ratio "$up rampart+crs / nginx+modsec" "$req.rampart+crs" "$req.nginx+modsec"
    ratio "$up rampart+crs / nginx (no WAF)" "$req.rampart+crs" "$req.nginx"
    read -r a lo hi < <(added "$req" rampart+crs rampart)
    read -r ma mlo mhi < <(added "$req" nginx+modsec nginx)
    echo "$up unloaded latency added by the WAF: rampart $a us (rounds $lo..$hi), nginx+modsec $ma us ($mlo..$mhi)"
    read -r a lo hi < <(added "$req" rampart+crs/bp rampart/bp)
    echo "$up unloaded latency added by the WAF with busy_poll_us: 200: rampart $a us (rounds $lo..$hi)"
    awk -v n="$up" -v w="${C[$req.rampart+crs]}" -v p="${C[$req.rampart]}" -v mw="${C[$req.nginx+modsec]}" -v mp="${C[$req.nginx]}" \
      'BEGIN { printf "%s proxy CPU per request under load: rampart+crs %.1f us (WAF +%.1f), nginx+modsec %.1f us (WAF +%.1f): %.2fx less\n", n, w, w-p, mw, mw-mp, mw/w }'
    ratio "$up rampart+crs/nm / nginx+modsec" "$req.rampart+crs/nm" "$req.nginx+modsec"
    ratio "$up rampart+crs/nm / nginx (no WAF)" "$req.rampart+crs/nm" "$req.nginx"
    read -r a lo hi < <(added "$req" rampart+crs/nm rampart)
    awk -v n="$up" -v a="$a" -v lo="$lo" -v hi="$hi" -v c="${C[$req.rampart+crs/nm]}" -v cp="${C[$req.rampart]}" \
      'BEGIN { printf "%s value memo off: unloaded latency added %s us (rounds %s..%s), CPU per request %.1f us (WAF +%.1f)\n", n, a, lo, hi, c, c-cp }'
  fi
done
