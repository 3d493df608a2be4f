#!/usr/bin/env bash
# Quick start, command 1: installs what is needed, builds, and runs the gateway
# in the foreground on conf/rampart.yaml (or the config given as $1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
exec "${RAMPART_BUILD_DIR:-$root/build}/rampart" run -c "${1:-$root/conf/rampart.yaml}"
