// Names of the forecast metrics: the predictor exports them on /metrics, the metrics adapter
// serves them through external.metrics.k8s.io/v1beta1, the controller reads them there. The
// names are part of the API (lowercase: client-go lowercases metric paths); labels namespace,
// pod, container.
#pragma once

#include <string_view>

namespace oomcast {

// Current trend of the container's memory, bytes/s (signed).
inline constexpr std::string_view kGrowthRateMetric = "memory_growth_rate_bytes_per_second";
// Second derivative of the trend, bytes/s^2.
inline constexpr std::string_view kAccelerationMetric =
    "memory_growth_acceleration_bytes_per_second2";
// Forecast time until memory reaches the limit, seconds.
inline constexpr std::string_view kEtaMetric = "memory_oom_eta_seconds";
// Probability of reaching the limit within the horizon, 0..1.
inline constexpr std::string_view kRiskMetric = "memory_oom_risk";

}  // namespace oomcast
