#include "oomcast/controller/options.h"

#include <functional>
#include <map>

#include "oomcast/log.h"
#include "oomcast/units.h"

namespace oomcast::controller {

std::string ControllerUsage() {
  return R"(Usage: oomcast-controller [flags]

Scales workloads (or restarts a leaking pod) ahead of forecast OOM kills, driven by MemoryScaler
resources (oomcast.io/v1alpha1) and the forecasts served through external.metrics.k8s.io.

  --kubeconfig FILE                 kubeconfig (default: in-cluster when KUBERNETES_SERVICE_HOST
                                    is set, else $KUBECONFIG or ~/.kube/config)
  --context NAME                    kubeconfig context (default: current-context)
  --external-metrics-url URL        read forecasts straight from the adapter at URL instead of
                                    through the API server's aggregation layer
  --external-metrics-ca-file FILE   CA bundle verifying the adapter's certificate
  --leader-elect BOOL               elect a leader with a coordination.k8s.io/v1 Lease (true)
  --leader-election-namespace NS    namespace of the Lease (default: the client's namespace)
  --leader-election-id NAME         name of the Lease (oomcast-controller)
  --leader-election-identity ID     this replica's identity (default: hostname_pid)
  --lease-duration DURATION         lease duration (15s); renew deadline 2/3, retry 2/15 of it
  --sync-period DURATION            re-evaluate every scaler this often (15s)
  --listen-address HOST:PORT        /healthz, /readyz, /metrics (0.0.0.0:8080)
  --watch-namespace NS              only MemoryScalers of NS (default: all namespaces)
  --prometheus-url URL              Prometheus holding the predictor's memory_canary_* series:
                                    reconcile MemoryCanaries (default: off)
  --log-level LEVEL                 debug, info, warn, error (info)
  -h, --help                        this text
Exit codes: 0 clean stop (SIGTERM/SIGINT), 1 fatal run-time error, 2 bad flags or configuration.
)";
}

StatusOr<ControllerOptions> ParseControllerFlags(const std::vector<std::string>& args) {
  ControllerOptions o;
  using Setter = std::function<Status(const std::string&)>;
  auto str = [](std::string* field) -> Setter {
    return [field](const std::string& v) {
      *field = v;
      return Status::Ok();
    };
  };
  auto duration = [](const char* flag, double* field) -> Setter {
    return [flag, field](const std::string& v) {
      auto d = ParseDurationSeconds(v);
      if (!d.ok() || *d <= 0) {
        return InvalidArgumentError(std::string("--") + flag + ": bad duration \"" + v + "\"");
      }
      *field = *d;
      return Status::Ok();
    };
  };
  std::map<std::string, Setter> setters = {
      {"kubeconfig", str(&o.kubeconfig)},
      {"context", str(&o.context)},
      {"external-metrics-url", str(&o.external_metrics_url)},
      {"external-metrics-ca-file", str(&o.external_metrics_ca_file)},
      {"leader-election-namespace", str(&o.leader_election_namespace)},
      {"leader-election-id", str(&o.leader_election_id)},
      {"leader-election-identity", str(&o.leader_election_identity)},
      {"lease-duration", duration("lease-duration", &o.lease_duration_seconds)},
      {"sync-period", duration("sync-period", &o.sync_period_seconds)},
      {"listen-address", str(&o.listen_address)},
      {"watch-namespace", str(&o.watch_namespace)},
      {"prometheus-url", str(&o.prometheus_url)},
      {"log-level",
       [&o](const std::string& v) {
         LogLevel level;
         if (!ParseLogLevel(v, &level)) {
           return InvalidArgumentError("--log-level: bad value \"" + v +
                                       "\" (debug, info, warn, error)");
         }
         o.log_level = v;
         return Status::Ok();
       }},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      o.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) return InvalidArgumentError("unexpected argument \"" + arg + "\"");
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "leader-elect") {
      if (!has_value && i + 1 < args.size() && (args[i + 1] == "true" || args[i + 1] == "false")) {
        value = args[++i];
        has_value = true;
      }
      if (!has_value || value == "true") {
        o.leader_elect = true;
      } else if (value == "false") {
        o.leader_elect = false;
      } else {
        return InvalidArgumentError("--leader-elect: bad value \"" + value + "\" (true or false)");
      }
      continue;
    }
    auto it = setters.find(name);
    if (it == setters.end()) return InvalidArgumentError("unknown flag --" + name);
    if (!has_value) {
      if (i + 1 >= args.size()) return InvalidArgumentError("--" + name + ": missing value");
      value = args[++i];
    }
    OOMCAST_RETURN_IF_ERROR(it->second(value));
  }
  if (!o.external_metrics_url.empty() && o.external_metrics_url.rfind("https://", 0) != 0 &&
      o.external_metrics_url.rfind("http://", 0) != 0) {
    return InvalidArgumentError("--external-metrics-url: must start with https:// or http://");
  }
  if (o.listen_address.rfind(':') == std::string::npos) {
    return InvalidArgumentError("--listen-address: expected HOST:PORT, got \"" + o.listen_address +
                                "\"");
  }
  return o;
}

}  // namespace oomcast::controller
