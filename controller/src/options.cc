#include "oomcast/controller/options.h"

#include <functional>
#include <map>

#include "oomcast/flags.h"
#include "oomcast/log.h"

namespace oomcast::controller {

std::string ControllerUsage() {
  return R"(Usage: oomcast-controller [flags]

Scales workloads (or restarts a leaking pod) ahead of forecast OOM kills, driven by MemoryScaler
resources (oomcast.io/v1alpha1) and the forecasts served through external.metrics.k8s.io.

)" +
         FormatFlagHelp({
             {"--kubeconfig FILE",
              "kubeconfig (default: in-cluster when KUBERNETES_SERVICE_HOST\nis set, else "
              "$KUBECONFIG or ~/.kube/config)"},
             {"--context NAME", "kubeconfig context (default: current-context)"},
             {"--external-metrics-url URL",
              "read forecasts straight from the adapter at URL instead of\nthrough the API "
              "server's aggregation layer"},
             {"--external-metrics-ca-file FILE", "CA bundle verifying the adapter's certificate"},
             {"--leader-elect BOOL", "elect a leader with a coordination.k8s.io/v1 Lease (true)"},
             {"--leader-election-namespace NS",
              "namespace of the Lease (default: the client's namespace)"},
             {"--leader-election-id NAME", "name of the Lease (oomcast-controller)"},
             {"--leader-election-identity ID", "this replica's identity (default: hostname_pid)"},
             {"--lease-duration DURATION",
              "lease duration (15s); renew deadline 2/3, retry 2/15 of it"},
             {"--sync-period DURATION", "re-evaluate every scaler this often (15s)"},
             {"--listen-address HOST:PORT", "/healthz, /readyz, /metrics (0.0.0.0:8080)"},
             {"--watch-namespace NS", "only MemoryScalers of NS (default: all namespaces)"},
             {"--prometheus-url URL",
              "Prometheus holding the predictor's memory_canary_* series:\nreconcile "
              "MemoryCanaries (default: off)"},
             {"--log-level LEVEL", "debug, info, warn, error (info)"},
             {"-h, --help", "this text"},
         }) +
         "Exit codes: 0 clean stop (SIGTERM/SIGINT), 1 fatal run-time error, 2 bad flags or "
         "configuration.\n";
}

StatusOr<ControllerOptions> ParseControllerFlags(const std::vector<std::string>& args) {
  ControllerOptions o;
  using Setter = std::function<Status(const std::string& name, const std::string& value)>;
  auto str = [](std::string* field) -> Setter {
    return [field](const std::string&, const std::string& v) {
      *field = v;
      return Status::Ok();
    };
  };
  // A setter storing parse(name, value) (a StatusOr) into *field.
  auto parsed_into = [](auto* field, auto parse) -> Setter {
    return [field, parse](const std::string& name, const std::string& v) {
      auto x = parse(name, v);
      if (!x.ok()) return x.status();
      *field = *x;
      return Status::Ok();
    };
  };
  auto duration = [&](double* field) { return parsed_into(field, FlagPositiveDuration); };
  auto boolean = [&](bool* field) { return parsed_into(field, FlagBool); };
  const std::map<std::string, Setter, std::less<>> setters = {
      {"kubeconfig", str(&o.kubeconfig)},
      {"context", str(&o.context)},
      {"external-metrics-url", str(&o.external_metrics_url)},
      {"external-metrics-ca-file", str(&o.external_metrics_ca_file)},
      {"leader-elect", boolean(&o.leader_elect)},
      {"leader-election-namespace", str(&o.leader_election_namespace)},
      {"leader-election-id", str(&o.leader_election_id)},
      {"leader-election-identity", str(&o.leader_election_identity)},
      {"lease-duration", duration(&o.lease_duration_seconds)},
      {"sync-period", duration(&o.sync_period_seconds)},
      {"listen-address", str(&o.listen_address)},
      {"watch-namespace", str(&o.watch_namespace)},
      {"prometheus-url", str(&o.prometheus_url)},
      {"log-level",
       [&o](const std::string& name, const std::string& v) {
         LogLevel level;
         if (!ParseLogLevel(v, &level)) {
           return InvalidArgumentError("--log-level: bad value \"" + v +
                                       "\" (debug, info, warn, error)");
         }
         o.log_level = v;
         return Status::Ok();
       }},
  };
  FlagSpec spec;
  spec.is_bool = [](std::string_view name) { return name == "leader-elect"; };
  spec.is_known = [&setters](std::string_view name) { return setters.count(name) > 0; };
  spec.short_names = {{"h", "help"}};
  auto parsed = ParseFlags(args, spec);
  if (!parsed.ok()) return parsed.status();
  o.help = parsed->help;
  for (const auto& [name, value] : parsed->flags) {
    OOMCAST_RETURN_IF_ERROR(setters.find(name)->second(name, value));
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
