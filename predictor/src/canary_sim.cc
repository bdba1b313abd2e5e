#include "oomcast/predictor/canary_sim.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

namespace oomcast::predictor {
namespace {

// Uniform and normal draws from mt19937_64's raw output (its sequence is fixed by the standard;
// the <random> distributions are not, so they are not used).
class Draw {
 public:
  explicit Draw(uint64_t seed) : gen_(seed) {}
  double Uniform() { return static_cast<double>(gen_() >> 11) * (1.0 / 9007199254740992.0); }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  double Normal() {
    const double u1 = std::max(Uniform(), 1e-300);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * Uniform());
  }

 private:
  std::mt19937_64 gen_;
};

// One pod of the application. Fractions of the limit; seconds.
struct PodParams {
  double floor = 0;   // Heap floor after a collection.
  double peak = 0;    // Peak / floor of the sawtooth.
  double period = 0;  // GC period.
  double phase = 0;
};

}  // namespace

StatusOr<CanaryScenario> MakeCanaryScenario(const CanaryScenarioOptions& o) {
  if (!(o.history_s >= 0) || !(o.watch_s > 0) || !(o.step_s > 0) || o.baseline_pods <= 0 ||
      o.canary_pods <= 0) {
    return InvalidArgumentError("canary scenario: durations, step and pod counts must be > 0");
  }
  Draw rng(o.seed);
  CanaryScenario sc;
  sc.rollout_t = o.start_s + o.history_s;
  sc.end_t = sc.rollout_t + o.watch_s;
  // The application (same for every pod): a limit of 512 MiB to 4 GiB, a floor of 30-45 % of
  // it, a sawtooth 1.3-1.7x the floor with a 30-120 s GC period (the gc_stable family).
  const double limit =
      std::round(std::exp(rng.Uniform(std::log(512.0), std::log(4096.0)))) * 1048576.0;
  const double app_floor = rng.Uniform(0.3, 0.45);
  const double app_peak = rng.Uniform(1.3, 1.7);
  const double app_period = rng.Uniform(30, 120);
  const double noise = 0.004;  // Of the limit, per sample.
  const int n = o.baseline_pods + o.canary_pods;
  // A/A with a restart: one baseline pod restarts at a random time within the watch.
  const int restart_pod = o.regression == CanaryRegression::kBaselineRestart
                              ? static_cast<int>(rng.Uniform() * o.baseline_pods)
                              : -1;
  const double restart_t = sc.rollout_t + rng.Uniform(0.1, 0.8) * o.watch_s;
  const double restart_down_s = 20;  // No samples while the container restarts.
  for (int i = 0; i < n; ++i) {
    const bool is_canary = i >= o.baseline_pods;
    // Pods of one version differ a little: load balancing, data, timing.
    PodParams p;
    p.floor = app_floor * (1 + 0.03 * rng.Normal());
    p.peak = std::max(1.05, app_peak * (1 + 0.03 * rng.Normal()));
    p.period = app_period * rng.Uniform(0.8, 1.25);
    p.phase = rng.Uniform(0, 1);
    if (is_canary && o.regression == CanaryRegression::kPlateau) p.floor *= o.plateau_factor;
    if (is_canary && o.regression == CanaryRegression::kWiderSawtooth) {
      p.peak = 1 + (p.peak - 1) * o.sawtooth_factor;
    }
    char name[64];
    std::snprintf(name, sizeof name, "%s-%s-%d", o.app.c_str(), is_canary ? "canary" : "stable",
                  is_canary ? i - o.baseline_pods : i);
    std::vector<double> ts, bytes;
    const double pod_start = is_canary ? sc.rollout_t : o.start_s;
    double instance_start = pod_start - (is_canary ? 0 : rng.Uniform(3600, 7 * 86400));
    bool restarted = false;
    for (double t = pod_start; t <= sc.end_t + 1e-9; t += o.step_s) {
      if (i == restart_pod && !restarted && t >= restart_t) {
        if (t < restart_t + restart_down_s) continue;
        restarted = true;
        instance_start = t;
      }
      const double run = t - instance_start;
      double floor = p.floor;
      if (is_canary && o.regression == CanaryRegression::kLeak) {
        floor += o.leak_bytes_per_second * (t - sc.rollout_t) / limit;
      }
      const double cycle = run / p.period + p.phase;
      double v = floor * (1 + (p.peak - 1) * (cycle - std::floor(cycle)));
      // Start-up: the heap fills within the first minute of an instance.
      if (run < 60) v *= 0.6 + 0.4 * run / 60;
      v = std::min(1.0, std::max(0.01, v + noise * rng.Normal()));
      ts.push_back(t);
      bytes.push_back(std::round(v * limit));
    }
    const Labels container{{"namespace", o.namespace_name}, {"pod", name}, {"container", "app"}};
    const Labels pod_labels{{"namespace", o.namespace_name},
                            {"pod", name},
                            {"label_app", o.app},
                            {"label_track", is_canary ? "canary" : "stable"}};
    sc.series.push_back({"container_memory_working_set_bytes", container, ts, bytes});
    sc.series.push_back({"container_memory_rss", container, ts, bytes});
    sc.series.push_back({"container_spec_memory_limit_bytes", container, ts,
                         std::vector<double>(ts.size(), limit)});
    sc.series.push_back({"kube_pod_labels", pod_labels, ts, std::vector<double>(ts.size(), 1)});
  }
  return sc;
}

void WriteCanaryScenarioOpenMetrics(const CanaryScenario& sc, std::ostream& out) {
  char buf[64];
  // Series of one metric together (a metric family is written once).
  std::vector<const RecordedSeries*> sorted;
  for (const RecordedSeries& s : sc.series) sorted.push_back(&s);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->metric < b->metric; });
  std::string last_metric;
  for (const RecordedSeries* p : sorted) {
    const RecordedSeries& s = *p;
    if (s.metric != last_metric) out << "# TYPE " << s.metric << " gauge\n";
    last_metric = s.metric;
    std::string labels = "{";
    for (const auto& [k, v] : s.labels) {
      labels += (labels.size() > 1 ? "," : "") + k + "=\"" + v + "\"";
    }
    labels += "}";
    for (size_t i = 0; i < s.timestamps_s.size(); ++i) {
      std::snprintf(buf, sizeof buf, " %.0f %.3f\n", s.values[i], s.timestamps_s[i]);
      out << s.metric << labels << buf;
    }
  }
  out << "# EOF\n";
}

}  // namespace oomcast::predictor
