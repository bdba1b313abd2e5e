#!/usr/bin/env bash
# Installs every build, test and run dependency of oomcast on Debian 12, idempotently, then
# builds the project into ./build. Safe to run again: installed packages are skipped.
#
#   scripts/setup.sh            install + configure + build
#   scripts/setup.sh --deps     install only
#
# Everything comes from Debian's and npm's registries; nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  # build
  build-essential cmake pkg-config git ca-certificates
  prometheus-cpp-dev nlohmann-json3-dev libyaml-cpp-dev libboost-all-dev
  libssl-dev zlib1g-dev catch2
  # fuzzing (libFuzzer) and sanitizers
  clang libclang-rt-14-dev
  # test and demo services, clients and tools
  prometheus victoria-metrics wrk curl unzip gzip openssl procps iproute2 python3 python3-numpy
  # a real headless browser for the backtest's HTML report test
  chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # A match anywhere (a multi-arch package prints one status per architecture); no pipe into
  # grep -q, which under pipefail can fail the check with SIGPIPE.
  case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" in
    *"install ok installed"*) ;;
    *) missing+=("$p") ;;
  esac
done
# Node.js and npm: any Node >= 18 will do; Debian 12's nodejs + npm when there is none.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm trusts its own CA list; also trust the system's (corporate or proxy CAs installed with
# update-ca-certificates), as curl and apt do.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

# Work streams add their own steps (npm tools, helm, kubectl) as scripts/setup.d/*.sh.
for f in "$ROOT"/scripts/setup.d/*.sh; do
  [ -e "$f" ] || continue
  bash "$f"
done

if [ "${1:-}" = "--deps" ]; then exit 0; fi

JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build" -j"$JOBS"
