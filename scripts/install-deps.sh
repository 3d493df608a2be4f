#!/usr/bin/env bash
# Installs every Debian 12 package Rampart needs to build, run and test.
# Idempotent: packages already present are left alone; apt-get update runs once
# per invocation, and only when something is missing.
set -euo pipefail

PKGS=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang lld
  # libraries (DESIGN.md "Dependencies")
  libboost1.81-dev libboost-url1.81-dev libssl-dev openssl
  libhyperscan-dev libre2-dev libpcre2-dev libyaml-cpp-dev
  libspdlog-dev libfmt-dev libsimdjson-dev libxml2-dev zlib1g-dev libhiredis-dev
  # tests
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  curl python3 python3-yaml procps iproute2 netcat-openbsd redis-server openssl testssl.sh bsdextrautils dnsutils
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
