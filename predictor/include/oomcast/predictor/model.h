// Per-container memory model: a robust estimate of the trend's level, growth rate and
// acceleration, and a forecast of when memory reaches the limit. Pure computation, no I/O.
// The math, its parameters and why they are what they are: predictor/MODEL.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace oomcast::predictor {
namespace model_internal {
struct Point;  // Defined in model.cc.
}

struct ModelConfig {
  double horizon_seconds = 900;       // Risk is P(memory reaches the limit within this).
  double alarm_risk_threshold = 0.5;  // oom_predicted = risk >= this.

  // Samples are aggregated into buckets of this width (seconds): mean and max per bucket.
  double bucket_seconds = 30;
  // The trend is fitted over at most this much history since the last restart (seconds).
  // Bounded by the ring capacity: kBuckets * bucket_seconds.
  double window_seconds = 3600;
  // A fit needs at least this much history since the start/restart (seconds) to be trusted;
  // before that the output is warming_up and only a crash-loop at the limit can alarm.
  double min_fit_seconds = 600;
  // Quadratic term used only when |acceleration| / its standard error exceeds this.
  double acceleration_min_t = 4.0;
  // The extrapolated growth rate is shrunk by max(0, 1 - (growth_min_t / t)^2), t its
  // t-statistic: a slope within noise of zero is not extrapolated.
  double growth_min_t = 2.0;
  // An alarm needs the forecast made this many seconds earlier (from the data then) to agree;
  // the reported risk is the lower of the two. 0 disables.
  double persistence_seconds = 60;
  // Once raised, an alarm stays raised while the risk is at least alarm_release_risk (for the
  // next forecast within alarm_hold_seconds): no flicker around the threshold.
  double alarm_release_risk = 0.4;
  double alarm_hold_seconds = 120;
  // Near the limit a raised alarm is held (whatever the risk) while the newest sample leaves
  // less than alarm_hold_headroom_fraction x limit of headroom and has not fallen more than
  // near_limit_margin_fraction x limit below the sample that raised it, for at most
  // alarm_hold_pause_seconds after the risk last passed the threshold: a fast climb that pauses
  // a few scrapes short of the limit has not shown that it is over (the kernel kills on the
  // next burst); a longer pause has. 0 disables.
  double alarm_hold_headroom_fraction = 0.1;
  double alarm_hold_pause_seconds = 300;
  // Quantile (0..1) of bucket peaks above the trend line used as the peak envelope.
  double envelope_quantile = 1.0;
  // ... of the buckets of the last this many seconds (the current shape of the peaks).
  double envelope_window_seconds = 900;
  // The true peak between two scrapes is unseen: the envelope adds this fraction of the typical
  // rise between consecutive samples.
  double unseen_peak_factor = 0.5;
  // A sample lower than (1 - restart_drop_fraction) x the previous one and lower than
  // restart_floor_fraction x the lowest sample of the last restart_floor_seconds restarts the fit
  // (a container restart, e.g. after an OOM kill, or a release of memory to a new regime). A
  // garbage collection drops to the usual floor, not below it, and does not restart the fit.
  double restart_drop_fraction = 0.25;
  double restart_floor_fraction = 0.9;
  double restart_floor_seconds = 600;
  // A sample at or above kill_fraction x the limit is the kernel's OOM kill (RSS cannot exceed
  // the limit): the fit restarts with the next sample, and while the newest sample is the kill
  // the forecast (of the next instance) is warming_up with no alarm.
  double kill_fraction = 0.9999;
  // An unseen kill: a sample within near_limit_margin_fraction of the limit, then one more than
  // restart_drop_fraction below it or unseen_kill_drop_fraction x the limit below it, that the
  // last restart_floor_seconds have not seen the like of (a garbage-collected heap falls like
  // that every cycle), restarts the fit: the fresh instance comes back at its own load, which
  // may be high (0.99 of the limit, then 0.85). The instance must have run
  // restart_floor_seconds for its history to tell.
  double unseen_kill_drop_fraction = 0.06;
  // Early after a start/restart (warming_up), a forecast alarms only when the newest sample is
  // at least this fraction of the limit (a crash loop straight back at the limit).
  double warmup_alarm_fraction = 0.9;
  // The risk is P(peak reaches the limit within horizon_seconds + alarm_latency_seconds): an
  // alarm is seen one evaluation cycle after the data that raise it and must pass the
  // persistence check, so it is computed this much further ahead to be up a full horizon
  // before the kill (30 s cycle + 60 s persistence + one 30 s bucket of aggregation).
  double alarm_latency_seconds = 120;
  // The first this many seconds of an instance (loading, reconnecting, the load coming back
  // after a restart) are start-up, not trend: left out of the fit once as much data follows.
  double restart_ramp_seconds = 60;
  // Change detection (leak onset, predictor/MODEL.md): when the line of the newest
  // onset_min_window_seconds (at least 5 points) rises faster than the chosen fit by more than
  // onset_z (a normal quantile, widened to Student's t for the points' degrees of freedom)
  // standard errors, a hinge (two-slope) fit locates the onset, and the line since the onset
  // is the trend if it passes the same test and has climbed out of the band of the points
  // before the onset. 0 disables.
  double onset_min_window_seconds = 120;
  double onset_z = 3.5;
  // ... and has risen since the onset by more than this many times the largest fall between
  // consecutive points before it (a sawtooth's rising phase is released every cycle). 0: off.
  double onset_release_factor = 1.5;
  // A trend seen only since an onset is extrapolated (for the risk) at most this many times as
  // long as it has been seen.
  double onset_extrapolation_factor = 3.0;
  // Near the limit: when the highest peak of the last near_limit_window_seconds is within
  // margin = near_limit_margin_fraction x limit of the limit and the newest
  // near_limit_trend_seconds are not clearly falling, the risk is at least
  // 1 - headroom / margin (the kernel kills on the peak: one allocation, one burst away; the
  // peaks between scrapes are in the forecast's envelope already). 0 disables.
  double near_limit_margin_fraction = 0.03;
  double near_limit_window_seconds = 300;
  double near_limit_trend_seconds = 600;
};

struct ModelOutput {
  double level_bytes = 0;                     // Trend level at `now`.
  double growth_rate_bytes_per_second = 0;    // Signed slope of the trend at `now`.
  double acceleration_bytes_per_second2 = 0;  // Signed curvature of the trend.
  double eta_seconds = 0;  // Time from `now` until the limit is reached; +Inf when never.
  double risk = 0;         // 0..1.
  bool oom_predicted = false;
  bool warming_up = true;  // Not enough data since start/restart for a confident forecast.
  // Additions (informational): forecast peak (trend + envelope) at now + horizon, bytes, and
  // the envelope (peak above trend), bytes. NaN/0 before a fit.
  double peak_at_horizon_bytes = 0;
  double envelope_bytes = 0;
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
  // eta=+Inf and risk=0 while rate and acceleration are still estimated). Call it once per
  // evaluation cycle: it keeps the alarm's hysteresis (the only state it changes).
  ModelOutput Predict(double now, double limit_bytes) const;

  double last_sample_t() const;      // 0 before the first sample.
  double last_sample_bytes() const;  // NaN before the first sample.
  size_t restarts() const;           // Restarts detected so far.
  size_t rejected_samples() const;

  // Approximate heap + inline bytes held by this model (for the per-container budget).
  size_t MemoryBytes() const;

  // Number of buckets kept (ring capacity).
  static constexpr int kBuckets = 128;

 private:
  // One bucket of samples: times relative to origin_t_ (seconds), values in bytes.
  struct Bucket {
    float t_mean;  // Mean sample time.
    float mean;    // Mean value.
    float max;     // Largest value.
    float min;     // Smallest value.
  };

  void Restart(double t);
  void FlushOpenBucket();
  // Fits `n` points (x relative to the forecast time) and fills the forecast fields of `out`.
  void FitAndForecast(const model_internal::Point* pts, int n, double limit_bytes,
                      double horizon_seconds, ModelOutput* out) const;
  // Copies the buckets of the window before `now` into `pts` (capacity kBuckets + 1).
  int GatherPoints(double now, model_internal::Point* pts) const;
  // The near-limit risk of the points (see ModelConfig::near_limit_margin_fraction).
  double NearLimitRisk(const model_internal::Point* pts, int n, double limit_bytes) const;
  // Whether the last restart_floor_seconds before `t` hold a fall of at least `drop` bytes
  // (within a bucket, or from a bucket's max to the next one's min).
  bool RecentDrop(double t, double drop) const;
  // Lowest sample of the last restart_floor_seconds before `t` (bucket minima), bytes.
  double RecentFloor(double t) const;

  const ModelConfig* config_;
  double origin_t_ = 0;         // Unix seconds that Bucket::t_mean is relative to.
  double segment_start_t_ = 0;  // First sample since start/restart.
  double last_t_ = 0;
  double last_bytes_;
  double last_limit_;
  // Open bucket accumulators (not yet in the ring).
  double open_index_ = -1;  // Bucket index (floor((t - origin) / width)) of the open bucket.
  double open_sum_t_ = 0;
  double open_sum_v_ = 0;
  double open_max_ = 0;
  double open_min_ = 0;
  uint32_t open_count_ = 0;
  double last_kill_t_ = 0;  // Time of the newest kill sample; 0: none.
  double prev_kill_t_ = 0;  // Time of the kill before it; 0: none.
  bool killed_ = false;     // The newest sample is a kill: the next one starts a new fit.
  mutable bool alarm_raised_ = false;   // Decision of the previous Predict() (hysteresis).
  mutable double alarm_checked_t_ = 0;  // Its time, Unix seconds.
  mutable double alarm_risk_t_ = 0;     // When the risk last passed the threshold, Unix seconds.
  mutable float alarm_bytes_ = 0;       // The newest sample then, bytes.
  float rise_ewma_ = 0;                 // Typical rise between consecutive samples, bytes.
  uint32_t restarts_ = 0;
  uint32_t rejected_ = 0;
  uint16_t head_ = 0;  // Index of the oldest bucket in ring_.
  uint16_t size_ = 0;  // Buckets in ring_.
  std::array<Bucket, kBuckets> ring_;
  std::array<uint8_t, kBuckets> counts_;  // Samples per bucket (saturates at 255).
};

}  // namespace oomcast::predictor
