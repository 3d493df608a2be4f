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
  libcurl4-openssl-dev libzstd-dev
  # tests
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # the training run of the profile-guided build (scripts/pgo-train.sh)
  wrk
  curl python3 python3-yaml python3-boto3 python3-zstandard procps iproute2 netcat-openbsd redis-server openssl testssl.sh bsdextrautils dnsutils
)

# The object-store test servers (s3rver, Azurite) run on Node.js: Debian's
# nodejs and npm unless the machine has its own already.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then PKGS+=(nodejs npm); fi

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
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test servers from the npm registry, pinned: s3rver (S3, checks SigV4
# signatures) and Azurite (Azure Blob). Installed once per machine into
# RAMPART_NPM_DIR (the tests look there too).
NPM_DIR=${RAMPART_NPM_DIR:-$HOME/.cache/rampart/npm}
NPM_PKGS=(s3rver@3.7.1 azurite@3.35.0)
if [ "$(cat "$NPM_DIR/.installed" 2>/dev/null)" != "${NPM_PKGS[*]}" ]; then
  echo "install-deps: npm install ${NPM_PKGS[*]} into $NPM_DIR"
  mkdir -p "$NPM_DIR"
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error "${NPM_PKGS[@]}" >/dev/null
  echo "${NPM_PKGS[*]}" > "$NPM_DIR/.installed"
fi
