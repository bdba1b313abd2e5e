// Replay of recorded history through the canary comparison: the real Engine driven through a
// history-backed PrometheusClient (backtest.h's ReplayHistory: data up to t only, pod labels
// from the recorded kube_pod_labels as the live engine reads them), its forecasts at each step
// fed to a CanaryComparator as `serve` feeds its snapshot. One replay path for backtest, once
// and canary.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "oomcast/predictor/backtest.h"
#include "oomcast/predictor/canary.h"
#include "oomcast/predictor/history_client.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

// Replays what `client` holds (it answers as of `clock`) at every options.step_seconds from
// options.start_s to options.end_s (NaN: the data's first/last memory sample) and calls `sink`
// with the comparison's verdict after each step that has forecasts. InvalidArgument for a bad
// comparison or step; the replay's errors otherwise.
Status ReplayCanary(HistoryPrometheusClient* client, ReplayClock* clock,
                    const CanaryComparisonConfig& comparison, const BacktestOptions& options,
                    const std::function<void(const CanaryVerdict&)>& sink);

// `oomcast-predictor canary --openmetrics FILE --namespace NS --baseline SELECTOR
//  --canary SELECTOR [--eval-step 30s] [--config FILE] [-o json]`: replays the file (data up to
// t only at each step; pod labels from its kube_pod_labels series) and prints one JSON object
// per evaluation step (CanaryVerdictJson) to `out`. Tolerances are the defaults, or those of
// the config file's `canary:` entry with the same namespace and selectors; the engine's
// queries and model are the config's. `args` exclude the command name. Returns the exit code:
// 0, 1 (unreadable data), 2 (usage or configuration).
int RunCanaryCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace oomcast::predictor
