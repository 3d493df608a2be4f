#!/usr/bin/env bash
# Configures and builds Rampart with CMake + Ninja into build/ (or $RAMPART_BUILD_DIR).
# Usage: scripts/build.sh [extra cmake args...]
# A Release build (the default) is profile-guided: an instrumented rampart is
# built in BUILD/pgo-generate, trained by scripts/pgo-train.sh, and BUILD is
# then compiled with its profile (BUILD/pgo-profile). RAMPART_PGO=0 skips it
# (a plain build; quicker after a small change, as every module is compiled
# again with each new profile); sanitizer and fuzzing builds never use it. A
# training that fails is reported and the build goes on without a profile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RAMPART_BUILD_DIR:-$root/build}
type=${RAMPART_BUILD_TYPE:-Release}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Paths relative to the checkout, so a fresh clone elsewhere reuses the cache.
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1

pgo=${RAMPART_PGO:-1}
if [ "$type" != Release ] || [[ " $* " == *SANITIZE=ON* || " $* " == *TSAN=ON* || " $* " == *FUZZ=ON* ]] ||
   ! "${CXX:-c++}" --version 2>/dev/null | grep -q 'Free Software Foundation'; then  # GCC only
  pgo=0
fi

pgo_args=(-DRAMPART_PGO=OFF)
if [ "$pgo" = 1 ]; then
  gen=$build/pgo-generate
  profile=$build/pgo-profile
  cmake -S "$root" -B "$gen" -G Ninja -DCMAKE_BUILD_TYPE="$type" -DRAMPART_TESTS=OFF -DRAMPART_BENCH=OFF \
    -DRAMPART_PGO=GENERATE -DRAMPART_PGO_DIR="$gen/counts" "$@" >/dev/null
  echo "build: the instrumented rampart ($gen)"
  cmake --build "$gen" -j"$(nproc)" --target rampart
  # Trained again only when the instrumented binary changed.
  if [ ! -f "$profile/id" ] || [ "$gen/rampart" -nt "$profile/id" ]; then
    rm -rf "$gen/counts" "$profile"
    echo "build: training ($root/scripts/pgo-train.sh)"
    if "$root/scripts/pgo-train.sh" "$gen/rampart" && [ -d "$gen/counts" ]; then
      mv "$gen/counts" "$profile"
      find "$profile" -name '*.gcda' -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-12 > "$profile/id"
    else
      echo "build: WARNING: the training failed; building without a profile (RAMPART_PGO=0 to skip it)" >&2
    fi
  fi
  if [ -f "$profile/id" ]; then
    pgo_args=(-DRAMPART_PGO=USE -DRAMPART_PGO_DIR="$profile" -DRAMPART_PGO_ID="$(cat "$profile/id")")
    echo "build: profile-guided, profile $(cat "$profile/id")"
  fi
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" "${pgo_args[@]}" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
