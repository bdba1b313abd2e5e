// The external.metrics.k8s.io/v1beta1 resource: answers value lists for the forecast metrics
// from the latest ForecastSnapshot, filtered by a label selector. Pure request -> response
// (no I/O), so it is tested without a server.
//
// Per snapshot (each forecast cycle) it builds an index: per namespace the containers, their
// metricLabels ({namespace, pod, container} over the pod's labels) pre-encoded as JSON, their
// values pre-formatted as quantities, and an inverted index label=value -> containers, so that
// a request with an equality/in requirement touches only the candidate containers.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/forecast_metrics.h"
#include "oomcast/predictor/forecast.h"
#include "oomcast/status.h"
#include "oomcast/url.h"

namespace oomcast::metrics_adapter {

// The forecast metrics served (forecast_metrics.h): growth rate, acceleration, ETA, risk.
inline constexpr int kMetricCount = 4;

// Reserved selector key asking for one aggregated item: `oomcast.io/aggregate in (max)` or
// `oomcast.io/aggregate=max`; one of max, min, sum, avg.
inline constexpr std::string_view kAggregateKey = "oomcast.io/aggregate";

// The served metric names, in a stable order.
const std::vector<std::string>& ServedMetricNames();
// Index of `metric` in ServedMetricNames(), or -1.
int MetricIndex(std::string_view metric);

// A JSON response; the content type is always application/json.
struct ApiResponse {
  int code = 200;
  std::string body;
};

// A response carrying a metav1.Status for `code` with `message`.
ApiResponse StatusResponse(int code, std::string_view message);

struct MetricsApiOptions {
  // `window` of every item: the span of history the trend is fitted over (seconds).
  double window_seconds = 3600;
  // memory_oom_eta_seconds of a container with no forecast crossing (ETA +Inf, or no limit) is
  // reported as this value (seconds; default 365 days), so every container has an item.
  double eta_cap_seconds = 365.0 * 86400;
};

// Query strings are read with oomcast::QueryParameter (oomcast/url.h).

// Thread-safe.
class MetricsApi {
 public:
  // `source` and `clock` must outlive the MetricsApi.
  MetricsApi(const predictor::ForecastSource* source, const Clock* clock,
             MetricsApiOptions options = {});
  ~MetricsApi();

  // GET .../namespaces/{ns}/{metric}?{query}. `metric` must be served (MetricIndex >= 0).
  // 200 ExternalMetricValueList; 400 for a bad selector or query; 503 when forecasts are
  // stale or there are none yet. A fresh snapshot with no match gives an empty item list.
  ApiResponse ListMetric(std::string_view ns, std::string_view metric,
                         std::string_view query) const;

  // True after the first successful forecast cycle.
  bool Ready() const;
  // Seconds since the last successful cycle; +Inf when there was none.
  double ForecastAgeSeconds() const;
  // Reads with a label selector that matched no container while forecasts were fresh (for
  // oomcast_selector_no_match_total). Each is also logged, once per selector per 10 minutes.
  uint64_t selector_no_matches() const { return no_match_total_.load(); }

 private:
  struct Index;
  std::shared_ptr<const Index> CurrentIndex(const predictor::ForecastSnapshot& snap) const;

  const predictor::ForecastSource* source_;
  const Clock* clock_;
  MetricsApiOptions options_;
  void NoteNoMatch(std::string_view ns, const std::optional<std::string>& selector) const;
  mutable std::atomic<uint64_t> no_match_total_{0};
  mutable std::mutex no_match_mu_;
  mutable std::map<std::string, double> no_match_logged_;  // Guarded by no_match_mu_.
  // The index of the newest snapshot seen. Guarded by build_mu_, which is held only to read or
  // swap it: two requests may build the index of one new snapshot at once (the first stored
  // wins), none waits for another's build.
  mutable std::mutex build_mu_;
  mutable std::shared_ptr<const Index> index_;
};

// Discovery documents of an aggregated API server serving external.metrics.k8s.io/v1beta1.
std::string ApiGroupListJson();  // GET /apis
std::string ApiGroupJson();      // GET /apis/external.metrics.k8s.io
// GET /apis/external.metrics.k8s.io/v1beta1: our metrics, then `extra_resources` (raw JSON
// APIResource objects, e.g. from an upstream provider; names already served are skipped).
std::string ApiResourceListJson(
    const std::vector<std::pair<std::string, std::string>>& extra_resources = {});

}  // namespace oomcast::metrics_adapter
