#!/usr/bin/env bash
# Installs the npm packages of the Kubernetes API stand-in's schema validator
# (tests/support/kube_standin: kubernetes-models, js-yaml) from its package-lock.json.
# Idempotent: skipped when node_modules matches the lock file.
set -euo pipefail
DIR="$(cd "$(dirname "$0")/../.." && pwd)/tests/support/kube_standin"
cd "$DIR"
if [ -f node_modules/.package-lock.json ] && cmp -s <(sed -n '/"packages"/,$p' package-lock.json | grep -c '"version"') \
     <(sed -n '/"packages"/,$p' node_modules/.package-lock.json | grep -c '"version"') \
   && [ -d node_modules/kubernetes-models ]; then
  exit 0
fi
echo "setup: npm ci in tests/support/kube_standin"
npm ci --no-audit --no-fund --loglevel=error
