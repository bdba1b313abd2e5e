// The adapter's request handler: routing, authentication, authorization, the metrics API,
// discovery, upstream pass-through, health and self-metrics. Owns no I/O except through the
// injected parts, so tests drive it in-process.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "oomcast/clock.h"
#include "oomcast/metrics_adapter/auth.h"
#include "oomcast/metrics_adapter/metrics_api.h"
#include "oomcast/metrics_adapter/server.h"
#include "oomcast/metrics_adapter/upstream.h"

namespace oomcast::metrics_adapter {

// Thread-safe.
class Adapter final : public RequestHandler {
 public:
  // All pointers must outlive the adapter; `upstream` may be null (no pass-through).
  // `extra_metrics` (may be empty) returns more exposition text appended to /metrics (the
  // engine's self-metrics).
  Adapter(MetricsApi* api, Authenticator* authn, Authorizer* authz, Upstream* upstream,
          const Clock* clock, std::function<std::string()> extra_metrics = {});
  ~Adapter() override;

  // Routes:
  //   /healthz, /livez           200 "ok" (no auth)
  //   /readyz                    200 after the first successful forecast cycle, else 503
  //                              (no auth)
  //   /metrics                   Prometheus text, behind the same authentication and
  //                              authorization as the API (non-resource GET /metrics)
  //   /apis, /apis/external.metrics.k8s.io, /apis/external.metrics.k8s.io/v1beta1  discovery
  //   /apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}  values (or upstream)
  //   anything else              404 NotFound Status (after authentication)
  // Stages: token reviews on kTokenReview, access reviews on kAccessReview, pass-through on
  // kUpstream; a certificate-authenticated request with cached authorization is answered
  // inline.
  std::optional<ServerResponse> Handle(const ServerRequest& request, Stage stage,
                                       Stage* next) override;

  // Text exposition of the adapter's self-metrics (and `extra_metrics`).
  std::string RenderMetrics() const;

 private:
  std::optional<ServerResponse> Route(const ServerRequest& request, Stage stage, Stage* next,
                                      std::string* route);
  struct Metrics;
  MetricsApi* api_;
  Authenticator* authn_;
  Authorizer* authz_;
  Upstream* upstream_;
  const Clock* clock_;
  std::function<std::string()> extra_metrics_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace oomcast::metrics_adapter
