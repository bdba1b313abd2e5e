#include "oomcast/predictor/canary_replay.h"

#include <cmath>
#include <ostream>

#include "oomcast/predictor/config.h"
#include "oomcast/predictor/engine.h"
#include "oomcast/units.h"

namespace oomcast::predictor {

Status ReplayCanary(HistoryPrometheusClient* client, ReplayClock* clock,
                    const CanaryComparisonConfig& comparison, const BacktestOptions& options,
                    const std::function<void(const CanaryVerdict&)>& sink) {
  auto comparator = CanaryComparator::Create(comparison);
  if (!comparator.ok()) return comparator.status();
  BacktestOptions scoped = options;
  // Only the comparison's namespace is replayed: the models of other pods are not needed.
  scoped.engine.queries.namespaces = {comparison.namespace_name};
  // ReplayHistory hands over the forecasts of one step after another: a step is complete when
  // the next one's first forecast arrives (and at the end).
  std::vector<Forecast> step;
  double step_t = kNaN;
  auto flush = [&]() {
    if (step.empty()) return;
    sink(comparator->Update(step_t, step));
    step.clear();
  };
  Status st = ReplayHistory(client, clock, scoped, [&](const Forecast& f) {
    if (f.t != step_t) {
      flush();
      step_t = f.t;
    }
    step.push_back(f);
  });
  if (!st.ok()) return st.WithContext("canary " + comparison.name);
  flush();
  return Status::Ok();
}

int RunCanaryCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto usage = [&](const std::string& msg) {
    err << "oomcast-predictor canary: " << msg
        << "\nusage: oomcast-predictor canary --openmetrics FILE --namespace NS --baseline "
           "SELECTOR --canary SELECTOR [--eval-step 30s] [--config FILE] [-o json]\n";
    return 2;
  };
  auto parsed = ParseArgs(args, nullptr);
  if (!parsed.ok()) return usage(parsed.status().message());
  if (!parsed->positional.empty()) {
    return usage("unexpected argument \"" + parsed->positional[0] + "\"");
  }
  PredictorConfig config;
  for (const auto& [name, value] : parsed->flags) {
    if (name != "config") continue;
    auto loaded = LoadConfigFile(value, config);
    if (!loaded.ok()) return usage(loaded.status().message());
    config = *loaded;
  }
  CanaryComparisonConfig comparison;
  comparison.name = "replay";
  std::string path;
  BacktestOptions options;
  options.step_seconds = 30;
  for (const auto& [name, value] : parsed->flags) {
    if (name == "openmetrics") {
      path = value;
    } else if (name == "namespace") {
      comparison.namespace_name = value;
    } else if (name == "baseline") {
      comparison.baseline_selector = value;
    } else if (name == "canary") {
      comparison.canary_selector = value;
    } else if (name == "eval-step") {
      auto d = ParseDurationSeconds(value);
      if (!d.ok() || !(*d > 0)) return usage("--eval-step: must be a positive duration");
      options.step_seconds = *d;
    } else if (name == "output") {
      if (value != "json") return usage("-o: only json is supported, got \"" + value + "\"");
    } else if (name != "config") {
      return usage("unknown flag --" + name);
    }
  }
  if (path.empty() || comparison.namespace_name.empty() || comparison.baseline_selector.empty() ||
      comparison.canary_selector.empty()) {
    return usage("--openmetrics, --namespace, --baseline and --canary are required");
  }
  for (const auto& c : config.canary) {
    if (c.namespace_name == comparison.namespace_name &&
        c.baseline_selector == comparison.baseline_selector &&
        c.canary_selector == comparison.canary_selector) {
      comparison.name = c.name;
      comparison.tolerances = c.tolerances;
    }
  }
  Status valid = ValidateCanaryComparison(comparison, "canary");
  if (!valid.ok()) return usage(valid.message());
  auto data = ReadOpenMetricsFile(path);
  if (!data.ok()) {
    err << "oomcast-predictor canary: " << data.status().ToString() << "\n";
    return data.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (config.engine.queries.pod_labels_query.empty()) {
    return usage("queries: pod labels are off, but the comparison selects pods by label");
  }
  ReplayClock clock;
  HistoryPrometheusClient client(RecordedFromOpenMetrics(std::move(*data)), &clock,
                                 PredictorLabels());
  options.engine = config.engine;
  Status st = ReplayCanary(&client, &clock, comparison, options, [&](const CanaryVerdict& v) {
    out << CanaryVerdictJson(comparison, v) << "\n";
  });
  if (!st.ok()) {
    err << "oomcast-predictor canary: " << path << ": " << st.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace oomcast::predictor
