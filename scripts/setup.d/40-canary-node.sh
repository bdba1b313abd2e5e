#!/usr/bin/env bash
# npm ci in tests/canary (run by scripts/setup.sh): @kubernetes-models/argo-rollouts and yaml for
# the canary examples' check (tests/canary/validate_examples.mjs), versions pinned in
# tests/canary/package-lock.json. Skipped when node_modules matches the lock file, or with
# OOMCAST_SKIP_NODE_TOOLS=1 (container image builds).
set -euo pipefail
if [ "${OOMCAST_SKIP_NODE_TOOLS:-0}" = 1 ]; then exit 0; fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR="$ROOT/tests/canary"
[ -f "$DIR/package-lock.json" ] || exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "setup.d/40-canary-node: npm not found; install nodejs and npm first (scripts/setup.sh)" >&2
  exit 1
fi
lock_sum=$(sha256sum "$DIR/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$DIR/node_modules/.oomcast-lock.sha256" 2>/dev/null || true)" != "$lock_sum" ]; then
  echo "setup.d/40-canary-node: npm ci in tests/canary"
  (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" > "$DIR/node_modules/.oomcast-lock.sha256"
fi
