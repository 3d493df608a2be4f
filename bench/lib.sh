# Shared by the bench scripts (sourced): ports, the wrk scripts of ../shared/bench, wrk runs.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_ports PORT...: until each accepts a connection (10 s at most each).
wait_ports() {
  local port
  for port in "$@"; do
    for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
  done
}

# write_wrk_scripts SHARED_DIR OUT_DIR: OUT_DIR/get.lua (the browser GET) and
# OUT_DIR/post.lua (the 1 KB form POST) with the browser's headers.
write_wrk_scripts() {
  local shared=$1 out=$2
  lua_headers() {
    local line name value
    while IFS= read -r line; do
      [ -z "$line" ] && continue
      name=${line%%:*}; value=${line#*: }
      value=${value//\\/\\\\}; value=${value//\"/\\\"}
      echo "wrk.headers[\"$name\"] = \"$value\""
    done < "$shared/browser.headers"
  }
  {
    echo 'wrk.method = "GET"'
    echo 'wrk.path = "/products/leather-running-shoes-48213?color=black&size=42&ref=newsletter"'
    lua_headers
  } > "$out/get.lua"
  {
    echo 'wrk.method = "POST"'
    echo 'wrk.path = "/contact"'
    lua_headers
    echo 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"'
    echo 'wrk.headers["Origin"] = "https://shop.example.com"'
    printf 'wrk.body = "%s"\n' "$(tr -d '\n' < "$shared/form.body" | sed 's/\\/\\\\/g; s/"/\\"/g')"
  } > "$out/post.lua"
}

# run_wrk PORT SCRIPT -> "rps p50_ms p99_ms non2xx" (env: CONNECTIONS, DURATION)
run_wrk() {
  local port=$1 script=$2
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$port" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx or 3xx/ { bad = $NF }
    END { printf "%s %.3f %.3f %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }'
}

# cpu_ticks PID: CPU time (user + system, in clock ticks) of the process and
# its children (nginx's workers), all threads included.
cpu_ticks() {
  local t=0 p
  for p in "$1" $(pgrep -P "$1"); do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}

# seconds DURATION: wrk's duration ("10s", "2m") in seconds.
seconds() { awk -v d="$1" 'BEGIN { n = d + 0; if (d ~ /m$/) n *= 60; if (d ~ /h$/) n *= 3600; print n }'; }

# apt_install_missing NAME PKG...: installs the packages with apt-get (only
# called with the ones found missing; nothing to do for an empty list).
apt_install_missing() {
  local name=$1; shift
  [ $# -gt 0 ] || return 0
  echo "$name: installing $*" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Processes started with `... & pids+=($!)` are killed, and $WORK removed, on exit.
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# write_backend_nginx DIR PORT: DIR/nginx.conf for the backend every proxy bench
# puts behind the proxies: one nginx worker answering 200 "ok" on 127.0.0.1:PORT.
write_backend_nginx() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $dir/nginx.pid; error_log $dir/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $dir; proxy_temp_path $dir;
  fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server { listen 127.0.0.1:$port; keepalive_requests 1000000;
    location / { client_body_buffer_size 64k; return 200 "ok\n"; } } }
NGX
}
