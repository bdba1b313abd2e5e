// Per-container memory model: a robust estimate of the trend's level, growth rate and
// acceleration, and a forecast of when memory reaches the limit. Pure computation, no I/O.
#pragma once

#include <cstddef>

namespace oomcast::predictor {

struct ModelConfig {
  double horizon_seconds = 900;       // Risk is P(memory reaches the limit within this).
  double alarm_risk_threshold = 0.5;  // oom_predicted = risk >= this.
};

struct ModelOutput {
  double level_bytes = 0;                     // Trend level at `now`.
  double growth_rate_bytes_per_second = 0;    // Signed slope of the trend at `now`.
  double acceleration_bytes_per_second2 = 0;  // Signed curvature of the trend.
  double eta_seconds = 0;  // Time from `now` until the limit is reached; +Inf when never.
  double risk = 0;         // 0..1.
  bool oom_predicted = false;
  bool warming_up = true;  // Not enough data since start/restart for a confident forecast.
};

// State of one container. Bounded memory (a few KiB at most) whatever the history length.
// Not thread-safe: the owner serializes calls.
class ContainerModel {
 public:
  // `config` must outlive the model.
  explicit ContainerModel(const ModelConfig* config);

  // Feeds one sample: `t` Unix seconds, `bytes` the memory reading, `limit_bytes` the current
  // limit (NaN when none or unknown). Samples not newer than the newest seen are ignored, as are
  // NaN, infinite and negative readings (counted in rejected_samples()). A drop that looks like
  // a container restart (e.g. after an OOM kill) restarts the fit.
  void Observe(double t, double bytes, double limit_bytes);

  // Forecast at `now` (>= the newest sample) against `limit_bytes` (NaN: no limit, so
  // eta=+Inf and risk=0 while rate and acceleration are still estimated).
  ModelOutput Forecast(double now, double limit_bytes) const;

  double last_sample_t() const;      // 0 before the first sample.
  double last_sample_bytes() const;  // NaN before the first sample.
  size_t restarts() const;           // Restarts detected so far.
  size_t rejected_samples() const;

  // Approximate heap + inline bytes held by this model (for the per-container budget).
  size_t MemoryBytes() const;

 private:
  const ModelConfig* config_;
  // The model's internals (see model.cc) follow.
};

}  // namespace oomcast::predictor
