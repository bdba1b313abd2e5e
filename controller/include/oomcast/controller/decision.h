// The scaling rules as a pure function: forecast + spec + history in, decision out. No I/O,
// no clock (time is an argument), so every rule, clamp, window and policy is tested exactly.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "oomcast/controller/memory_scaler.h"

namespace oomcast::controller {

// One container's (pod's) forecast, from the external metrics API.
struct PodForecast {
  std::string pod;
  std::string container;
  double growth_bytes_per_second = 0;
  double oom_eta_seconds = std::numeric_limits<double>::infinity();  // +Inf: no OOM forecast.
  double oom_risk = 0;                                               // 0..1
};

// One reading of the forecast of one target (from the external metrics API), aggregated over
// its containers (worst case of each metric). Not predictor::Forecast: this is what the
// controller read, with whether it could be read.
struct ForecastReading {
  bool available = false;  // False: missing, stale or an API error; `error` says which.
  // With available=false: the external metrics API answered 200 with no items for the growth
  // metric (the adapter has fresh forecasts, a stale backend answers 503), so the selector
  // matches no container. `error` names the selector and the metric.
  bool no_match = false;
  std::string error;
  double time_unix_seconds = 0;  // Oldest sample time of the items used.
  double max_growth_bytes_per_second = 0;
  double min_oom_eta_seconds = std::numeric_limits<double>::infinity();
  double max_oom_risk = 0;
  std::string worst_pod;  // Pod with the smallest ETA (or the largest growth).
  std::vector<PodForecast> pods;
};

// Per-scaler memory of past decisions, kept by the reconciler (in memory, like the HPA's).
struct ScalerHistory {
  struct Recommendation {
    double time_unix_seconds;
    int replicas;
  };
  struct ScaleEvent {
    double time_unix_seconds;
    int replica_change;  // Signed.
  };
  std::vector<Recommendation> recommendations;
  std::vector<ScaleEvent> scale_events;
};

enum class Action { kNone, kScaleUp, kScaleDown, kHold };

struct Decision {
  Action action = Action::kNone;
  int current_replicas = 0;
  int desired_replicas = 0;    // After rules, stabilization, policies and clamps.
  int recommendation = 0;      // After the rules, before stabilization (recorded).
  std::string rule;            // Which rule fired: "growth", "oom-eta", "oom-risk", "shrink", "".
  std::string reason;          // CamelCase, for conditions and events.
  std::string message;         // Human sentence.
  bool limited = false;        // ScalingLimited condition.
  std::string limited_reason;  // TooFewReplicas, TooManyReplicas, ScaleUpLimit, ...
};

// Decides the replicas of one target at `now_unix_seconds`. Contract:
// - Forecast unavailable: hold (desired = current, raised to minReplicas only), reason
//   ForecastUnavailable; never a scale-down on missing data.
// - Up (+step) when growth > threshold, or eta <= horizon, or risk >= riskThreshold; otherwise
//   down (-step) when growth < the down threshold; otherwise stay.
// - HPA stabilization (the max of the recommendations within the down window, the min within the
//   up window), then per-period policies, then the [minReplicas, maxReplicas] clamp.
Decision Decide(const MemoryScalerSpec& spec, int current_replicas, const ForecastReading& forecast,
                const ScalerHistory& history, double now_unix_seconds);

// Records `decision` (its recommendation, and the scale event when `applied`) and drops entries
// older than every window and period of `spec`.
void RecordDecision(const MemoryScalerSpec& spec, const Decision& decision, bool applied,
                    double now_unix_seconds, ScalerHistory* history);

struct PodState {
  std::string name;
  bool ready = false;
  bool terminating = false;
};

struct EvictionDecision {
  bool evict = false;
  std::string pod;
  std::string reason;   // Why (not): "Cooldown", "LastReadyReplica", "ReplacementNotReady", ...
  std::string message;  // Human sentence.
};

// restartBeforeOOM: evict the pod that will run out first when its ETA is at most
// spec.restart.eta_below_seconds and scaling cannot help: the target is at its ceiling
// (`at_ceiling`: maxReplicas, or the HPA's max) or not every ready pod is running out (a leak
// in some pods, which more replicas do not fix). Never with an unavailable forecast, never the
// last ready replica, one pod at a time (no eviction while a pod is not ready or terminating),
// and not within the cooldown after `last_eviction_unix_seconds` (0: never).
EvictionDecision DecideEviction(const MemoryScalerSpec& spec, const ForecastReading& forecast,
                                const std::vector<PodState>& pods, bool at_ceiling,
                                double last_eviction_unix_seconds, double now_unix_seconds);

}  // namespace oomcast::controller
