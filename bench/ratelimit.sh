#!/usr/bin/env bash
# The cost of rate limiting on the request path, in one run: the browser GET of
# ../shared/bench through rampart (one worker) to an nginx backend
#   none     no rate limit
#   local    a per-client limit that never triggers
#   global   a global (Redis) per-client limit that never triggers, with a
#            redis-server started here (sync every 100 ms)
# Prints requests/s and p99 for each, the ratios to `none`, and the Redis
# commands per second seen during the global run (INFO commandstats: the EVALs
# and PINGs the gateway sent) against the request rate.
#
#   bench/ratelimit.sh            # env: DURATION=5s (per run; 6 runs) CONNECTIONS=32 RAMPART_BUILD_DIR=build
#
# Everything binds 127.0.0.1; nginx and wrk are installed with apt-get only when
# missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${RAMPART_BUILD_DIR:-$root/build}
SHARED=${RAMPART_SHARED_BENCH:-$root/../shared/bench}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
WORK=$(mktemp -d /tmp/rampart-rlbench.XXXXXX)
source "$here/lib.sh"

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v redis-server >/dev/null || need+=(redis-server)
apt_install_missing ratelimit "${need[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BUILD/rampart" ] || { echo "ratelimit: build rampart first ($BUILD/rampart missing)" >&2; exit 1; }

BACKEND=$(free_port); REDIS=$(free_port)
declare -A PORT=([none]=$(free_port) [local]=$(free_port) [global]=$(free_port))
write_backend_nginx "$WORK/backend" "$BACKEND"
for kind in none local global; do
  case $kind in
    none) limits="" ;;
    local) limits="rate_limits: [ { name: never, key: [client_ip], rate: 10000000/s } ]" ;;
    global) limits="redis: { address: 127.0.0.1:$REDIS, replicas: 1, sync_interval: 100ms }
rate_limits: [ { name: never, key: [client_ip], rate: 10000000/s, scope: global } ]" ;;
  esac
  cat > "$WORK/$kind.yaml" <<YML
workers: 1
log: { level: warn, access: { enabled: false } }
$limits
listeners: [ { name: main, listen: ["127.0.0.1:${PORT[$kind]}"]$( [ "$kind" = none ] || echo ", rate_limits: [never]") } ]
routes: [ { name: app, pool: app } ]
pools: [ { name: app, endpoints: [ { address: "127.0.0.1:$BACKEND" } ], connections: { max_idle_per_endpoint: 128 } } ]
YML
done

redis-server --port "$REDIS" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >/dev/null & pids+=($!)
"$NGINX" -c "$WORK/backend/nginx.conf" -p "$WORK/backend" & pids+=($!)
for kind in none local global; do "$BUILD/rampart" run -c "$WORK/$kind.yaml" & pids+=($!); done
wait_ports "$REDIS" "$BACKEND" "${PORT[@]}"
write_wrk_scripts "$SHARED" "$WORK"

redis_calls() {
  redis-cli -p "$REDIS" INFO commandstats |
    awk -F'[=,:]' '/^cmdstat_(eval|ping):/ { n += $3 } END { print n + 0 }'
}

# Each kind runs twice, in the order none local global global local none, and
# the two runs are averaged: drift on a shared machine then hits all alike.
declare -A SUM_RPS SUM_P50 SUM_P99 BAD
REDIS_CALLS=0; GLOBAL_SECS=0
for kind in none local global global local none; do
  before=$(redis_calls)
  read -r rps p50 p99 bad < <(run_wrk "${PORT[$kind]}" "$WORK/get.lua")
  after=$(redis_calls)
  SUM_RPS[$kind]=$(awk -v a="${SUM_RPS[$kind]:-0}" -v b="$rps" 'BEGIN { print a + b }')
  SUM_P50[$kind]=$(awk -v a="${SUM_P50[$kind]:-0}" -v b="$p50" 'BEGIN { print a + b }')
  SUM_P99[$kind]=$(awk -v a="${SUM_P99[$kind]:-0}" -v b="$p99" 'BEGIN { print a + b }')
  BAD[$kind]=$(( ${BAD[$kind]:-0} + bad ))
  if [ "$kind" = global ]; then REDIS_CALLS=$((REDIS_CALLS + after - before)); GLOBAL_SECS=$((GLOBAL_SECS + ${DURATION%s})); fi
done
printf '%-7s %12s %10s %10s %8s\n' limit "requests/s" "p50 ms" "p99 ms" non2xx
declare -A R
for kind in none local global; do
  rps=$(awk -v a="${SUM_RPS[$kind]}" 'BEGIN { print a / 2 }')
  p50=$(awk -v a="${SUM_P50[$kind]}" 'BEGIN { print a / 2 }')
  p99=$(awk -v a="${SUM_P99[$kind]}" 'BEGIN { print a / 2 }')
  R[$kind]="$rps $p99"
  printf '%-7s %12.0f %10.3f %10.3f %8s\n' "$kind" "$rps" "$p50" "$p99" "${BAD[$kind]}"
done
read -r g_rps _ <<< "${R[global]}"
awk -v c="$REDIS_CALLS" -v s="$GLOBAL_SECS" -v r="$g_rps" \
  'BEGIN { printf "\nRedis during the global runs: %.1f commands/s for %.0f requests/s (%.5f per request)\n", c / s, r, c / s / r }'
echo
read -r n_rps n_p99 <<< "${R[none]}"
for kind in local global; do
  read -r rps p99 <<< "${R[$kind]}"
  awk -v k="$kind" -v r="$rps" -v nr="$n_rps" -v p="$p99" -v np="$n_p99" \
    'BEGIN { printf "%-6s / none: requests/s %.3fx (%.1f%% loss), p99 %.2fx\n", k, r / nr, (1 - r / nr) * 100, p / np }'
done
