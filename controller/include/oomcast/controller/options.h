// Command-line flags of oomcast-controller.
#pragma once

#include <string>
#include <vector>

#include "oomcast/status.h"

namespace oomcast::controller {

struct ControllerOptions {
  std::string kubeconfig;            // Empty: in-cluster, else $KUBECONFIG / ~/.kube/config.
  std::string context;               // kubeconfig context; empty: current-context.
  std::string external_metrics_url;  // Empty: through the API server's aggregation.
  std::string external_metrics_ca_file;
  bool leader_elect = true;
  std::string leader_election_namespace;                  // Empty: the client's namespace.
  std::string leader_election_id = "oomcast-controller";  // Lease name.
  std::string leader_election_identity;                   // Empty: hostname_pid.
  double lease_duration_seconds = 15;
  double sync_period_seconds = 15;
  std::string listen_address = "0.0.0.0:8080";  // /healthz, /readyz, /metrics; port 0: any.
  std::string log_level = "info";
  std::string watch_namespace;  // Empty: all namespaces.
  std::string prometheus_url;   // MemoryCanary verdicts; empty: MemoryCanaries not reconciled.
  bool help = false;
};

// Parses `args` (without argv[0]). Accepts "--flag value" and "--flag=value"; booleans also bare
// ("--leader-elect"). kInvalidArgument naming the flag on an unknown flag or a bad value.
StatusOr<ControllerOptions> ParseControllerFlags(const std::vector<std::string>& args);

std::string ControllerUsage();

}  // namespace oomcast::controller
