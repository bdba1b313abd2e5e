#!/usr/bin/env bash
# Installs the npm packages of the Kubernetes API stand-in's schema validator
# (tests/support/kube_standin: kubernetes-models, js-yaml) from its package-lock.json.
# Idempotent: skipped when node_modules matches the lock file.
set -euo pipefail
DIR="$(cd "$(dirname "$0")/../.." && pwd)/tests/support/kube_standin"
cd "$DIR"
if [ -d node_modules/kubernetes-models ] && [ -d node_modules/js-yaml ] \
   && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
echo "setup: npm ci in tests/support/kube_standin"
npm ci --no-audit --no-fund --loglevel=error
