#include "oomcast/controller/controller.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "oomcast/controller/canary.h"
#include "oomcast/controller/informer.h"
#include "oomcast/controller/reconciler.h"
#include "oomcast/log.h"

namespace oomcast::controller {

struct ControllerRunner::Impl {
  // The Kubernetes client and the forecast source are the informer's, the elector's and the
  // reconciler's; the runner itself only reads the clock and sets the leader gauge.
  Clock* clock;
  ControllerMetrics* metrics;
  RunnerConfig config;
  std::unique_ptr<ScalerInformer> informer;
  std::unique_ptr<LeaderElector> elector;
  std::unique_ptr<Reconciler> reconciler;
  std::mutex mu;
  std::condition_variable cv;
  bool dirty = true;
  std::vector<std::pair<std::string, std::string>> deleted;

  void Wake() {
    std::lock_guard<std::mutex> lock(mu);
    dirty = true;
    cv.notify_all();
  }

  // Sleeps up to `seconds` of real time, returning early when stopping.
  void Wait(double seconds, const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return stop.load(); });
  }

  bool Leading() const { return !config.leader_elect || elector->IsLeader(); }
};

ControllerRunner::ControllerRunner(KubeClient* kube, ForecastSource* forecasts, Clock* clock,
                                   ControllerMetrics* metrics, RunnerConfig config)
    : impl_(std::make_unique<Impl>()) {
  impl_->clock = clock;
  impl_->metrics = metrics;
  impl_->config = std::move(config);
  Impl* impl = impl_.get();
  impl_->informer = std::make_unique<ScalerInformer>(
      kube, clock, impl_->config.watch_namespace,
      [impl](const std::string& ns, const std::string& name, bool deleted) {
        if (deleted) {
          std::lock_guard<std::mutex> lock(impl->mu);
          impl->deleted.push_back({ns, name});
        }
        impl->Wake();
      });
  impl_->elector = std::make_unique<LeaderElector>(kube, clock, impl_->config.leader_election);
  ReconcilerOptions ro;
  ro.identity = impl_->config.identity;
  impl_->reconciler = std::make_unique<Reconciler>(kube, forecasts, clock, metrics, ro);
}

ControllerRunner::~ControllerRunner() = default;

bool ControllerRunner::Ready() const { return impl_->informer->synced(); }
bool ControllerRunner::IsLeader() const { return impl_->Leading(); }

void ControllerRunner::Run(const std::atomic<bool>& stop) {
  Impl& impl = *impl_;
  std::thread informer([&] { impl.informer->Run(stop, impl.config.watch_timeout_seconds); });
  std::thread elector;
  if (impl.config.leader_elect) {
    elector = std::thread([&] {
      bool was_leader = false;
      while (!stop.load()) {
        bool leader = impl.elector->TryAcquireOrRenew();
        if (impl.metrics != nullptr) impl.metrics->SetLeader(leader);
        if (leader && !was_leader) {
          LogInfo("became leader", {{"identity", impl.config.identity}});
          impl.Wake();
        } else if (!leader && was_leader) {
          LogWarn("stopped leading", {{"identity", impl.config.identity}});
        }
        was_leader = leader;
        impl.Wait(impl.config.leader_election.retry_period_seconds, stop);
      }
    });
  } else if (impl.metrics != nullptr) {
    impl.metrics->SetLeader(true);
  }

  // Monotonic seconds (the clock's) of the last sync; an hour ago: sync at once.
  double last_sync = impl.clock->MonotonicSeconds() - 3600;
  while (!stop.load()) {
    {
      std::unique_lock<std::mutex> lock(impl.mu);
      const double until_next =
          last_sync + impl.config.sync_period_seconds - impl.clock->MonotonicSeconds();
      impl.cv.wait_for(lock, std::chrono::duration<double>(std::max(0.0, until_next)),
                       [&] { return stop.load() || impl.dirty; });
      if (stop.load()) break;
      impl.dirty = false;
      for (const auto& [ns, name] : impl.deleted) impl.reconciler->Forget(ns, name);
      impl.deleted.clear();
    }
    if (!impl.informer->synced() || !impl.Leading()) {
      // Not acting: re-check at the next change or sync period.
      if (impl.clock->MonotonicSeconds() - last_sync > impl.config.sync_period_seconds) {
        last_sync = impl.clock->MonotonicSeconds();
      }
      continue;
    }
    last_sync = impl.clock->MonotonicSeconds();
    std::vector<std::string> live;
    for (const std::string& scaler : impl.informer->Snapshot()) {
      if (stop.load() || !impl.Leading()) break;
      auto j = nlohmann::json::parse(scaler, nullptr, false);
      if (!j.is_discarded()) {
        live.push_back(j["metadata"].value("namespace", "") + "/" +
                       j["metadata"].value("name", ""));
      }
      auto r = impl.reconciler->Reconcile(scaler);
      if (!r.ok()) LogWarn("reconcile failed", {{"err", r.status().ToString()}});
    }
    if (impl.config.canaries && !stop.load() && impl.Leading()) {
      Status st = impl.config.canaries->ReconcileAll(impl.config.watch_namespace);
      if (!st.ok()) LogWarn("memory canaries", {{"err", st.ToString()}});
    }
    // HPA floors raised by scalers deleted since (or while no replica led) are restored.
    if (!stop.load() && impl.Leading()) {
      auto restored = impl.reconciler->RestoreOrphanFloors(live, impl.config.watch_namespace);
      if (!restored.ok()) {
        LogWarn("cannot check for orphaned HPA floors", {{"err", restored.status().ToString()}});
      }
    }
  }
  impl.cv.notify_all();
  if (elector.joinable()) elector.join();
  if (impl.config.leader_elect) {
    Status st = impl.elector->Release();
    if (!st.ok()) LogWarn("cannot release the lease", {{"err", st.ToString()}});
  }
  informer.join();  // Ends within the watch timeout.
}

}  // namespace oomcast::controller
