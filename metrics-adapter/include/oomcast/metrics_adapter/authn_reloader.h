// Keeps the adapter's client authentication in step with the cluster: re-reads the
// kube-system/extension-apiserver-authentication ConfigMap every `refresh_seconds` and, when
// what it yields (over the flag values, which win) changed and is valid, hands the new
// configuration and its certificate verifier to `apply` (the Authenticator and the HTTPS
// server; CA rotations apply to new connections). A failed read or an invalid ConfigMap keeps
// the configuration in force and is logged; the next period tries again.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "oomcast/clock.h"
#include "oomcast/kube_client.h"
#include "oomcast/metrics_adapter/auth.h"
#include "oomcast/status.h"

namespace oomcast::metrics_adapter {

class AuthnConfigReloader {
 public:
  // Called with a changed, valid configuration and the verifier made from it.
  using Apply = std::function<void(const AuthnConfig& config,
                                   std::shared_ptr<const CertificateVerifier> verifier)>;

  enum class Outcome {
    kNotDue,     // Less than refresh_seconds (monotonic) since the last read.
    kUnchanged,  // Read; same configuration as the one in force.
    kApplied,    // Read; changed and valid: `apply` was called.
    kFailed,     // The read failed, or the new configuration was rejected (logged).
  };

  // `flag_config` is what the flags give (LoadAuthnConfigFromCluster's base); `current` is the
  // configuration in force at start. `kube` and `clock` must outlive the reloader. The first
  // read is due `refresh_seconds` after construction (start-up has read the ConfigMap).
  AuthnConfigReloader(KubeClient* kube, Clock* clock, AuthnConfig flag_config, AuthnConfig current,
                      double refresh_seconds, Apply apply);

  // One step: reads when due. Not thread-safe (one thread polls).
  Outcome Poll();
  // Polls every 0.2 s (clock->SleepFor) until `stop`; for a thread of its own.
  void Run(const std::atomic<bool>& stop);

  const AuthnConfig& current() const { return current_; }

 private:
  KubeClient* kube_;
  Clock* clock_;
  const AuthnConfig flag_config_;
  AuthnConfig current_;
  const double refresh_seconds_;
  Apply apply_;
  double next_read_monotonic_;
};

}  // namespace oomcast::metrics_adapter
