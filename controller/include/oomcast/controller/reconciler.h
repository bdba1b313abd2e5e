// Reconciles one MemoryScaler in three steps: read (the scaler, parsed once; the target's /scale,
// the HPA on the same target, the forecast, the pods) into typed objects; Plan (pure,
// reconcile_plan.h); apply: the /scale write (optimistic concurrency) or the HPA's minReplicas
// floor, the Eviction, the Events and the status, each failure logged, counted and reported.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/controller/decision.h"
#include "oomcast/controller/forecast_source.h"
#include "oomcast/controller/metrics.h"
#include "oomcast/controller/reconcile_plan.h"
#include "oomcast/kube_client.h"

namespace oomcast::controller {

struct ReconcilerOptions {
  std::string identity = "oomcast-controller";  // reportingInstance of Events.
  int max_conflict_retries = 3;                 // Re-read and decide again after a 409.
};

// The plan's summary (as it was after the writes' outcomes were folded in) and what failed.
struct ReconcileResult : ReconcileSummary {
  // Writes that failed (target, eviction, Events, status), "what: error", in order. Each is
  // also logged and counted in oomcast_controller_api_errors_total.
  std::vector<std::string> failed_writes;
};

// Thread-compatible: call from one reconcile loop. Pointers must outlive the reconciler;
// `metrics` may be null.
class Reconciler {
 public:
  Reconciler(KubeClient* kube, ForecastSource* forecasts, Clock* clock, ControllerMetrics* metrics,
             ReconcilerOptions options = {});
  ~Reconciler();

  // Reconciles the MemoryScaler given as served by the API (JSON). Errors of the target or the
  // API are reported in the scaler's status and returned; a missing forecast is not an error
  // (the result's outcome is "hold").
  StatusOr<ReconcileResult> Reconcile(const std::string& scaler_json);

  // Drops the in-memory history (stabilization, policies) of a deleted scaler.
  void Forget(const std::string& namespace_name, const std::string& name);

  // Restores the minReplicas of every HPA whose floor was raised by a MemoryScaler that no
  // longer exists (`live_scalers`: "namespace/name" of every existing scaler), in
  // `namespace_name` or all namespaces when empty. Returns how many were restored.
  StatusOr<int> RestoreOrphanFloors(const std::vector<std::string>& live_scalers,
                                    const std::string& namespace_name = "");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "/apis/apps/v1/namespaces/ns/deployments/web" for {apps/v1, Deployment, web}: the lowercase
// plural of the kind (Deployment, StatefulSet, ReplicaSet, ReplicationController, and custom
// kinds with a regular English plural).
std::string TargetPath(const std::string& api_version, const std::string& kind,
                       const std::string& namespace_name, const std::string& name);

}  // namespace oomcast::controller
