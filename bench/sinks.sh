#!/usr/bin/env bash
# The cost of shipping every access record to an object store, in one run: the
# browser GET of ../shared/bench through rampart (one worker) to an nginx backend
#   off   access logging off
#   s3    every request's access record batched (zstd) and uploaded to an S3
#         sink (s3rver started here, from scripts/install-deps.sh's npm dir)
# Prints requests/s, p99 and rampart's CPU time per request (all its threads)
# for each, the ratios, records shipped per second and bytes per record after
# compression (from the gateway's /metrics), and where the CPU went per request:
# rampart's threads by name (worker-0, log-access, sink-s3...) and s3rver. On a
# 2-core machine wrk, the backend, s3rver and rampart share the cores, so
# requests/s moves with everything else running there; the CPU per request is
# rampart's own cost.
#
#   bench/sinks.sh            # env: DURATION=4s (per run) PAIRS=4 (off/s3 pairs) CONNECTIONS=32 RAMPART_BUILD_DIR=build
#                             #      BATCH="{ max_age: 10s }" (the sink's batch settings; sizes: the defaults)
#
# Everything binds 127.0.0.1; nginx and wrk are installed with apt-get only when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${RAMPART_BUILD_DIR:-$root/build}
SHARED=${RAMPART_SHARED_BENCH:-$root/../shared/bench}
DURATION=${DURATION:-4s}
CONNECTIONS=${CONNECTIONS:-32}
BATCH=${BATCH:-"{ max_age: 10s }"}
NPM_DIR=${RAMPART_NPM_DIR:-$HOME/.cache/rampart/npm}
WORK=$(mktemp -d /tmp/rampart-sinkbench.XXXXXX)
source "$here/lib.sh"

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
apt_install_missing sinks "${need[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BUILD/rampart" ] || { echo "sinks: build rampart first ($BUILD/rampart missing)" >&2; exit 1; }
[ -x "$NPM_DIR/node_modules/.bin/s3rver" ] || { echo "sinks: run scripts/install-deps.sh first (s3rver)" >&2; exit 1; }

BACKEND=$(free_port); S3=$(free_port); ADMIN=$(free_port)
declare -A PORT=([off]=$(free_port) [s3]=$(free_port))
mkdir -p "$WORK/s3" "$WORK/spool"
write_backend_nginx "$WORK/backend" "$BACKEND"
for kind in off s3; do
  sinks=""
  admin=""
  if [ "$kind" = s3 ]; then
    admin="admin: { listen: 127.0.0.1:$ADMIN }"
    sinks="sinks:
  - { name: s3, type: s3, bucket: logs, endpoint: 'http://127.0.0.1:$S3', addressing: path, access_key_id: S3RVER,
      secret_access_key: S3RVER, streams: [access], batch: $BATCH,
      spool: { path: '$WORK/spool' } }"
  fi
  cat > "$WORK/$kind.yaml" <<YML
workers: 1
$admin
log: { level: warn, access: { enabled: false } }
$sinks
listeners: [ { name: main, listen: ["127.0.0.1:${PORT[$kind]}"] } ]
routes: [ { name: app, pool: app } ]
pools: [ { name: app, endpoints: [ { address: "127.0.0.1:$BACKEND" } ], connections: { max_idle_per_endpoint: 128 } } ]
YML
done

"$NPM_DIR/node_modules/.bin/s3rver" -d "$WORK/s3" -a 127.0.0.1 -p "$S3" --silent --configure-bucket logs >/dev/null 2>&1 & pids+=($!)
S3PID=$!
"$NGINX" -c "$WORK/backend/nginx.conf" -p "$WORK/backend" & pids+=($!)
declare -A RPID
for kind in off s3; do "$BUILD/rampart" run -c "$WORK/$kind.yaml" & pids+=($!); RPID[$kind]=$!; done
wait_ports "$S3" "$BACKEND" "$ADMIN" "${PORT[@]}"
write_wrk_scripts "$SHARED" "$WORK"

sink_metric() {
  curl -s "http://127.0.0.1:$ADMIN/metrics" | awk -v m="$1" '$1 ~ "^"m"[{ ]" || $1 == m { n += $2 } END { printf "%.0f\n", n }'
}

# CPU time (ns) of every thread of a process so far: what rampart spends per
# request, a steadier figure than requests/s on a shared machine.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ n += $1 } END { printf "%.0f\n", n }'; }
# The same by thread name ("worker-0", "log-access", "sink-s3"), one "name ns" line each.
thread_cpu() {
  for t in /proc/"$1"/task/*; do
    printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" "$(awk '{ print $1 }' "$t/schedstat" 2>/dev/null)"
  done | awk 'NF == 2 { n[$1] += $2 } END { for (k in n) printf "%s %.0f\n", k, n[k] }'
}
declare -A THR

# PAIRS pairs of runs, in the order off s3 s3 off off s3 ... (each pair's order
# alternates, so drift on the machine falls on both); sums give the ratio, each
# pair's own ratio shows the spread.
PAIRS=${PAIRS:-4}
declare -A SUM_RPS SUM_P99 BAD SUM_REQ SUM_CPU
S3_SECS=0
PAIR_RATIOS=()
order=()
for ((i = 0; i < PAIRS; i++)); do
  if ((i % 2 == 0)); then order+=(off s3); else order+=(s3 off); fi
done
declare -A LAST
for kind in "${order[@]}"; do
  c0=$(cpu_ns "${RPID[$kind]}")
  t0=$(thread_cpu "${RPID[$kind]}"; echo "s3rver $(cpu_ns "$S3PID")")
  read -r rps p50 p99 bad < <(run_wrk "${PORT[$kind]}" "$WORK/get.lua")
  c1=$(cpu_ns "${RPID[$kind]}")
  while read -r name ns; do THR[$kind $name]=$(( ${THR[$kind $name]:-0} + ns ))
  done < <(awk 'NR == FNR { a[$1] = $2; next } { printf "%s %.0f\n", $1, $2 - a[$1] }' <(echo "$t0") \
             <(thread_cpu "${RPID[$kind]}"; echo "s3rver $(cpu_ns "$S3PID")"))
  SUM_RPS[$kind]=$(awk -v a="${SUM_RPS[$kind]:-0}" -v b="$rps" 'BEGIN { print a + b }')
  SUM_P99[$kind]=$(awk -v a="${SUM_P99[$kind]:-0}" -v b="$p99" 'BEGIN { print a + b }')
  SUM_REQ[$kind]=$(awk -v a="${SUM_REQ[$kind]:-0}" -v b="$rps" -v d="${DURATION%s}" 'BEGIN { print a + b * d }')
  SUM_CPU[$kind]=$(awk -v a="${SUM_CPU[$kind]:-0}" -v b="$((c1 - c0))" 'BEGIN { print a + b }')
  BAD[$kind]=$(( ${BAD[$kind]:-0} + bad ))
  LAST[$kind]=$rps
  [ "$kind" = s3 ] && S3_SECS=$((S3_SECS + ${DURATION%s}))
  if [ -n "${LAST[off]:-}" ] && [ -n "${LAST[s3]:-}" ]; then
    PAIR_RATIOS+=("$(awk -v a="${LAST[s3]}" -v b="${LAST[off]}" 'BEGIN { printf "%.3f", a / b }')")
    LAST=()
  fi
done
# The last batches: wait (bounded) until every enqueued record is stored.
for _ in $(seq 150); do
  [ "$(sink_metric rampart_sink_records_shipped_total)" = "$(sink_metric rampart_sink_records_enqueued_total)" ] && break
  sleep 0.2
done
enq=$(sink_metric rampart_sink_records_enqueued_total)
shipped=$(sink_metric rampart_sink_records_shipped_total)
dropped=$(sink_metric rampart_sink_records_dropped_total)
bytes=$(sink_metric rampart_sink_bytes_total)
raw=$(sink_metric rampart_sink_raw_bytes_total)
batches=$(sink_metric rampart_sink_batches_total)

printf '%-5s %12s %10s %16s %8s\n' log "requests/s" "p99 ms" "rampart us/req" non2xx
for kind in off s3; do
  printf '%-5s %12.0f %10.3f %16.2f %8s\n' "$kind" "$(awk -v a="${SUM_RPS[$kind]}" -v n="$PAIRS" 'BEGIN { print a / n }')" \
    "$(awk -v a="${SUM_P99[$kind]}" -v n="$PAIRS" 'BEGIN { print a / n }')" \
    "$(awk -v c="${SUM_CPU[$kind]}" -v r="${SUM_REQ[$kind]}" 'BEGIN { print c / 1000 / r }')" "${BAD[$kind]}"
done
echo
awk -v e="$enq" -v s="$shipped" -v d="$dropped" -v b="$bytes" -v r="$raw" -v n="$batches" -v t="$S3_SECS" \
  'BEGIN { printf "sink: %d records enqueued, %d shipped, %d dropped, in %d batches; %.0f records/s shipped over the s3 runs;\n      %.1f bytes per record stored (%.1f raw, zstd %.1fx)\n", e, s, d, n, s / t, b / s, r / s, r / b }'
# Where the CPU went, per request: rampart's threads by name, and s3rver.
for kind in off s3; do
  for key in "${!THR[@]}"; do if [ "${key%% *}" = "$kind" ]; then echo "${key#* } ${THR[$key]}"; fi; done | sort -k2,2nr |
    awk -v r="${SUM_REQ[$kind]}" -v k="$kind" '$2 > 0 { line = line sprintf("%s%s %.2f", line != "" ? ", " : "", $1, $2 / 1000 / r) }
                                                END { printf "%-5s CPU us/req by thread: %s\n", k, line }'
done
awk -v r="${SUM_RPS[s3]}" -v nr="${SUM_RPS[off]}" -v p="${SUM_P99[s3]}" -v np="${SUM_P99[off]}" -v pr="${PAIR_RATIOS[*]}" \
  -v c="${SUM_CPU[s3]}" -v cr="${SUM_REQ[s3]}" -v nc="${SUM_CPU[off]}" -v ncr="${SUM_REQ[off]}" \
  'BEGIN { n = split(pr, q, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (q[j] < q[i]) { t = q[i]; q[i] = q[j]; q[j] = t }
           med = n % 2 ? q[(n + 1) / 2] : (q[n / 2] + q[n / 2 + 1]) / 2
           printf "s3 / off: requests/s %.3fx (%.1f%% loss; pairs: %s; median pair %.3fx), p99 %.2fx, rampart CPU per request %.3fx\n", r / nr, (1 - r / nr) * 100, pr, med, p / np, (c / cr) / (nc / ncr) }'
