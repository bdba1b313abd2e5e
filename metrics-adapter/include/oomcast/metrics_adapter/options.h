// Command-line flags of oomcast-metrics-adapter. Predictor flags (--prometheus, --horizon, ...)
// and --config are those of the predictor (oomcast/predictor/config.h); the rest mirror
// k8s.io/apiserver's secure serving and delegated authentication flags.
#pragma once

#include <string>
#include <vector>

#include "oomcast/metrics_adapter/server.h"
#include "oomcast/metrics_adapter/upstream.h"
#include "oomcast/predictor/config.h"
#include "oomcast/status.h"

namespace oomcast::metrics_adapter {

struct AdapterFlags {
  std::string config_file;
  predictor::PredictorConfig predictor;  // After --config and predictor flags.

  std::string bind_address = "0.0.0.0";
  int secure_port = 6443;
  std::string tls_cert_file;
  std::string tls_private_key_file;
  bool generate_self_signed_cert = false;
  std::string cert_dir = "/tmp/oomcast-metrics-adapter";  // For generated certificates.
  int io_threads = 2;
  // Limits and TLS settings of the server (bind address, port, threads and files are set
  // from the fields above by main).
  ServerOptions server;

  std::string client_ca_file;
  std::string requestheader_client_ca_file;
  std::vector<std::string> requestheader_allowed_names;
  std::vector<std::string> requestheader_username_headers;
  std::vector<std::string> requestheader_group_headers;
  std::vector<std::string> requestheader_extra_headers_prefix;
  std::string kubeconfig;  // Empty: in-cluster, else no Kubernetes API.
  // Where pod labels for selectors come from: "kube-state-metrics" (the kube_pod_labels query)
  // or "kubernetes" (a metadata-only watch of pods; needs list/watch on pods).
  std::string pod_labels_source = "kube-state-metrics";
  bool authentication_skip_lookup = false;
  double authentication_config_refresh_seconds = 60;  // Re-read period of the ConfigMap.
  std::string authorization_mode = "Webhook";         // Webhook | AlwaysAllow (development only).
  double token_cache_ttl_seconds = 10;
  double authorized_cache_ttl_seconds = 10;
  double unauthorized_cache_ttl_seconds = 10;
  size_t token_cache_size = 10000;
  size_t access_cache_size = 10000;

  UpstreamOptions upstream;

  double eta_cap_seconds = 365.0 * 86400;
  std::string log_level = "info";
  std::string fake_forecasts_file;  // TEST ONLY.
  bool help = false;
};

// Parses argv[1..]. Unknown flags and bad values are kInvalidArgument errors naming the flag
// (main exits 2). --config is loaded before the predictor flags, which override it.
StatusOr<AdapterFlags> ParseAdapterFlags(const std::vector<std::string>& args);

std::string AdapterUsage();

}  // namespace oomcast::metrics_adapter
