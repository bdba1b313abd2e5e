// oomcast-metrics-adapter: wires the predictor engine (or, for tests, a forecast file), the
// Kubernetes API for delegated auth, an optional upstream provider and the HTTPS server.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "oomcast/clock.h"
#include "oomcast/http_client.h"
#include "oomcast/kube_client.h"
#include "oomcast/log.h"
#include "oomcast/metrics_adapter/adapter.h"
#include "oomcast/metrics_adapter/auth.h"
#include "oomcast/metrics_adapter/certificate_metrics.h"
#include "oomcast/metrics_adapter/file_forecast_source.h"
#include "oomcast/metrics_adapter/metrics_api.h"
#include "oomcast/metrics_adapter/options.h"
#include "oomcast/metrics_adapter/server.h"
#include "oomcast/metrics_adapter/upstream.h"
#include "oomcast/predictor/canary_metrics.h"
#include "oomcast/predictor/engine.h"
#include "oomcast/predictor/exporter.h"
#include "oomcast/predictor/pod_metadata.h"
#include "oomcast/prometheus_client.h"

namespace ma = oomcast::metrics_adapter;

namespace {

[[noreturn]] void Fail(int code, const std::string& message) {
  std::cerr << "oomcast-metrics-adapter: " << message << "\n";
  std::exit(code);
}

std::string ReadFileOrDie(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(2, flag + ": cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  auto flags_or = ma::ParseAdapterFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags_or.ok()) Fail(2, flags_or.status().message() + " (see --help)");
  ma::AdapterFlags flags = std::move(flags_or).value();
  if (flags.help) {
    std::cout << ma::AdapterUsage();
    return 0;
  }
  oomcast::LogLevel level;
  oomcast::ParseLogLevel(flags.log_level, &level);
  oomcast::SetLogLevel(level);

  // Block the stop signals in every thread; main waits for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  oomcast::SystemClock clock;

  // Forecasts: the embedded engine, or (tests only) a file.
  std::unique_ptr<oomcast::HttpClient> tsdb_http;
  std::unique_ptr<oomcast::PrometheusClient> prometheus;
  std::unique_ptr<oomcast::predictor::Engine> engine;
  std::unique_ptr<oomcast::predictor::MetricsExporter> exporter;
  std::unique_ptr<oomcast::predictor::CanaryMonitor> canary;  // The config's `canary:` list.
  std::unique_ptr<ma::FileForecastSource> fake;
  const oomcast::predictor::ForecastSource* source = nullptr;
  if (!flags.fake_forecasts_file.empty()) {
    oomcast::LogWarn("serving forecasts from a file (--fake-forecasts): TEST ONLY",
                     {{"file", flags.fake_forecasts_file}});
    auto f = ma::FileForecastSource::Open(flags.fake_forecasts_file, &clock);
    if (!f.ok()) Fail(2, f.status().message());
    fake = std::move(f).value();
    source = fake.get();
  } else {
    if (auto st = oomcast::predictor::ValidateConfig(flags.predictor, true); !st.ok()) {
      Fail(2, st.message());
    }
    auto http = oomcast::NewHttpClient(flags.predictor.http);
    if (!http.ok()) Fail(2, http.status().message());
    tsdb_http = std::move(http).value();
    prometheus = oomcast::NewHttpPrometheusClient(flags.predictor.backend, tsdb_http.get(), &clock);
    engine = std::make_unique<oomcast::predictor::Engine>(flags.predictor.engine, prometheus.get(),
                                                          &clock);
    exporter = std::make_unique<oomcast::predictor::MetricsExporter>(engine.get(), &clock);
    auto monitor = oomcast::predictor::CanaryMonitor::Create(flags.predictor.canary);
    if (!monitor.ok()) Fail(2, monitor.status().message());
    canary = std::move(monitor).value();
    source = engine.get();
  }

  // Serving certificate.
  std::string cert_file = flags.tls_cert_file, key_file = flags.tls_private_key_file;
  if (cert_file.empty() != key_file.empty()) {
    Fail(2, "--tls-cert-file and --tls-private-key-file go together");
  }
  if (cert_file.empty()) {
    if (!flags.generate_self_signed_cert) {
      Fail(2,
           "--tls-cert-file and --tls-private-key-file are required (or "
           "--generate-self-signed-cert for development)");
    }
    std::error_code mkdir_error;
    std::filesystem::create_directories(flags.cert_dir, mkdir_error);
    if (mkdir_error) {
      Fail(2, "--cert-dir: cannot create " + flags.cert_dir + ": " + mkdir_error.message());
    }
    cert_file = flags.cert_dir + "/apiserver.crt";
    key_file = flags.cert_dir + "/apiserver.key";
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::vector<std::string> hosts = {"localhost", "127.0.0.1", "::1"};
    if (host[0]) hosts.push_back(host);
    if (auto st = ma::GenerateSelfSignedCertificate(cert_file, key_file, hosts); !st.ok()) {
      Fail(2, st.message());
    }
    oomcast::LogInfo("generated a self-signed serving certificate", {{"cert", cert_file}});
  }

  // The Kubernetes API (delegated authentication and authorization).
  std::unique_ptr<oomcast::KubeClient> kube;
  {
    oomcast::StatusOr<oomcast::KubeRestConfig> rest =
        flags.kubeconfig.empty() ? oomcast::LoadInClusterConfig()
                                 : oomcast::LoadKubeconfig(flags.kubeconfig);
    if (rest.ok()) {
      auto k = oomcast::NewKubeClient(*rest);
      if (!k.ok()) Fail(2, "kubernetes client: " + k.status().message());
      kube = std::move(k).value();
    } else if (!flags.kubeconfig.empty()) {
      Fail(2, "--kubeconfig: " + rest.status().message());
    } else {
      oomcast::LogWarn(
          "no Kubernetes API (not in a cluster, no --kubeconfig): bearer tokens are "
          "rejected and only system:masters or --authorization-mode=AlwaysAllow "
          "are authorized");
    }
  }
  // Pod labels from the Kubernetes API (metadata-only watch) instead of kube_pod_labels.
  std::unique_ptr<oomcast::predictor::KubePodMetadataSource> pod_metadata;
  if (engine && flags.pod_labels_source == "kubernetes") {
    if (!kube)
      Fail(2,
           "--pod-labels-source=kubernetes needs the Kubernetes API (in-cluster or --kubeconfig)");
    pod_metadata = std::make_unique<oomcast::predictor::KubePodMetadataSource>(kube.get(), &clock);
    engine->set_pod_label_source(pod_metadata.get());
  }
  ma::AuthnConfig authn_config;
  if (!flags.client_ca_file.empty()) {
    authn_config.client_ca_pem = ReadFileOrDie("--client-ca-file", flags.client_ca_file);
  }
  if (!flags.requestheader_client_ca_file.empty()) {
    authn_config.requestheader_ca_pem =
        ReadFileOrDie("--requestheader-client-ca-file", flags.requestheader_client_ca_file);
  }
  authn_config.requestheader_allowed_names = flags.requestheader_allowed_names;
  if (!flags.requestheader_username_headers.empty()) {
    authn_config.username_headers = flags.requestheader_username_headers;
  }
  if (!flags.requestheader_group_headers.empty()) {
    authn_config.group_headers = flags.requestheader_group_headers;
  }
  if (!flags.requestheader_extra_headers_prefix.empty()) {
    authn_config.extra_headers_prefixes = flags.requestheader_extra_headers_prefix;
  }
  const ma::AuthnConfig flag_authn_config = authn_config;
  if (kube && !flags.authentication_skip_lookup) {
    auto cfg = ma::LoadAuthnConfigFromCluster(kube.get(), authn_config);
    if (cfg.ok()) {
      authn_config = std::move(cfg).value();
    } else {
      oomcast::LogWarn("cannot read the authentication ConfigMap; using flags only",
                       {{"err", cfg.status().ToString()}});
    }
  }
  auto verifier = ma::CertificateVerifier::Create(authn_config);
  if (!verifier.ok()) Fail(2, verifier.status().message());

  ma::AuthOptions auth_options;
  auth_options.token_cache_ttl_seconds = flags.token_cache_ttl_seconds;
  auth_options.authorized_cache_ttl_seconds = flags.authorized_cache_ttl_seconds;
  auth_options.unauthorized_cache_ttl_seconds = flags.unauthorized_cache_ttl_seconds;
  auth_options.token_cache_size = flags.token_cache_size;
  auth_options.access_cache_size = flags.access_cache_size;
  auth_options.always_allow = flags.authorization_mode == "AlwaysAllow";
  std::unique_ptr<ma::KubeTokenReviewer> token_reviewer;
  std::unique_ptr<ma::KubeAccessReviewer> access_reviewer;
  if (kube) {
    token_reviewer = std::make_unique<ma::KubeTokenReviewer>(kube.get());
    access_reviewer = std::make_unique<ma::KubeAccessReviewer>(kube.get());
  }
  ma::Authenticator authn(authn_config, token_reviewer.get(), &clock, auth_options);
  ma::Authorizer authz(access_reviewer.get(), &clock, auth_options);

  // Upstream provider.
  std::unique_ptr<oomcast::HttpClient> upstream_http;
  std::unique_ptr<ma::Upstream> upstream;
  if (!flags.upstream.url.empty()) {
    oomcast::HttpClientOptions o;
    o.ca_file = flags.upstream.ca_file;
    o.client_cert_file = flags.upstream.client_cert_file;
    o.client_key_file = flags.upstream.client_key_file;
    o.insecure_skip_verify = flags.upstream.insecure_skip_verify;
    o.max_response_bytes = 64u << 20;
    auto h = oomcast::NewHttpClient(o);
    if (!h.ok()) Fail(2, "--upstream-*: " + h.status().message());
    upstream_http = std::move(h).value();
    upstream = std::make_unique<ma::Upstream>(flags.upstream, upstream_http.get(), &clock);
  }

  ma::MetricsApiOptions api_options;
  // The history the trend is fitted over: the model's window, bounded by the history kept.
  api_options.window_seconds =
      std::min(flags.predictor.engine.model.window_seconds, flags.predictor.engine.window_seconds);
  api_options.eta_cap_seconds = flags.eta_cap_seconds;
  ma::MetricsApi api(source, &clock, api_options);
  // With the engine: its metrics, the serving certificate's expiry and selector misses (the
  // Adapter renders the forecast age itself only without extra metrics, for --fake-forecasts).
  std::function<std::string()> extra_metrics;
  if (exporter) {
    extra_metrics = [&] {
      return exporter->Render() + canary->Render() + ma::ServingCertificateMetrics(cert_file) +
             "# HELP oomcast_selector_no_match_total External metric reads whose label selector "
             "matched no container while forecasts were fresh.\n"
             "# TYPE oomcast_selector_no_match_total counter\n"
             "oomcast_selector_no_match_total " +
             std::to_string(api.selector_no_matches()) + "\n";
    };
  }
  ma::Adapter adapter(&api, &authn, &authz, upstream.get(), &clock, extra_metrics);

  ma::ServerOptions server_options = flags.server;
  server_options.bind_address = flags.bind_address;
  server_options.port = flags.secure_port;
  server_options.io_threads = flags.io_threads;
  server_options.cert_file = cert_file;
  server_options.key_file = key_file;
  for (const std::string* pem : {&authn_config.client_ca_pem, &authn_config.requestheader_ca_pem}) {
    if (!pem->empty()) server_options.client_ca_pems.push_back(*pem);
  }
  auto server = ma::HttpsServer::Start(server_options, &adapter, *verifier);
  if (!server.ok()) {
    Fail(server.status().code() == oomcast::StatusCode::kInvalidArgument ? 2 : 1,
         server.status().message());
  }
  oomcast::LogInfo("serving external.metrics.k8s.io/v1beta1",
                   {{"address", flags.bind_address}, {"port", std::to_string((*server)->port())}});

  std::atomic<bool> stop{false};
  std::thread engine_thread;
  if (engine) {
    engine_thread = std::thread([&] {
      engine->Run(stop, [&](double seconds, const oomcast::Status& st) {
        exporter->ObserveCycle(seconds, st);
        canary->Update(clock.NowUnixSeconds(), engine->Snapshot());
        if (!st.ok()) oomcast::LogWarn("forecast cycle failed", {{"err", st.ToString()}});
      });
    });
  }
  std::thread pod_metadata_thread;
  // Watches of 30 s (resumed from their resourceVersion): the thread sees `stop` within that.
  if (pod_metadata) pod_metadata_thread = std::thread([&] { pod_metadata->Run(stop, 30); });
  std::thread discovery_thread;
  if (upstream) {
    discovery_thread = std::thread([&] {
      while (!stop.load()) {
        if (upstream->DiscoveryDue()) {
          auto st = upstream->RefreshDiscovery();
          if (!st.ok()) oomcast::LogWarn("upstream discovery failed", {{"err", st.ToString()}});
        }
        for (int i = 0; i < 5 && !stop.load(); ++i) clock.SleepFor(0.1);
      }
    });
  }

  // The authentication ConfigMap is re-read periodically; CA rotations apply to new connections.
  std::thread authn_refresh_thread;
  if (kube && !flags.authentication_skip_lookup) {
    authn_refresh_thread = std::thread([&] {
      const double kRefreshSeconds = flags.authentication_config_refresh_seconds;
      ma::AuthnConfig current = authn_config;
      double next = clock.NowUnixSeconds() + kRefreshSeconds;
      while (!stop.load()) {
        if (clock.NowUnixSeconds() >= next) {
          next = clock.NowUnixSeconds() + kRefreshSeconds;
          auto cfg = ma::LoadAuthnConfigFromCluster(kube.get(), flag_authn_config);
          if (!cfg.ok()) {
            oomcast::LogWarn("re-reading the authentication ConfigMap failed",
                             {{"err", cfg.status().ToString()}});
          } else if (!(*cfg == current)) {
            auto v = ma::CertificateVerifier::Create(*cfg);
            if (!v.ok()) {
              oomcast::LogWarn("new authentication ConfigMap rejected",
                               {{"err", v.status().ToString()}});
            } else {
              std::vector<std::string> pems;
              for (const std::string* pem : {&cfg->client_ca_pem, &cfg->requestheader_ca_pem}) {
                if (!pem->empty()) pems.push_back(*pem);
              }
              authn.UpdateConfig(*cfg);
              (*server)->UpdateClientAuthentication(*v, std::move(pems));
              current = *cfg;
              oomcast::LogInfo("authentication configuration updated from the cluster");
            }
          }
        }
        clock.SleepFor(0.2);
      }
    });
  }

  int sig = 0;
  sigwait(&signals, &sig);
  oomcast::LogInfo("shutting down", {{"signal", std::to_string(sig)}});
  stop = true;
  (*server)->Stop();
  if (engine_thread.joinable()) engine_thread.join();
  if (discovery_thread.joinable()) discovery_thread.join();
  if (pod_metadata_thread.joinable()) pod_metadata_thread.join();
  if (authn_refresh_thread.joinable()) authn_refresh_thread.join();
  return 0;
}
