// Prometheus exposition of the forecasts and of the engine's self-metrics.
//
// Per container (labels namespace, pod, container):
//   memory_growth_rate_bytes_per_second, memory_growth_acceleration_bytes_per_second2,
//   memory_oom_eta_seconds (+Inf when no crossing is forecast; absent without a limit),
//   memory_oom_risk (0..1).
// Self-metrics, prefixed oomcast_: cycle duration histogram, cycles, series tracked, samples
// ingested/rejected, query errors by backend and reason, last successful cycle timestamp,
// forecast age, build info. Stale forecasts are not exported (absent, never "safe").
#pragma once

#include <memory>
#include <string>

#include "oomcast/clock.h"
#include "oomcast/predictor/engine.h"

namespace oomcast::predictor {

// Thread-safe.
class MetricsExporter {
 public:
  // `engine` and `clock` must outlive the exporter.
  MetricsExporter(const Engine* engine, const Clock* clock);
  ~MetricsExporter();

  // Records one cycle's duration (seconds) and result.
  void ObserveCycle(double seconds, const Status& result);

  // Text exposition format 0.0.4 of everything above.
  std::string Render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oomcast::predictor
