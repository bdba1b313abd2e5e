// The controller's run loop: informer (list-then-watch of MemoryScalers), leader election, and
// reconciliation of every scaler on change and every sync period, by the leader only.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "oomcast/clock.h"
#include "oomcast/controller/forecast_source.h"
#include "oomcast/controller/leader_election.h"
#include "oomcast/controller/metrics.h"
#include "oomcast/kube_client.h"

namespace oomcast::controller {

struct RunnerConfig {
  double sync_period_seconds = 15;
  bool leader_elect = true;
  LeaderElectionConfig leader_election;
  std::string watch_namespace;  // Empty: all.
  std::string identity;
  // Each watch lasts this long, then resumes from the last resourceVersion (bookmarks keep it
  // fresh). Also bounds how long a stop waits for the watch to end.
  double watch_timeout_seconds = 5;
  // MemoryCanaries (canary.h) are reconciled every sync period when set (not owned).
  class CanaryReconciler* canaries = nullptr;
};

// Pointers must outlive the runner. Ready()/IsLeader() are thread-safe.
class ControllerRunner {
 public:
  ControllerRunner(KubeClient* kube, ForecastSource* forecasts, Clock* clock,
                   ControllerMetrics* metrics, RunnerConfig config);
  ~ControllerRunner();
  // Runs until `stop` is set; then releases the lease (if held) and returns.
  void Run(const std::atomic<bool>& stop);
  // Ready once the MemoryScaler cache has synced.
  bool Ready() const;
  bool IsLeader() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oomcast::controller
