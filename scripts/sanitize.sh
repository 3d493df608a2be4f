#!/usr/bin/env bash
# Builds everything (the rampart binary, the unit tests, the benches' tools)
# with the sanitizers and runs every test against that build: the integration
# tests drive the sanitized gateway on loopback, so its connection, TLS,
# reload and WAF paths run under the checks. Any sanitizer report (written per
# process under the build directory's sanitizer-logs/) fails the run, even
# when the test that provoked it passed. (scripts/fuzz.sh builds the libFuzzer
# targets with clang.)
#
#   scripts/sanitize.sh                          # ASan + UBSan (-DRAMPART_SANITIZE=ON) in build-asan/
#   RAMPART_SANITIZER=thread scripts/sanitize.sh # ThreadSanitizer (-DRAMPART_TSAN=ON) in build-tsan/
#   scripts/sanitize.sh -R integration           # extra arguments go to ctest
#
# A cold build takes ~25 min on 2 cores, the tests ~10 min more.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${RAMPART_SANITIZER:-address}
case $kind in
  address) build=${RAMPART_BUILD_DIR:-$root/build-asan}; option=-DRAMPART_SANITIZE=ON ;;
  thread) build=${RAMPART_BUILD_DIR:-$root/build-tsan}; option=-DRAMPART_TSAN=ON ;;
  *) echo "sanitize: RAMPART_SANITIZER is address or thread, not '$kind'" >&2; exit 2 ;;
esac
"$root/scripts/install-deps.sh"
RAMPART_BUILD_DIR=$build RAMPART_BUILD_TYPE=RelWithDebInfo "$root/scripts/build.sh" "$option"
logs=$build/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"
cd "$build"
status=0
# RAMPART_SANITIZED: the tests leave out their resident-memory bounds (the
# sanitizers' shadow memory and allocators make RSS mean nothing).
RAMPART_SANITIZED=1 \
ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:abort_on_error=1" \
UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1" \
TSAN_OPTIONS="log_path=$logs/tsan:second_deadlock_stack=1" \
  ctest --output-on-failure -j"$(nproc)" --timeout 1800 "$@" || status=$?
if compgen -G "$logs/*" >/dev/null; then
  echo "sanitize: reports in $logs:" >&2
  for f in "$logs"/*; do echo "== $f" >&2; head -60 "$f" >&2; done
  status=1
fi
exit $status
