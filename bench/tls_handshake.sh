#!/usr/bin/env bash
# TLS handshakes per second, rampart against nginx, one worker each, same
# certificates, in one run: full TLS 1.3 handshakes and resumed ones, with an
# ECDSA P-256 and an RSA 2048 certificate. The client is bench/tools/tls_load
# (THREADS threads, a new connection per handshake with one GET read to the
# end so tickets arrive; `resume` offers the last ticket), bound in time.
#
#   bench/tls_handshake.sh      # env: SECONDS_EACH=10 THREADS=2 RAMPART_BUILD_DIR=build
#
# Prints handshakes/s for each server, certificate and mode, the share that
# resumed, and handshakes per second of server CPU time (user + system of the
# server process: on a 2-core machine the client shares the CPU, so the rate
# alone is partly the client's), with the rampart/nginx ratios of both.
# nginx is installed with apt-get only when missing. Everything binds 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${RAMPART_BUILD_DIR:-$root/build}
T=${SECONDS_EACH:-10}
THREADS=${THREADS:-2}
LOAD=$BUILD/bench/tls_load
WORK=$(mktemp -d /tmp/rampart-tlsbench.XXXXXX)
source "$here/lib.sh"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install_missing tls_handshake nginx-light
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BUILD/rampart" ] || { echo "tls_handshake: build rampart first ($BUILD/rampart missing)" >&2; exit 1; }
[ -x "$LOAD" ] || { echo "tls_handshake: build the load client first (ninja -C $BUILD tls_load)" >&2; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ec.key" -out "$WORK/ec.crt" \
  -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/rsa.key" -out "$WORK/rsa.crt" \
  -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
chmod 600 "$WORK"/*.key

declare -A PORT
for s in nginx rampart; do for c in ec rsa; do PORT[$s.$c]=$(free_port); done; done

mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  ssl_protocols TLSv1.3; ssl_session_cache shared:S:10m; ssl_session_tickets on;
  server { listen 127.0.0.1:${PORT[nginx.ec]} ssl; ssl_certificate $WORK/ec.crt; ssl_certificate_key $WORK/ec.key;
    location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:${PORT[nginx.rsa]} ssl; ssl_certificate $WORK/rsa.crt; ssl_certificate_key $WORK/rsa.key;
    location / { return 200 "ok\n"; } } }
NGX
cat > "$WORK/rampart.yaml" <<YML
workers: 1
log: { level: warn, access: { enabled: false } }
listeners:
  - { name: ec, listen: "127.0.0.1:${PORT[rampart.ec]}", tls: { certificates: [ { cert: "$WORK/ec.crt", key: "$WORK/ec.key" } ] } }
  - { name: rsa, listen: "127.0.0.1:${PORT[rampart.rsa]}", tls: { certificates: [ { cert: "$WORK/rsa.crt", key: "$WORK/rsa.key" } ] } }
routes: [ { name: ok, direct_response: { status: 200, body: "ok\n" } } ]
YML
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" & pids+=($!)
"$BUILD/rampart" run -c "$WORK/rampart.yaml" & pids+=($!)
for p in "${PORT[@]}"; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.05; done
done

# Server CPU time (user + system, clock ticks) of a process.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
RAMPART_PID=${pids[1]}
NGINX_WORKER=$(pgrep -P "${pids[0]}" | head -1)
declare -A SPID=([nginx]=$NGINX_WORKER [rampart]=$RAMPART_PID)
TICKS=$(getconf CLK_TCK)
# One run: prints "handshakes/s resumed-share handshakes-per-server-cpu-second".
run() {  # server cert mode
  local before after out
  before=$(cpu "${SPID[$1]}")
  out=$(timeout $((T + 30)) "$LOAD" 127.0.0.1 "${PORT[$1.$2]}" "$T" "$THREADS" "$3")
  after=$(cpu "${SPID[$1]}")
  echo "$out" | awk -v cpu=$(( after - before )) -v hz="$TICKS" \
    '{ n = $2; r = $4; e = $6; s = $8 } END { printf "%.0f %.2f %.0f %d\n", n / s, (n ? r / n : 0), (cpu ? n / (cpu / hz) : 0), e }'
}
printf '%-8s %-6s %-7s %13s %8s %16s %7s\n' server cert mode "handshakes/s" resumed "per server CPU-s" errors
declare -A R C
# Each pair runs twice, nginx rampart rampart nginx, and the two runs of a server
# are summed: drift on a shared machine then hits both alike.
for c in ec rsa; do
  for m in new resume; do
    for s in nginx rampart rampart nginx; do
      read -r rate share per errs < <(run "$s" "$c" "$m")
      R[$s.$c.$m]=$(( ${R[$s.$c.$m]:-0} + rate ))
      C[$s.$c.$m]=$(( ${C[$s.$c.$m]:-0} + per ))
      printf '%-8s %-6s %-7s %13s %8s %16s %7s\n' "$s" "$c" "$m" "$rate" "$share" "$per" "$errs"
    done
  done
done
echo
for c in ec rsa; do
  for m in new resume; do
    awk -v c="$c" -v m="$m" -v r="${R[rampart.$c.$m]}" -v n="${R[nginx.$c.$m]}" \
        -v rc="${C[rampart.$c.$m]}" -v nc="${C[nginx.$c.$m]}" \
      'BEGIN { printf "%s %-6s rampart/nginx: handshakes/s %.2f, per server CPU-second %.2f\n",
               (c == "ec" ? "ECDSA P-256" : "RSA 2048   "), m, (n > 0 ? r / n : 0), (nc > 0 ? rc / nc : 0) }'
  done
done
echo "(client: bench/tools/tls_load, $THREADS threads on the same machine; per server CPU-second divides by the server process's user+system time, which the shared client does not inflate)"
