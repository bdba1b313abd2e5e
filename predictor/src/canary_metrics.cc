#include "oomcast/predictor/canary_metrics.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <cmath>

namespace oomcast::predictor {

StatusOr<std::unique_ptr<CanaryMonitor>> CanaryMonitor::Create(
    const std::vector<CanaryComparisonConfig>& comparisons) {
  std::unique_ptr<CanaryMonitor> m(new CanaryMonitor());
  for (const auto& c : comparisons) {
    auto comparator = CanaryComparator::Create(c);
    if (!comparator.ok()) return comparator.status();
    m->comparators_.push_back(std::move(*comparator));
  }
  return m;
}

void CanaryMonitor::Update(double now, const ForecastSnapshot& snapshot) {
  // The list is fixed at Create: with no comparisons configured (the default) nothing is copied,
  // so the adapter's and serve's cycle pays nothing for the canary monitor.
  if (comparators_.empty() || snapshot.Stale(now)) return;
  // The comparison reads samples, not fits: containers the engine withholds while their model
  // warms up count too (marked warming_up; the growth uses them, the level and spread wait).
  std::vector<Forecast> all = *snapshot.forecasts;
  if (snapshot.withheld_warming_up) {
    all.insert(all.end(), snapshot.withheld_warming_up->begin(),
               snapshot.withheld_warming_up->end());
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : comparators_) c.Update(now, all);
}

std::vector<CanaryVerdict> CanaryMonitor::Verdicts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CanaryVerdict> out;
  for (const auto& c : comparators_) out.push_back(c.verdict());
  return out;
}

std::string CanaryMonitor::Render() const {
  using prometheus::ClientMetric;
  using prometheus::MetricFamily;
  using prometheus::MetricType;
  std::lock_guard<std::mutex> lock(mu_);
  if (comparators_.empty()) return "";
  MetricFamily verdict{"memory_canary_verdict",
                       "Verdict of a canary memory comparison: 1 for the current verdict.",
                       MetricType::Gauge,
                       {}};
  MetricFamily p_value{"memory_canary_p_value",
                       "Smallest sequentially adjusted p-value of the last look (vs alpha).",
                       MetricType::Gauge,
                       {}};
  MetricFamily effect{"memory_canary_effect",
                      "Canary vs baseline: level and spread as ratio - 1, growth in bytes/s.",
                      MetricType::Gauge,
                      {}};
  MetricFamily failed{"memory_canary_failed",
                      "1 for the aspect that failed the comparison's watch (present on fail only).",
                      MetricType::Gauge,
                      {}};
  auto gauge = [](std::vector<ClientMetric::Label> labels, double v) {
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = v;
    return m;
  };
  for (const auto& c : comparators_) {
    const CanaryVerdict& v = c.verdict();
    const std::string ns = c.config().namespace_name, name = c.config().name;
    for (auto kind :
         {CanaryVerdictKind::kPass, CanaryVerdictKind::kFail, CanaryVerdictKind::kInconclusive}) {
      verdict.metric.push_back(
          gauge({{"namespace", ns}, {"canary", name}, {"verdict", CanaryVerdictName(kind)}},
                v.verdict == kind ? 1 : 0));
    }
    if (std::isfinite(v.p_value)) {
      p_value.metric.push_back(gauge({{"namespace", ns}, {"canary", name}}, v.p_value));
    }
    if (v.verdict == CanaryVerdictKind::kFail && v.failed_aspect >= 0) {
      failed.metric.push_back(gauge(
          {{"namespace", ns}, {"canary", name}, {"aspect", CanaryAspectName(v.failed_aspect)}}, 1));
    }
    for (size_t a = 0; a < kCanaryAspects; ++a) {
      if (!std::isfinite(v.aspects[a].effect)) continue;
      effect.metric.push_back(
          gauge({{"namespace", ns}, {"canary", name}, {"aspect", CanaryAspectName(a)}},
                v.aspects[a].effect));
    }
  }
  return prometheus::TextSerializer().Serialize({verdict, p_value, effect, failed});
}

}  // namespace oomcast::predictor
