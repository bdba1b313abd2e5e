// The controller's self-metrics (prometheus-cpp behind a small interface):
//   oomcast_controller_decisions_total{outcome}      counter
//   oomcast_controller_api_errors_total              counter
//   oomcast_controller_reconcile_duration_seconds    histogram
//   oomcast_controller_leader                        gauge (1 when this replica leads)
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace oomcast::controller {

class ControllerMetrics {
 public:
  ControllerMetrics();
  ~ControllerMetrics();
  // outcome: scale_up, scale_down, no_change, hold, hpa_floor, hpa_restore, evict,
  // evict_refused, dry_run, invalid, error, no_match (a hold: the selector matches no container
  // while forecasts are fresh).
  void CountDecision(std::string_view outcome);
  void CountApiError();
  void ObserveReconcileSeconds(double seconds);
  void SetLeader(bool leader);
  // The Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oomcast::controller
