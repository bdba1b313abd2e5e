#include "oomcast/predictor/exporter.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cmath>

#include "oomcast/forecast_metrics.h"
#include "oomcast/predictor/version.h"

namespace oomcast::predictor {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

ClientMetric Metric(std::vector<ClientMetric::Label> labels, double value, MetricType type) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return m;
}

MetricFamily Family(std::string_view name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = std::string(name);
  f.help = help;
  f.type = type;
  return f;
}

// A family of one sample without labels.
MetricFamily Single(std::string_view name, const char* help, MetricType type, double value) {
  MetricFamily f = Family(name, help, type);
  f.metric.push_back(Metric({}, value, type));
  return f;
}

// Produces the forecast gauges and the engine's counters from the latest snapshot at scrape time.
class SnapshotCollector final : public prometheus::Collectable {
 public:
  SnapshotCollector(const Engine* engine, const Clock* clock) : engine_(engine), clock_(clock) {}

  std::vector<MetricFamily> Collect() const override {
    ForecastSnapshot snap = engine_->Snapshot();
    EngineStats st = engine_->stats();
    double now = clock_->NowUnixSeconds();
    auto rate = Family(kGrowthRateMetric,
                       "Current trend of the container's memory, bytes per second (signed).",
                       MetricType::Gauge);
    auto accel =
        Family(kAccelerationMetric, "Second derivative of the container's memory trend, bytes/s^2.",
               MetricType::Gauge);
    auto eta =
        Family(kEtaMetric, "Forecast seconds until memory reaches the limit; +Inf when none.",
               MetricType::Gauge);
    auto risk =
        Family(kRiskMetric, "Probability (0..1) of reaching the memory limit within the horizon.",
               MetricType::Gauge);
    bool fresh = !snap.Stale(now);
    if (fresh) {
      for (const Forecast& f : *snap.forecasts) {
        std::vector<ClientMetric::Label> l = {{"namespace", f.key.namespace_name},
                                              {"pod", f.key.pod},
                                              {"container", f.key.container}};
        rate.metric.push_back(Metric(l, f.growth_rate_bytes_per_second, MetricType::Gauge));
        accel.metric.push_back(Metric(l, f.acceleration_bytes_per_second2, MetricType::Gauge));
        if (!std::isnan(f.limit_bytes)) {
          eta.metric.push_back(Metric(l, f.eta_seconds, MetricType::Gauge));
          risk.metric.push_back(Metric(l, f.risk, MetricType::Gauge));
        }
      }
    }
    std::vector<MetricFamily> out = {rate, accel, eta, risk};

    auto gauge = [&out](const char* name, const char* help, double value) {
      out.push_back(Single(name, help, MetricType::Gauge, value));
    };
    auto counter = [&out](const char* name, const char* help, double value) {
      out.push_back(Single(name, help, MetricType::Counter, value));
    };
    gauge("oomcast_series_tracked", "Containers with model state.",
          static_cast<double>(st.series_tracked));
    gauge("oomcast_forecasts", "Containers with a current forecast.",
          fresh ? static_cast<double>(snap.forecasts->size()) : 0);
    counter("oomcast_samples_ingested_total", "Memory samples decoded and fed to the models.",
            static_cast<double>(st.samples_ingested));
    counter("oomcast_samples_rejected_total",
            "Samples ignored: NaN, Inf, negative or out of order.",
            static_cast<double>(st.samples_rejected));
    counter("oomcast_cycles_total", "Forecast cycles run.", static_cast<double>(st.cycles));
    auto errors =
        Family("oomcast_query_errors_total",
               "TSDB query failures by backend and reason (status code).", MetricType::Counter);
    const std::string backend = engine_->backend_name();
    for (const auto& [reason, n] : st.query_errors) {
      errors.metric.push_back(Metric({{"backend", backend}, {"reason", reason}},
                                     static_cast<double>(n), MetricType::Counter));
    }
    out.push_back(std::move(errors));
    counter("oomcast_series_dropped_total",
            "Containers forgotten after no samples for forecast.dropAfter.",
            static_cast<double>(st.series_dropped));
    gauge("oomcast_container_restarts_detected",
          "Restarts (drops to baseline) detected in tracked containers.",
          static_cast<double>(st.restarts_detected));
    gauge("oomcast_last_successful_cycle_timestamp_seconds",
          "Unix time of the end of the last successful cycle (0: never).",
          snap.last_success_unix_s);
    gauge("oomcast_forecast_age_seconds", "Seconds since the last successful cycle (+Inf: never).",
          snap.last_success_unix_s > 0 ? now - snap.last_success_unix_s
                                       : std::numeric_limits<double>::infinity());
    auto info = Family("oomcast_build_info", "Build information.", MetricType::Gauge);
    info.metric.push_back(Metric({{"version", Version()}}, 1, MetricType::Gauge));
    out.push_back(std::move(info));
    return out;
  }

 private:
  const Engine* engine_;
  const Clock* clock_;
};

}  // namespace

struct MetricsExporter::Impl {
  Impl(const Engine* engine, const Clock* clock)
      : registry(std::make_shared<prometheus::Registry>()),
        collector(std::make_shared<SnapshotCollector>(engine, clock)),
        cycle_family(prometheus::BuildHistogram()
                         .Name("oomcast_cycle_duration_seconds")
                         .Help("Duration of forecast cycles (query, decode, model), seconds.")
                         .Register(*registry)),
        cycle_ok(cycle_family.Add({{"result", "success"}}, Buckets())),
        cycle_err(cycle_family.Add({{"result", "error"}}, Buckets())) {}

  static prometheus::Histogram::BucketBoundaries Buckets() {
    return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  }

  std::shared_ptr<prometheus::Registry> registry;
  std::shared_ptr<SnapshotCollector> collector;
  prometheus::Family<prometheus::Histogram>& cycle_family;
  prometheus::Histogram& cycle_ok;
  prometheus::Histogram& cycle_err;
};

MetricsExporter::MetricsExporter(const Engine* engine, const Clock* clock)
    : impl_(std::make_unique<Impl>(engine, clock)) {}
MetricsExporter::~MetricsExporter() = default;

void MetricsExporter::ObserveCycle(double seconds, const Status& result) {
  (result.ok() ? impl_->cycle_ok : impl_->cycle_err).Observe(seconds);
}

std::string MetricsExporter::Render() const {
  std::vector<MetricFamily> families = impl_->collector->Collect();
  for (auto& f : impl_->registry->Collect()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace oomcast::predictor
