#!/usr/bin/env bash
# The README's first command: installs what oomcast needs (Debian 12), builds it, and runs the
# forecaster on the sample history shipped in data/sample/ (made by the project's own workload
# simulator): the forecast table at the end of the history, then a backtest of the whole
# history scored against the simulator's ground truth. No cluster, no TSDB needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BIN=build/predictor/oomcast-predictor
SAMPLE=data/sample/scenarios.om.gz
# The simulator's kernel kills when RSS reaches the limit (its working set adds page cache on
# top), so the sample is forecast on RSS; a real cluster uses the default, the working set.
echo
echo "== oomcast-predictor once --openmetrics $SAMPLE --memory-metric rss"
"$BIN" once --openmetrics "$SAMPLE" --memory-metric rss
echo
echo "== oomcast-predictor backtest --openmetrics $SAMPLE --truth data/sample/truth.json --memory-metric rss"
"$BIN" backtest --openmetrics "$SAMPLE" --truth data/sample/truth.json --memory-metric rss
