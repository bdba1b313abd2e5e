// Living next to another external metrics provider (KEDA, prometheus-adapter, Datadog): requests
// for metrics oomcast does not serve are forwarded to it, and its discovery list is merged
// into ours, over lib's one HttpClient (oomcast::NewHttpClient).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/http_client.h"
#include "oomcast/metrics_adapter/auth.h"
#include "oomcast/metrics_adapter/server.h"
#include "oomcast/status.h"

namespace oomcast::metrics_adapter {

struct UpstreamOptions {
  std::string url;               // Base URL of the other provider, e.g. https://keda:443.
  std::string ca_file;           // Verifies the upstream's certificate.
  std::string token_file;        // Bearer token sent upstream (re-read on every request).
  std::string client_cert_file;  // Client certificate (and key) presented upstream. When set,
  std::string client_key_file;   // the caller's identity is forwarded as X-Remote-* headers.
  bool insecure_skip_verify = false;
  double timeout_seconds = 10;
  double discovery_refresh_seconds = 60;
};

// Thread-safe.
class Upstream {
 public:
  // `http` and `clock` must outlive the Upstream.
  Upstream(UpstreamOptions options, HttpClient* http, const Clock* clock);

  // Forwards a GET of `request` on behalf of `user`: its decoded path (the one authorized),
  // percent-encoded canonically (oomcast::PercentEncodePath), and its query as sent. Blocking.
  // Upstream transport failures give a 503 Status.
  ServerResponse Forward(const ServerRequest& request, const UserInfo& user);

  // Fetches /apis/external.metrics.k8s.io/v1beta1 upstream and caches its resources. On failure
  // the previous list is kept and the error returned. Blocking.
  Status RefreshDiscovery();

  // The cached upstream resources as (name, raw JSON APIResource). Never blocks.
  std::vector<std::pair<std::string, std::string>> Resources() const;

  // True when RefreshDiscovery has not succeeded within discovery_refresh_seconds.
  bool DiscoveryDue() const;

  const UpstreamOptions& options() const { return options_; }

 private:
  UpstreamOptions options_;
  HttpClient* http_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> resources_;
  double last_refresh_attempt_ = 0;
};

}  // namespace oomcast::metrics_adapter
