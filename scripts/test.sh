#!/usr/bin/env bash
# Quick start, command 2: installs what is needed, builds, and runs every test.
# The last line printed is ctest's summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RAMPART_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 900 "$@"
