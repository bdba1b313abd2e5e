#!/usr/bin/env bash
# The README's second command: installs every dependency (Debian 12 packages, npm tools, helm,
# kubectl), builds everything, and runs the whole test suite with CTest: unit, integration
# (real Prometheus and VictoriaMetrics on loopback), chart validation, fuzzing (bounded) and
# end-to-end tests (the kernel's OOM killer in memory cgroups).
#
#   scripts/test.sh              everything
#   scripts/test.sh -L unit      extra arguments go to ctest (here: only unit tests)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
JOBS=$(nproc 2>/dev/null || echo 2)
cd build
exec ctest --output-on-failure -j"$JOBS" "$@"
