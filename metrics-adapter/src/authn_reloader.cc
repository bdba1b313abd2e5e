#include "oomcast/metrics_adapter/authn_reloader.h"

#include <utility>

#include "oomcast/log.h"

namespace oomcast::metrics_adapter {

AuthnConfigReloader::AuthnConfigReloader(KubeClient* kube, Clock* clock, AuthnConfig flag_config,
                                         AuthnConfig current, double refresh_seconds, Apply apply)
    : kube_(kube),
      clock_(clock),
      flag_config_(std::move(flag_config)),
      current_(std::move(current)),
      refresh_seconds_(refresh_seconds),
      apply_(std::move(apply)),
      next_read_monotonic_(clock->MonotonicSeconds() + refresh_seconds) {}

AuthnConfigReloader::Outcome AuthnConfigReloader::Poll() {
  const double now = clock_->MonotonicSeconds();
  if (now < next_read_monotonic_) return Outcome::kNotDue;
  next_read_monotonic_ = now + refresh_seconds_;
  auto cfg = LoadAuthnConfigFromCluster(kube_, flag_config_);
  if (!cfg.ok()) {
    LogWarn("re-reading the authentication ConfigMap failed", {{"err", cfg.status().ToString()}});
    return Outcome::kFailed;
  }
  if (*cfg == current_) return Outcome::kUnchanged;
  auto verifier = CertificateVerifier::Create(*cfg);
  if (!verifier.ok()) {
    LogWarn("new authentication ConfigMap rejected", {{"err", verifier.status().ToString()}});
    return Outcome::kFailed;
  }
  apply_(*cfg, std::move(verifier).value());
  current_ = std::move(cfg).value();
  LogInfo("authentication configuration updated from the cluster");
  return Outcome::kApplied;
}

void AuthnConfigReloader::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    Poll();
    clock_->SleepFor(0.2);
  }
}

}  // namespace oomcast::metrics_adapter
