// Replay of recorded history through the canary comparison: the forecasts the live predictor
// would have had at each evaluation step (backtest.h's ReplayHistory, data up to t only), with
// the pod labels known at t, fed to a CanaryComparator.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "oomcast/predictor/backtest.h"
#include "oomcast/predictor/canary.h"
#include "oomcast/predictor/openmetrics.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

using PodLabelMap = std::shared_ptr<const std::map<std::string, std::string>>;
// Per (namespace, pod): label sets with the time (Unix s) from which each holds, sorted by time.
using PodLabelHistory =
    std::map<std::pair<std::string, std::string>, std::vector<std::pair<double, PodLabelMap>>>;

// kube-state-metrics' kube_pod_labels series of `data` (labels namespace, pod and label_<name>;
// a label label_<name> becomes pod label <name>), each holding from its first sample.
PodLabelHistory PodLabelsFromOpenMetrics(const OpenMetricsData& data,
                                         const std::string& metric = "kube_pod_labels");

// The labels of (namespace, pod) at `t`: the newest set holding at or before t; null if none.
PodLabelMap PodLabelsAt(const PodLabelHistory& labels, const std::string& namespace_name,
                        const std::string& pod, double t);

// Replays `history` at every `options.step_seconds` from options.start_s to options.end_s
// (NaN: the data's first/last sample) and calls `sink` with the comparison's verdict after each
// step. InvalidArgument for a bad comparison or step.
Status ReplayCanary(const HistoryMap& history, const PodLabelHistory& labels,
                    const CanaryComparisonConfig& comparison, const BacktestOptions& options,
                    const std::function<void(const CanaryVerdict&)>& sink);

}  // namespace oomcast::predictor

namespace oomcast::predictor {

// `oomcast-predictor canary --openmetrics FILE --namespace NS --baseline SELECTOR
//  --canary SELECTOR [--eval-step 30s] [--config FILE] [-o json]`: replays the file (data up to
// t only at each step; pod labels from its kube_pod_labels series) and prints one JSON object
// per evaluation step (CanaryVerdictJson) to `out`. Tolerances are the defaults, or those of
// the config file's `canary:` entry with the same namespace and selectors. `args` exclude the
// command name. Returns the exit code: 0, 1 (unreadable data), 2 (usage or configuration).
int RunCanaryCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace oomcast::predictor
