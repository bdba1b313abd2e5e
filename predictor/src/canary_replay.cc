#include "oomcast/predictor/canary_replay.h"

#include <algorithm>
#include <cmath>
#include <ostream>

#include "oomcast/predictor/config.h"
#include "oomcast/units.h"

namespace oomcast::predictor {

PodLabelHistory PodLabelsFromOpenMetrics(const OpenMetricsData& data, const std::string& metric) {
  PodLabelHistory out;
  for (const OpenMetricsSeries& s : data.series) {
    if (s.metric != metric || s.timestamps_s.empty()) continue;
    std::string ns, pod;
    auto labels = std::make_shared<std::map<std::string, std::string>>();
    for (const auto& [k, v] : s.labels) {
      if (k == "namespace")
        ns = v;
      else if (k == "pod")
        pod = v;
      else if (k.rfind("label_", 0) == 0 && k.size() > 6)
        (*labels)[k.substr(6)] = v;
    }
    if (ns.empty() || pod.empty()) continue;
    double first = *std::min_element(s.timestamps_s.begin(), s.timestamps_s.end());
    out[{ns, pod}].emplace_back(first, std::move(labels));
  }
  for (auto& [key, sets] : out) {
    std::stable_sort(sets.begin(), sets.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  return out;
}

PodLabelMap PodLabelsAt(const PodLabelHistory& labels, const std::string& namespace_name,
                        const std::string& pod, double t) {
  auto it = labels.find({namespace_name, pod});
  if (it == labels.end()) return nullptr;
  PodLabelMap found;
  for (const auto& [from, set] : it->second) {
    if (from > t) break;
    found = set;
  }
  return found;
}

Status ReplayCanary(const HistoryMap& history, const PodLabelHistory& labels,
                    const CanaryComparisonConfig& comparison, const BacktestOptions& options,
                    const std::function<void(const CanaryVerdict&)>& sink) {
  auto comparator = CanaryComparator::Create(comparison);
  if (!comparator.ok()) return comparator.status();
  // Only the comparison's namespace is replayed (the model of other pods is not needed).
  HistoryMap mine;
  for (const auto& [key, h] : history) {
    if (key.namespace_name == comparison.namespace_name) mine.emplace(key, h);
  }
  if (mine.empty()) {
    return NotFoundError("canary: no memory series in namespace " + comparison.namespace_name);
  }
  // ReplayHistory walks container by container; the comparison needs every container at each
  // step, so the forecasts are gathered by step first.
  std::map<double, std::vector<Forecast>> by_step;
  Status st = ReplayHistory(mine, options, [&](const BacktestRecord& r) {
    Forecast f;
    f.key = *r.key;
    f.t = r.t;
    const std::vector<double>& ts = mine.at(*r.key).t;
    auto newest = std::upper_bound(ts.begin(), ts.end(), r.t);
    f.last_sample_t = newest == ts.begin() ? 0 : *(newest - 1);
    f.rss_bytes = r.rss_bytes;
    f.limit_bytes = r.limit_bytes;
    f.growth_rate_bytes_per_second = r.growth_rate_bytes_per_second;
    f.acceleration_bytes_per_second2 = r.acceleration_bytes_per_second2;
    f.eta_seconds = r.eta_seconds;
    f.risk = r.risk;
    f.oom_predicted = r.oom_predicted;
    f.warming_up = r.warming_up;
    f.pod_labels = PodLabelsAt(labels, r.key->namespace_name, r.key->pod, r.t);
    by_step[r.t].push_back(std::move(f));
  });
  if (!st.ok()) return st;
  for (auto& [t, forecasts] : by_step) sink(comparator->Update(t, forecasts));
  return Status::Ok();
}

}  // namespace oomcast::predictor

namespace oomcast::predictor {

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
    } else if (name == "config") {
      auto loaded = LoadConfigFile(value, config);
      if (!loaded.ok()) return usage(loaded.status().message());
      config = *loaded;
    } else {
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
  auto metric = [](const std::string& selector) {
    return selector.substr(0, selector.find_first_of("{[ "));
  };
  const HistoryMap history = HistoryFromOpenMetrics(
      *data, metric(config.engine.queries.memory_query), metric(config.engine.queries.limit_query));
  const PodLabelHistory labels =
      PodLabelsFromOpenMetrics(*data, config.engine.queries.pod_labels_query.empty()
                                          ? std::string("kube_pod_labels")
                                          : metric(config.engine.queries.pod_labels_query));
  options.model = config.engine.model;
  Status st = ReplayCanary(history, labels, comparison, options, [&](const CanaryVerdict& v) {
    out << CanaryVerdictJson(comparison, v) << "\n";
  });
  if (!st.ok()) {
    err << "oomcast-predictor canary: " << path << ": " << st.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace oomcast::predictor
