#!/usr/bin/env bash
# End-to-end proxy benchmark: rampart against nginx (proxy_pass), in front of
# the same backend, one worker each, in one run, with the two requests of
# ../shared/bench (the browser GET and the 1 KB form POST).
#
#   bench/e2e.sh                 # env: DURATION=10s CONNECTIONS=32 RAMPART_BUILD_DIR=build
#
# The backend is a third nginx process answering `return 200` (so the backend is
# never the bottleneck). Access logs are off in both proxies. Everything binds
# 127.0.0.1. nginx and wrk are installed with apt-get only when missing (only
# this script needs them). Prints requests/s, p50 and p99 for each proxy and
# request, and rampart's ratio to nginx.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${RAMPART_BUILD_DIR:-$root/build}
SHARED=${RAMPART_SHARED_BENCH:-$root/../shared/bench}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
WORK=$(mktemp -d /tmp/rampart-e2e.XXXXXX)

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  echo "e2e: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BUILD/rampart" ] || { echo "e2e: build rampart first ($BUILD/rampart missing)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACKEND=$(free_port); NGINX_PORT=$(free_port); RAMPART_PORT=$(free_port); ADMIN=$(free_port)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/backend" "$WORK/proxy"
cat > "$WORK/backend/nginx.conf" <<EOF
worker_processes 1; daemon off; pid $WORK/backend/nginx.pid; error_log $WORK/backend/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $WORK/backend; proxy_temp_path $WORK/backend;
  fastcgi_temp_path $WORK/backend; uwsgi_temp_path $WORK/backend; scgi_temp_path $WORK/backend;
  server { listen 127.0.0.1:$BACKEND; keepalive_requests 1000000;
    location / { client_body_buffer_size 64k; return 200 "ok\n"; } } }
EOF
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

"$NGINX" -c "$WORK/backend/nginx.conf" -p "$WORK/backend" & pids+=($!)
"$NGINX" -c "$WORK/proxy/nginx.conf" -p "$WORK/proxy" & pids+=($!)
"$BUILD/rampart" run -c "$WORK/rampart.yaml" & pids+=($!)
for port in $BACKEND $NGINX_PORT $RAMPART_PORT; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
done

# wrk scripts for the two requests of ../shared/bench.
lua_headers() {
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    name=${line%%:*}; value=${line#*: }
    value=${value//\\/\\\\}; value=${value//\"/\\\"}
    echo "wrk.headers[\"$name\"] = \"$value\""
  done < "$SHARED/browser.headers"
}
{
  echo 'wrk.method = "GET"'
  echo 'wrk.path = "/products/leather-running-shoes-48213?color=black&size=42&ref=newsletter"'
  lua_headers
} > "$WORK/get.lua"
{
  echo 'wrk.method = "POST"'
  echo 'wrk.path = "/contact"'
  lua_headers
  echo 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"'
  echo 'wrk.headers["Origin"] = "https://shop.example.com"'
  printf 'wrk.body = "%s"\n' "$(tr -d '\n' < "$SHARED/form.body" | sed 's/\\/\\\\/g; s/"/\\"/g')"
} > "$WORK/post.lua"

# Sanity: both proxies answer 200 through to the backend.
for port in $NGINX_PORT $RAMPART_PORT; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/products/x?y=1")
  [ "$code" = 200 ] || { echo "e2e: proxy on $port answered $code" >&2; exit 1; }
done

# wrk's --latency output -> "rps p50_ms p99_ms"
run_wrk() {
  local port=$1 script=$2
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$port" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx or 3xx/ { bad = $NF }
    END { printf "%s %.3f %.3f %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }'
}

printf '%-8s %-8s %12s %10s %10s %8s\n' request proxy "requests/s" "p50 ms" "p99 ms" non2xx
declare -A R
for req in get post; do
  for proxy in nginx rampart; do
    port=$NGINX_PORT; [ $proxy = rampart ] && port=$RAMPART_PORT
    read -r rps p50 p99 bad < <(run_wrk "$port" "$WORK/$req.lua")
    R[$req.$proxy]="$rps $p50 $p99"
    printf '%-8s %-8s %12.0f %10.3f %10.3f %8s\n' "$req" "$proxy" "$rps" "$p50" "$p99" "$bad"
  done
done
echo
for req in get post; do
  read -r n_rps n_p50 n_p99 <<< "${R[$req.nginx]}"
  read -r r_rps r_p50 r_p99 <<< "${R[$req.rampart]}"
  awk -v req="$req" -v nr="$n_rps" -v rr="$r_rps" -v n99="$n_p99" -v r99="$r_p99" -v n50="$n_p50" -v r50="$r_p50" \
    'BEGIN { printf "%s: rampart/nginx requests/s %.2f, p50 %.2f, p99 %.2f\n", toupper(req), rr/nr, r50/n50, r99/n99 }'
done
