#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cc) with clang, ASan and UBSan
# into build-fuzz/, and runs each for SECONDS (default 60) on its seed corpus
# (tests/fuzz/corpus/<name without fuzz_>/, copied to a scratch dir so the
# repository's seeds stay as they are). Crashes are written to build-fuzz/artifacts/.
#
#   scripts/fuzz.sh                    # every target, 60 s each
#   SECONDS_EACH=600 scripts/fuzz.sh fuzz_seclang fuzz_body_multipart
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RAMPART_FUZZ_BUILD_DIR:-$root/build-fuzz}
each=${SECONDS_EACH:-60}
"$root/scripts/install-deps.sh"
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAMPART_FUZZ=ON -DRAMPART_TESTS=ON \
  -DRAMPART_BENCH=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/tests/fuzz/fuzz_*.cc; do targets+=("$(basename "$f" .cc)"); done
fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
  seeds="$root/tests/fuzz/corpus/${t#fuzz_}"
  work="$build/corpus/${t#fuzz_}"
  mkdir -p "$work"
  [ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  echo "== $t: ${each}s"
  if ! "$build/tests/fuzz/$t" -max_total_time="$each" -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
      "$work" 2>"$build/$t.log"; then
    echo "   FOUND A CRASH: see $build/$t.log and $build/artifacts/"
    status=1
  fi
  grep -E "stat::number_of_executed_units|cov:" "$build/$t.log" | tail -2 | sed 's/^/   /'
done
exit $status
