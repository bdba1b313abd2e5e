// The MemoryScaler custom resource (oomcast.io/v1alpha1): its spec with every default applied,
// and parsing from the JSON the API serves. See charts/oomcast/files/crds/memoryscaler.yaml.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/status.h"

namespace oomcast::controller {

inline constexpr double kMiB = 1024.0 * 1024.0;

// One HPA-style rate limit: at most `value` pods (or percent of the replicas at the start of the
// period) added or removed within any `period_seconds`.
struct ScalingPolicy {
  enum class Type { kPods, kPercent };
  Type type = Type::kPods;
  int value = 1;
  double period_seconds = 15;
};

// HPA-style behavior of one direction (autoscaling/v2 HPAScalingRules).
struct ScalingRules {
  enum class Select { kMax, kMin, kDisabled };
  double stabilization_window_seconds = 0;
  Select select = Select::kMax;
  std::vector<ScalingPolicy> policies;
};

struct ScaleUpRule {
  double growth_rate_above_bytes_per_second = 12 * kMiB;  // Strictly greater fires.
  bool on_oom_forecast = true;  // Fire when an OOM is forecast within the horizon.
  double risk_threshold = 0.5;  // memory_oom_risk >= this counts as a forecast OOM (0..1].
  int step = 1;                 // Replicas added per decision.
};

struct ScaleDownRule {
  double growth_rate_below_bytes_per_second = -5 * kMiB;  // Strictly lower fires.
  int step = 1;                                           // Replicas removed per decision.
};

struct RestartBeforeOom {
  bool enabled = false;
  double eta_below_seconds = 300;  // A pod whose OOM ETA is at most this may be evicted.
  double cooldown_seconds = 600;   // Minimum time between two evictions of this scaler.
};

struct ScaleTargetRef {
  std::string api_version;  // "apps/v1"
  std::string kind;         // "Deployment"
  std::string name;
};

struct MemoryScalerSpec {
  ScaleTargetRef target;
  int min_replicas = 1;
  int max_replicas = 1;
  double horizon_seconds = 900;
  // Label selector (string form) picking the target's containers in the forecast metrics;
  // empty: the target's pod selector (from its /scale status).
  std::string metric_selector;
  ScaleUpRule scale_up;
  ScaleDownRule scale_down;
  ScalingRules up_behavior;    // Default: no window; max of 4 pods / 100 % per 15 s.
  ScalingRules down_behavior;  // Default: 300 s window; 100 % per 15 s.
  RestartBeforeOom restart;
  double max_forecast_age_seconds = 300;  // Older forecasts are stale: hold.
  bool dry_run = false;
};

struct MemoryScaler {
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  MemoryScalerSpec spec;
};

// status.conditions[] (metav1.Condition-like). Types: Ready, ScalingActive, ScalingLimited.
struct ScalerCondition {
  std::string type;
  bool status = false;  // "True" / "False".
  std::string reason;   // CamelCase.
  std::string message;
  std::string last_transition_time;  // RFC 3339; kept while the status does not change.
  bool operator==(const ScalerCondition&) const = default;
};

// status.lastForecast: the forecast the last decision used, as the CRD shows it.
struct LastForecastStatus {
  std::string time;  // RFC 3339: oldest sample used, or the decision time when unavailable.
  bool available = false;
  std::string error;                       // When unavailable (at most 1000 characters).
  std::string growth_rate;                 // Kubernetes quantity, bytes/s; empty: absent.
  std::optional<int64_t> oom_eta_seconds;  // Absent: no OOM forecast.
  std::string oom_risk;                    // Quantity 0..1; empty: absent.
  std::string worst_pod;
  std::optional<int> pods;  // Containers in the forecast (when available).
  bool operator==(const LastForecastStatus&) const = default;
};

struct LastDecisionStatus {
  std::string time;    // RFC 3339.
  std::string action;  // None, ScaleUp, ScaleDown, Hold.
  std::string rule;    // Empty: absent.
  std::string reason;
  std::string message;
  bool operator==(const LastDecisionStatus&) const = default;
};

struct LastEvictionStatus {
  std::string pod;
  std::string time;    // RFC 3339.
  std::string result;  // Evicted, Refused, Failed, DryRun.
  std::string message;
  bool operator==(const LastEvictionStatus&) const = default;
};

// The status subresource, every field of the CRD's schema (absent fields stay absent).
struct MemoryScalerStatus {
  std::optional<int64_t> observed_generation;
  std::optional<int> current_replicas;
  std::optional<int> desired_replicas;
  std::string last_scale_time;  // RFC 3339; empty: never scaled.
  std::string mode;             // Scale or HPAFloor; empty: absent.
  std::optional<LastForecastStatus> last_forecast;
  std::optional<LastDecisionStatus> last_decision;
  std::optional<LastEvictionStatus> last_eviction;
  std::vector<ScalerCondition> conditions;
  bool operator==(const MemoryScalerStatus&) const = default;
};

// A MemoryScaler as read from the API, parsed once: metadata, the spec or why it is invalid,
// and the status.
struct MemoryScalerObject {
  MemoryScaler scaler;  // scaler.spec is meaningful only when spec_error is OK.
  Status spec_error;    // kInvalidArgument naming the field.
  MemoryScalerStatus status;
};

// Parses a MemoryScaler as served (JSON). kInvalidArgument only when it is not an object with
// metadata; a bad spec is reported in spec_error; unreadable status fields are left absent.
StatusOr<MemoryScalerObject> ReadMemoryScaler(std::string_view json);

// The status as JSON for the /status subresource (the field names of the CRD).
std::string MemoryScalerStatusJson(const MemoryScalerStatus& status);

// Applies the defaults of every unset field (the CRD's, so that objects created before a
// default changed and objects from tests without admission behave the same).
ScalingRules DefaultScaleUpRules();
ScalingRules DefaultScaleDownRules();

// Parses a MemoryScaler as served by the API (JSON). kInvalidArgument names the field on a bad
// or missing value (e.g. "spec.maxReplicas: must be >= spec.minReplicas").
StatusOr<MemoryScaler> ParseMemoryScaler(std::string_view json);

// Label selector string of a metav1.LabelSelector JSON object ({matchLabels, matchExpressions}),
// keys sorted; kInvalidArgument on an unknown operator.
StatusOr<std::string> LabelSelectorString(std::string_view label_selector_json);

}  // namespace oomcast::controller
