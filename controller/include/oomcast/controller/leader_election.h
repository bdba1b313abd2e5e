// Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
// a holder renews spec.renewTime; another candidate takes the lease over only after it has
// seen the same record unchanged for leaseDurationSeconds on its own clock (so clock skew between
// replicas does not matter), bumping spec.leaseTransitions.
#pragma once

#include <mutex>
#include <string>

#include "oomcast/clock.h"
#include "oomcast/kube_client.h"

namespace oomcast::controller {

struct LeaderElectionConfig {
  std::string namespace_name = "default";
  std::string lease_name = "oomcast-controller";
  std::string identity;                // Unique per process (hostname_pid).
  double lease_duration_seconds = 15;  // Non-leaders wait this long on an unchanged record.
  double renew_deadline_seconds = 10;  // A leader that could not renew for this long steps down.
  double retry_period_seconds = 2;     // Time between two attempts.
};

// Thread-safe. `client` and `clock` must outlive this object.
class LeaderElector {
 public:
  LeaderElector(KubeClient* client, Clock* clock, LeaderElectionConfig config);

  // One attempt to acquire or renew the lease. Returns true when this instance holds it after
  // the attempt. API errors and conflicts count as "not renewed" (logged).
  bool TryAcquireOrRenew();

  // True while the last successful acquire/renew is younger than the renew deadline.
  bool IsLeader() const;

  // Gives the lease up (holderIdentity cleared, leaseDurationSeconds 1) if this instance holds
  // it, so that another replica takes over at once. Used on graceful shutdown.
  Status Release();

  const LeaderElectionConfig& config() const { return config_; }

 private:
  std::string LeasePath(bool collection) const;

  KubeClient* client_;
  Clock* clock_;
  LeaderElectionConfig config_;
  mutable std::mutex mu_;
  bool leader_ = false;
  double last_renew_ = 0;
  std::string observed_record_;  // holder|renewTime|transitions of the last record seen.
  double observed_time_ = 0;     // Our clock when observed_record_ last changed.
};

// MicroTime as the API serves it: "2026-01-01T00:00:00.000000Z".
std::string FormatMicroTime(double unix_seconds);

}  // namespace oomcast::controller
