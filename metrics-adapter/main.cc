// oomcast-metrics-adapter: wires the predictor engine (or, for tests, a forecast file), the
// Kubernetes API for delegated auth, an optional upstream provider and the HTTPS server. Each
// Make* function builds one dependency or exits (code 2 for bad flags or configuration, as
// Fail says); main is the list of those calls, then the threads that run them.
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
#include "oomcast/metrics_adapter/authn_reloader.h"
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
namespace predictor = oomcast::predictor;

namespace {

[[noreturn]] void Fail(int code, const std::string& message) {
  std::cerr << "oomcast-metrics-adapter: " << message << "\n";
  std::exit(code);
}

template <typename T>
T OrFail(oomcast::StatusOr<T> v, const std::string& context = "") {
  if (!v.ok()) Fail(2, context + v.status().message());
  return std::move(v).value();
}

std::string ReadFileOrDie(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(2, flag + ": cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The CAs a client certificate may be signed by, for the TLS handshake's list.
std::vector<std::string> ClientCaPems(const ma::AuthnConfig& config) {
  std::vector<std::string> pems;
  for (const std::string* pem : {&config.client_ca_pem, &config.requestheader_ca_pem}) {
    if (!pem->empty()) pems.push_back(*pem);
  }
  return pems;
}

// Where forecasts come from: the embedded engine over the TSDB, or (tests only) a file.
struct Forecasts {
  std::unique_ptr<oomcast::HttpClient> tsdb_http;
  std::unique_ptr<oomcast::PrometheusClient> prometheus;
  std::unique_ptr<predictor::Engine> engine;  // Null with --fake-forecasts.
  std::unique_ptr<predictor::MetricsExporter> exporter;
  std::unique_ptr<predictor::CanaryMonitor> canary;  // The config's `canary:` list.
  std::unique_ptr<ma::FileForecastSource> fake;
  const predictor::ForecastSource* source = nullptr;
};

Forecasts MakeForecasts(const ma::AdapterFlags& flags, oomcast::Clock* clock) {
  Forecasts f;
  if (!flags.fake_forecasts_file.empty()) {
    oomcast::LogWarn("serving forecasts from a file (--fake-forecasts): TEST ONLY",
                     {{"file", flags.fake_forecasts_file}});
    f.fake = OrFail(ma::FileForecastSource::Open(flags.fake_forecasts_file, clock));
    f.source = f.fake.get();
    return f;
  }
  if (auto st = predictor::ValidateConfig(flags.predictor, true); !st.ok()) Fail(2, st.message());
  f.tsdb_http = OrFail(oomcast::NewHttpClient(flags.predictor.http));
  f.prometheus =
      oomcast::NewHttpPrometheusClient(flags.predictor.backend, f.tsdb_http.get(), clock);
  f.engine = std::make_unique<predictor::Engine>(flags.predictor.engine, f.prometheus.get(), clock);
  f.exporter = std::make_unique<predictor::MetricsExporter>(f.engine.get(), clock);
  f.canary = OrFail(predictor::CanaryMonitor::Create(flags.predictor.canary));
  f.source = f.engine.get();
  return f;
}

// The serving certificate and key files: the flags', or a generated self-signed pair.
std::pair<std::string, std::string> MakeServingCertificate(const ma::AdapterFlags& flags) {
  std::string cert_file = flags.tls_cert_file, key_file = flags.tls_private_key_file;
  if (cert_file.empty() != key_file.empty()) {
    Fail(2, "--tls-cert-file and --tls-private-key-file go together");
  }
  if (!cert_file.empty()) return {cert_file, key_file};
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
  return {cert_file, key_file};
}

// The Kubernetes API (delegated authentication and authorization, pod labels), or null when
// not in a cluster and no --kubeconfig was given.
std::unique_ptr<oomcast::KubeClient> MakeKubeClient(const ma::AdapterFlags& flags) {
  oomcast::StatusOr<oomcast::KubeRestConfig> rest = flags.kubeconfig.empty()
                                                        ? oomcast::LoadInClusterConfig()
                                                        : oomcast::LoadKubeconfig(flags.kubeconfig);
  if (rest.ok()) return OrFail(oomcast::NewKubeClient(*rest), "kubernetes client: ");
  if (!flags.kubeconfig.empty()) Fail(2, "--kubeconfig: " + rest.status().message());
  oomcast::LogWarn(
      "no Kubernetes API (not in a cluster, no --kubeconfig): bearer tokens are "
      "rejected and only system:masters or --authorization-mode=AlwaysAllow "
      "are authorized");
  return nullptr;
}

// Client authentication as the flags give it.
ma::AuthnConfig MakeFlagAuthnConfig(const ma::AdapterFlags& flags) {
  ma::AuthnConfig c;
  if (!flags.client_ca_file.empty()) {
    c.client_ca_pem = ReadFileOrDie("--client-ca-file", flags.client_ca_file);
  }
  if (!flags.requestheader_client_ca_file.empty()) {
    c.requestheader_ca_pem =
        ReadFileOrDie("--requestheader-client-ca-file", flags.requestheader_client_ca_file);
  }
  c.requestheader_allowed_names = flags.requestheader_allowed_names;
  if (!flags.requestheader_username_headers.empty()) {
    c.username_headers = flags.requestheader_username_headers;
  }
  if (!flags.requestheader_group_headers.empty()) {
    c.group_headers = flags.requestheader_group_headers;
  }
  if (!flags.requestheader_extra_headers_prefix.empty()) {
    c.extra_headers_prefixes = flags.requestheader_extra_headers_prefix;
  }
  return c;
}

// The flags' configuration completed from the cluster's authentication ConfigMap (flags win).
ma::AuthnConfig MakeAuthnConfig(const ma::AdapterFlags& flags, oomcast::KubeClient* kube,
                                const ma::AuthnConfig& flag_config) {
  if (kube == nullptr || flags.authentication_skip_lookup) return flag_config;
  auto cfg = ma::LoadAuthnConfigFromCluster(kube, flag_config);
  if (cfg.ok()) return std::move(cfg).value();
  oomcast::LogWarn("cannot read the authentication ConfigMap; using flags only",
                   {{"err", cfg.status().ToString()}});
  return flag_config;
}

ma::AuthOptions MakeAuthOptions(const ma::AdapterFlags& flags) {
  ma::AuthOptions o;
  o.token_cache_ttl_seconds = flags.token_cache_ttl_seconds;
  o.authorized_cache_ttl_seconds = flags.authorized_cache_ttl_seconds;
  o.unauthorized_cache_ttl_seconds = flags.unauthorized_cache_ttl_seconds;
  o.token_cache_size = flags.token_cache_size;
  o.access_cache_size = flags.access_cache_size;
  o.always_allow = flags.authorization_mode == "AlwaysAllow";
  return o;
}

// Another external metrics provider (pass-through), or none.
struct UpstreamProvider {
  std::unique_ptr<oomcast::HttpClient> http;
  std::unique_ptr<ma::Upstream> upstream;
};

UpstreamProvider MakeUpstream(const ma::AdapterFlags& flags, oomcast::Clock* clock) {
  UpstreamProvider u;
  if (flags.upstream.url.empty()) return u;
  oomcast::HttpClientOptions o;
  o.ca_file = flags.upstream.ca_file;
  o.client_cert_file = flags.upstream.client_cert_file;
  o.client_key_file = flags.upstream.client_key_file;
  o.insecure_skip_verify = flags.upstream.insecure_skip_verify;
  o.max_response_bytes = 64u << 20;
  u.http = OrFail(oomcast::NewHttpClient(o), "--upstream-*: ");
  u.upstream = std::make_unique<ma::Upstream>(flags.upstream, u.http.get(), clock);
  return u;
}

ma::MetricsApiOptions MakeApiOptions(const ma::AdapterFlags& flags) {
  ma::MetricsApiOptions o;
  // The history the trend is fitted over: the model's window, bounded by the history kept.
  o.window_seconds =
      std::min(flags.predictor.engine.model.window_seconds, flags.predictor.engine.window_seconds);
  o.eta_cap_seconds = flags.eta_cap_seconds;
  return o;
}

ma::ServerOptions MakeServerOptions(const ma::AdapterFlags& flags, const std::string& cert_file,
                                    const std::string& key_file,
                                    const ma::AuthnConfig& authn_config) {
  ma::ServerOptions o = flags.server;
  o.bind_address = flags.bind_address;
  o.port = flags.secure_port;
  o.io_threads = flags.io_threads;
  o.cert_file = cert_file;
  o.key_file = key_file;
  o.client_ca_pems = ClientCaPems(authn_config);
  return o;
}

// Polls the upstream provider's discovery when due, until `stop`.
void RunUpstreamDiscovery(ma::Upstream* upstream, oomcast::Clock* clock,
                          const std::atomic<bool>& stop) {
  while (!stop.load()) {
    if (upstream->DiscoveryDue()) {
      auto st = upstream->RefreshDiscovery();
      if (!st.ok()) oomcast::LogWarn("upstream discovery failed", {{"err", st.ToString()}});
    }
    for (int i = 0; i < 5 && !stop.load(); ++i) clock->SleepFor(0.1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = ma::ParseAdapterFlags({argv + 1, argv + argc});
  if (!parsed.ok()) Fail(2, parsed.status().message() + " (see --help)");
  ma::AdapterFlags flags = std::move(parsed).value();
  if (flags.help) {
    std::cout << ma::AdapterUsage();
    return 0;
  }
  oomcast::LogLevel level = oomcast::LogLevel::kInfo;
  oomcast::ParseLogLevel(flags.log_level, &level);  // Checked by ParseAdapterFlags.
  oomcast::SetLogLevel(level);

  // Block the stop signals in every thread; main waits for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  oomcast::SystemClock clock;
  Forecasts forecasts = MakeForecasts(flags, &clock);
  const auto [cert_file, key_file] = MakeServingCertificate(flags);
  std::unique_ptr<oomcast::KubeClient> kube = MakeKubeClient(flags);

  // Pod labels from the Kubernetes API (metadata-only watch) instead of kube_pod_labels.
  std::unique_ptr<predictor::KubePodMetadataSource> pod_metadata;
  if (forecasts.engine && flags.pod_labels_source == "kubernetes") {
    if (!kube) {
      Fail(2,
           "--pod-labels-source=kubernetes needs the Kubernetes API (in-cluster or --kubeconfig)");
    }
    pod_metadata = std::make_unique<predictor::KubePodMetadataSource>(kube.get(), &clock);
    forecasts.engine->set_pod_label_source(pod_metadata.get());
  }

  const ma::AuthnConfig flag_authn_config = MakeFlagAuthnConfig(flags);
  const ma::AuthnConfig authn_config = MakeAuthnConfig(flags, kube.get(), flag_authn_config);
  auto verifier = OrFail(ma::CertificateVerifier::Create(authn_config));
  const ma::AuthOptions auth_options = MakeAuthOptions(flags);
  std::unique_ptr<ma::KubeTokenReviewer> token_reviewer;
  std::unique_ptr<ma::KubeAccessReviewer> access_reviewer;
  if (kube) {
    token_reviewer = std::make_unique<ma::KubeTokenReviewer>(kube.get());
    access_reviewer = std::make_unique<ma::KubeAccessReviewer>(kube.get());
  }
  ma::Authenticator authn(authn_config, token_reviewer.get(), &clock, auth_options);
  ma::Authorizer authz(access_reviewer.get(), &clock, auth_options);
  UpstreamProvider upstream = MakeUpstream(flags, &clock);

  ma::MetricsApi api(forecasts.source, &clock, MakeApiOptions(flags));
  // With the engine: its metrics, the serving certificate's expiry and selector misses (the
  // Adapter renders the forecast age itself only without extra metrics, for --fake-forecasts).
  std::function<std::string()> extra_metrics;
  if (forecasts.exporter) {
    extra_metrics = [&, cert = cert_file] {
      return forecasts.exporter->Render() + forecasts.canary->Render() +
             ma::ServingCertificateMetrics(cert) +
             "# HELP oomcast_selector_no_match_total External metric reads whose label selector "
             "matched no container while forecasts were fresh.\n"
             "# TYPE oomcast_selector_no_match_total counter\n"
             "oomcast_selector_no_match_total " +
             std::to_string(api.selector_no_matches()) + "\n";
    };
  }
  ma::Adapter adapter(&api, &authn, &authz, upstream.upstream.get(), &clock, extra_metrics);

  auto server = ma::HttpsServer::Start(MakeServerOptions(flags, cert_file, key_file, authn_config),
                                       &adapter, verifier);
  if (!server.ok()) {
    Fail(server.status().code() == oomcast::StatusCode::kInvalidArgument ? 2 : 1,
         server.status().message());
  }
  oomcast::LogInfo("serving external.metrics.k8s.io/v1beta1",
                   {{"address", flags.bind_address}, {"port", std::to_string((*server)->port())}});

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  if (forecasts.engine) {
    threads.emplace_back([&] {
      forecasts.engine->Run(stop, [&](double seconds, const oomcast::Status& st) {
        forecasts.exporter->ObserveCycle(seconds, st);
        forecasts.canary->Update(clock.NowUnixSeconds(), forecasts.engine->Snapshot());
        if (!st.ok()) oomcast::LogWarn("forecast cycle failed", {{"err", st.ToString()}});
      });
    });
  }
  // Watches of 30 s (resumed from their resourceVersion): the thread sees `stop` within that.
  if (pod_metadata) threads.emplace_back([&] { pod_metadata->Run(stop, 30); });
  if (upstream.upstream) {
    threads.emplace_back([&] { RunUpstreamDiscovery(upstream.upstream.get(), &clock, stop); });
  }
  // The authentication ConfigMap is re-read periodically; CA rotations apply to new connections.
  std::unique_ptr<ma::AuthnConfigReloader> reloader;
  if (kube && !flags.authentication_skip_lookup) {
    reloader = std::make_unique<ma::AuthnConfigReloader>(
        kube.get(), &clock, flag_authn_config, authn_config,
        flags.authentication_config_refresh_seconds,
        [&](const ma::AuthnConfig& cfg, std::shared_ptr<const ma::CertificateVerifier> v) {
          authn.UpdateConfig(cfg);
          (*server)->UpdateClientAuthentication(std::move(v), ClientCaPems(cfg));
        });
    threads.emplace_back([&] { reloader->Run(stop); });
  }

  int sig = 0;
  sigwait(&signals, &sig);
  oomcast::LogInfo("shutting down", {{"signal", std::to_string(sig)}});
  stop = true;
  (*server)->Stop();
  for (auto& t : threads) t.join();
  return 0;
}
