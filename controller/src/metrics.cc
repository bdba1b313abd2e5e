#include "oomcast/controller/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace oomcast::controller {

struct ControllerMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& decisions =
      prometheus::BuildCounter()
          .Name("oomcast_controller_decisions_total")
          .Help("Reconcile decisions by outcome.")
          .Register(*registry);
  prometheus::Counter& api_errors = prometheus::BuildCounter()
                                        .Name("oomcast_controller_api_errors_total")
                                        .Help("Failed Kubernetes or external metrics API calls.")
                                        .Register(*registry)
                                        .Add({});
  prometheus::Histogram& reconcile =
      prometheus::BuildHistogram()
          .Name("oomcast_controller_reconcile_duration_seconds")
          .Help("Time to reconcile one MemoryScaler, in seconds.")
          .Register(*registry)
          .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                           1, 2.5, 5, 10});
  prometheus::Gauge& leader = prometheus::BuildGauge()
                                  .Name("oomcast_controller_leader")
                                  .Help("1 when this replica holds the leader lease.")
                                  .Register(*registry)
                                  .Add({});
};

ControllerMetrics::ControllerMetrics() : impl_(std::make_unique<Impl>()) {
  for (const char* o : {"scale_up", "scale_down", "no_change", "hold", "hpa_floor", "hpa_restore",
                        "evict", "evict_refused", "dry_run", "invalid", "error", "no_match"}) {
    impl_->decisions.Add({{"outcome", o}});
  }
}
ControllerMetrics::~ControllerMetrics() = default;

void ControllerMetrics::CountDecision(std::string_view outcome) {
  impl_->decisions.Add({{"outcome", std::string(outcome)}}).Increment();
}
void ControllerMetrics::CountApiError() { impl_->api_errors.Increment(); }
void ControllerMetrics::ObserveReconcileSeconds(double s) { impl_->reconcile.Observe(s); }
void ControllerMetrics::SetLeader(bool leader) { impl_->leader.Set(leader ? 1 : 0); }

std::string ControllerMetrics::Serialize() const {
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  serializer.Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace oomcast::controller
