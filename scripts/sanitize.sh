#!/usr/bin/env bash
# Builds everything (the rampart binary, the unit tests, the benches' tools) with
# GCC's AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/ (or
# $RAMPART_BUILD_DIR), and runs every test there: the integration tests drive
# the sanitized gateway on loopback, so its connection, TLS, reload and WAF
# paths run under the checks. Any sanitizer report (written per process under
# the build directory's sanitizer-logs/) fails the run, even when the test that
# provoked it passed. (scripts/fuzz.sh builds the libFuzzer targets with clang.)
#
#   scripts/sanitize.sh                    # everything (~25 min cold on 2 cores, ~10 min of tests)
#   scripts/sanitize.sh -R integration     # extra arguments go to ctest
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RAMPART_BUILD_DIR:-$root/build-asan}
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
"$root/scripts/install-deps.sh"
RAMPART_BUILD_DIR=$build RAMPART_BUILD_TYPE=RelWithDebInfo "$root/scripts/build.sh" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
logs=$build/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"
cd "$build"
status=0
# RAMPART_SANITIZED: the tests leave out their resident-memory bounds (ASan's
# shadow memory and quarantine of freed blocks make RSS mean nothing).
RAMPART_SANITIZED=1 \
ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:abort_on_error=1" \
UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1" \
  ctest --output-on-failure -j"$(nproc)" --timeout 1800 "$@" || status=$?
if compgen -G "$logs/*" >/dev/null; then
  echo "sanitize: reports in $logs:" >&2
  for f in "$logs"/*; do echo "== $f" >&2; head -40 "$f" >&2; done
  status=1
fi
exit $status
