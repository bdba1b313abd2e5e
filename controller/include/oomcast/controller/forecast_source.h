// Reads forecasts through the external metrics API (external.metrics.k8s.io/v1beta1), exactly
// as the HPA does: through the API server's aggregation layer, or straight from the adapter.
#pragma once

#include <string>

#include "oomcast/clock.h"
#include "oomcast/controller/decision.h"
#include "oomcast/forecast_metrics.h"
#include "oomcast/kube_client.h"

namespace oomcast::controller {

class ForecastSource {
 public:
  virtual ~ForecastSource() = default;
  // The forecast of the containers in `namespace_name` matching `label_selector`. Never fails:
  // errors (API error, metav1.Status such as 503, no items, items older than
  // `max_age_seconds`) come back as ForecastReading{available=false, error=...}.
  virtual ForecastReading Fetch(const std::string& namespace_name,
                                const std::string& label_selector, double max_age_seconds) = 0;
};

// Per-container items of the three forecast metrics, aggregated here (max growth, min ETA, max
// risk) so that the pod that will run out first is known. The growth rate is required. oomcast's
// adapter has an item of each metric for every container: one without an OOM forecast has the
// ETA cap (its --eta-cap, 365 days by default) and its risk; an empty ETA or risk list (another
// provider) also means "no OOM forecast".
// `client` and `clock` must outlive this object. Thread-compatible.
class ExternalMetricsForecastSource final : public ForecastSource {
 public:
  ExternalMetricsForecastSource(KubeClient* client, Clock* clock)
      : client_(client), clock_(clock) {}
  ForecastReading Fetch(const std::string& namespace_name, const std::string& label_selector,
                        double max_age_seconds) override;

 private:
  KubeClient* client_;
  Clock* clock_;
};

// Parses "2026-01-01T00:00:00Z" (also with fractional seconds, a numeric offset, or plain Unix
// seconds; see oomcast::ParseTimestamp) to Unix seconds; kInvalidArgument otherwise.
StatusOr<double> ParseRfc3339(const std::string& text);

}  // namespace oomcast::controller
