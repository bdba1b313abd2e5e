// oomcast-controller: wires flags, the Kubernetes client, the forecast source, the health server
// and the run loop. Everything else lives in the oomcast::controller library.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "oomcast/clock.h"
#include "oomcast/controller/canary.h"
#include "oomcast/controller/controller.h"
#include "oomcast/controller/forecast_source.h"
#include "oomcast/controller/metrics.h"
#include "oomcast/controller/options.h"
#include "oomcast/http_client.h"
#include "oomcast/http_server.h"
#include "oomcast/kube_client.h"
#include "oomcast/log.h"
#include "oomcast/prometheus_client.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

int Fatal(const std::string& message) {
  std::cerr << "oomcast-controller: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace oomcast;
  using namespace oomcast::controller;
  auto options = ParseControllerFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.ok()) {
    std::cerr << "oomcast-controller: " << options.status().message() << "\n"
              << "run oomcast-controller --help for the flags\n";
    return 2;
  }
  if (options->help) {
    std::cout << ControllerUsage();
    return 0;
  }
  LogLevel level;
  ParseLogLevel(options->log_level, &level);
  SetLogLevel(level);

  StatusOr<KubeRestConfig> config = FailedPreconditionError("no configuration");
  const char* in_cluster = std::getenv("KUBERNETES_SERVICE_HOST");
  if (options->kubeconfig.empty() && in_cluster != nullptr && *in_cluster != '\0') {
    config = LoadInClusterConfig();
  } else {
    config = LoadKubeconfig(options->kubeconfig, options->context);
  }
  if (!config.ok()) return Fatal(config.status().message());
  auto kube = NewKubeClient(*config);
  if (!kube.ok()) return Fatal(kube.status().message());

  std::unique_ptr<KubeClient> adapter;
  KubeClient* metrics_client = kube->get();
  if (!options->external_metrics_url.empty()) {
    KubeRestConfig direct = *config;  // Same credentials, the adapter's address and CA.
    direct.server = options->external_metrics_url;
    direct.ca_file = options->external_metrics_ca_file;
    direct.ca_pem.clear();
    auto c = NewKubeClient(direct);
    if (!c.ok()) return Fatal("--external-metrics-url: " + c.status().message());
    adapter = std::move(c).value();
    metrics_client = adapter.get();
  }

  SystemClock clock;
  ControllerMetrics metrics;
  ExternalMetricsForecastSource forecasts(metrics_client, &clock);

  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  RunnerConfig rc;
  rc.identity = options->leader_election_identity.empty()
                    ? std::string(host) + "_" + std::to_string(getpid())
                    : options->leader_election_identity;
  rc.sync_period_seconds = options->sync_period_seconds;
  rc.leader_elect = options->leader_elect;
  rc.watch_namespace = options->watch_namespace;
  rc.leader_election.identity = rc.identity;
  rc.leader_election.lease_name = options->leader_election_id;
  rc.leader_election.namespace_name = options->leader_election_namespace.empty()
                                          ? config->namespace_name
                                          : options->leader_election_namespace;
  rc.leader_election.lease_duration_seconds = options->lease_duration_seconds;
  rc.leader_election.renew_deadline_seconds = options->lease_duration_seconds * 2 / 3;
  rc.leader_election.retry_period_seconds = options->lease_duration_seconds * 2 / 15;
  // MemoryCanary verdicts from Prometheus (docs/canary.md), when --prometheus-url is set.
  std::unique_ptr<HttpClient> prom_http;
  std::unique_ptr<PrometheusClient> prom;
  std::unique_ptr<CanaryVerdictSource> verdicts;
  std::unique_ptr<CanaryReconciler> canaries;
  if (!options->prometheus_url.empty()) {
    auto http = NewHttpClient({});
    if (!http.ok()) return Fatal("--prometheus-url: " + http.status().message());
    prom_http = std::move(http).value();
    PrometheusBackendConfig backend;
    backend.base_url = options->prometheus_url;
    prom = NewHttpPrometheusClient(backend, prom_http.get(), &clock);
    verdicts = NewPrometheusCanaryVerdictSource(prom.get(), &clock);
    canaries = std::make_unique<CanaryReconciler>(kube->get(), verdicts.get(), &clock, rc.identity);
    rc.canaries = canaries.get();
  }
  ControllerRunner runner(kube->get(), &forecasts, &clock, &metrics, rc);

  auto health =
      StartHttpServer(options->listen_address,
                      OpsHandler({[] { return true; }, [&runner] { return runner.Ready(); },
                                  [&metrics] { return metrics.Serialize(); }}));
  if (!health.ok()) return Fatal(health.status().message());

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  LogInfo("starting",
          {{"server", config->server},
           {"identity", rc.identity},
           {"leader_elect", options->leader_elect ? "true" : "false"},
           {"lease", rc.leader_election.namespace_name + "/" + rc.leader_election.lease_name},
           {"metrics_url",
            options->external_metrics_url.empty() ? "aggregated" : options->external_metrics_url},
           {"http_port", std::to_string((*health)->port())}});
  runner.Run(g_stop);
  (*health)->Stop();
  LogInfo("stopped", {{"identity", rc.identity}});
  return 0;
}
