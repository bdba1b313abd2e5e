// The forecast of one container, and the read-only view other parts have of the latest ones.
// This is the contract between the predictor and its consumers (/metrics, the metrics-adapter).
#pragma once

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "oomcast/status.h"

namespace oomcast::predictor {

// Identity of a tracked container.
struct ContainerKey {
  std::string namespace_name;
  std::string pod;
  std::string container;

  bool operator<(const ContainerKey& o) const {
    return std::tie(namespace_name, pod, container) <
           std::tie(o.namespace_name, o.pod, o.container);
  }
  bool operator==(const ContainerKey& o) const = default;
  std::string ToString() const { return namespace_name + "/" + pod + "/" + container; }
};

// A ContainerKey's fields borrowed from elsewhere (a decoded label map), to look a container up
// without copying three strings. Compares with ContainerKey (maps declared with std::less<>).
struct ContainerKeyView {
  std::string_view namespace_name;
  std::string_view pod;
  std::string_view container;

  ContainerKey ToKey() const {
    return {std::string(namespace_name), std::string(pod), std::string(container)};
  }
  friend bool operator<(const ContainerKeyView& a, const ContainerKey& b) {
    return std::tie(a.namespace_name, a.pod, a.container) <
           std::tie(b.namespace_name, b.pod, b.container);
  }
  friend bool operator<(const ContainerKey& a, const ContainerKeyView& b) {
    return std::tie(a.namespace_name, a.pod, a.container) <
           std::tie(b.namespace_name, b.pod, b.container);
  }
};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Forecast {
  ContainerKey key;
  // Kubernetes labels of the pod, when known (null: none known). Immutable and shared: the
  // engine hands the same map to every cycle's forecast instead of copying it each cycle.
  std::shared_ptr<const std::map<std::string, std::string>> pod_labels;
  double t = 0;                             // Evaluation time, Unix seconds.
  double last_sample_t = 0;                 // Time of the newest memory sample used, Unix seconds.
  double rss_bytes = kNaN;                  // Newest memory sample.
  double limit_bytes = kNaN;                // Memory limit; NaN when the container has none.
  double growth_rate_bytes_per_second = 0;  // Trend slope (signed).
  double acceleration_bytes_per_second2 = 0;  // Trend curvature (signed).
  double eta_seconds = kInf;   // Forecast time until memory reaches the limit; +Inf: none.
  double risk = 0;             // Probability of reaching the limit within the horizon, 0..1.
  bool oom_predicted = false;  // The alarm decision: risk above the configured threshold.
  bool warming_up = false;     // Too little data since start or restart for a confident fit.

  // The pod's labels; empty when none are known.
  const std::map<std::string, std::string>& PodLabels() const {
    static const std::map<std::string, std::string> kNone;
    return pod_labels ? *pod_labels : kNone;
  }
};

// A consistent snapshot of the latest cycle. Forecasts are sorted by ETA, then key.
struct ForecastSnapshot {
  std::shared_ptr<const std::vector<Forecast>> forecasts;  // Never null.
  // Containers still warming up that `forecasts` leaves out (engine publish_warming_up off),
  // marked warming_up: their newest sample is current, their fit is not to be served. For
  // consumers of samples, not forecasts (the canary comparison). Null: none.
  std::shared_ptr<const std::vector<Forecast>> withheld_warming_up;
  double last_success_unix_s = 0;  // End of the last successful cycle; 0 = never.
  double last_attempt_unix_s = 0;
  Status last_error;  // OK when the last cycle succeeded.
  double horizon_seconds = 900;
  double stale_after_seconds = 300;  // Forecasts older than this must not be served as current.

  // True when the data is too old to act on (never succeeded, or last success too long ago).
  bool Stale(double now_unix_s) const {
    return last_success_unix_s <= 0 || now_unix_s - last_success_unix_s > stale_after_seconds;
  }
};

// Read side of the predictor engine. Thread-safe; Snapshot() is cheap (a shared_ptr copy).
class ForecastSource {
 public:
  virtual ~ForecastSource() = default;
  virtual ForecastSnapshot Snapshot() const = 0;
};

}  // namespace oomcast::predictor
