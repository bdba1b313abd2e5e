#include "oomcast/metrics_adapter/options.h"

#include <cstdlib>
#include <set>

#include "oomcast/flags.h"
#include "oomcast/log.h"
#include "oomcast/metrics_adapter/server.h"
#include "oomcast/units.h"

namespace oomcast::metrics_adapter {
namespace {

const std::set<std::string>& BoolFlags() {
  static const std::set<std::string> k = {"generate-self-signed-cert", "authentication-skip-lookup",
                                          "upstream-insecure-skip-tls-verify", "help"};
  return k;
}

const std::set<std::string>& ValueFlags() {
  static const std::set<std::string> k = {"config",
                                          "secure-port",
                                          "bind-address",
                                          "tls-cert-file",
                                          "tls-private-key-file",
                                          "cert-dir",
                                          "io-threads",
                                          "max-connections",
                                          "idle-timeout",
                                          "max-request-header-bytes",
                                          "token-review-workers",
                                          "token-review-queue",
                                          "access-review-workers",
                                          "access-review-queue",
                                          "upstream-workers",
                                          "upstream-queue",
                                          "authentication-token-webhook-cache-size",
                                          "authorization-webhook-cache-size",
                                          "tls-min-version",
                                          "tls-cipher-suites",
                                          "client-ca-file",
                                          "requestheader-client-ca-file",
                                          "requestheader-allowed-names",
                                          "requestheader-username-headers",
                                          "requestheader-group-headers",
                                          "requestheader-extra-headers-prefix",
                                          "kubeconfig",
                                          "pod-labels-source",
                                          "authentication-kubeconfig",
                                          "authorization-kubeconfig",
                                          "authorization-mode",
                                          "authentication-config-refresh",
                                          "authentication-token-webhook-cache-ttl",
                                          "authorization-webhook-cache-authorized-ttl",
                                          "authorization-webhook-cache-unauthorized-ttl",
                                          "upstream-external-metrics",
                                          "upstream-ca-file",
                                          "upstream-token-file",
                                          "upstream-client-cert-file",
                                          "upstream-client-key-file",
                                          "upstream-timeout",
                                          "upstream-discovery-refresh",
                                          "eta-cap",
                                          "log-level",
                                          "fake-forecasts"};
  return k;
}

bool IsPredictorFlag(const std::string& name) {
  predictor::PredictorConfig probe;
  auto known = predictor::ApplyPredictorFlag(name, "", &probe);
  return !known.ok() || *known;
}

// The field paired with `name` in `fields`; nullptr: none is.
template <typename T, size_t N>
T* FieldOf(const std::string& name, const std::pair<const char*, T*> (&fields)[N]) {
  for (const auto& [flag, field] : fields) {
    if (name == flag) return field;
  }
  return nullptr;
}

// The field of *f a flag taking any string sets (the three kubeconfig spellings share one);
// nullptr: name is not such a flag.
std::string* StringField(const std::string& name, AdapterFlags* f) {
  const std::pair<const char*, std::string*> fields[] = {
      {"config", &f->config_file},
      {"bind-address", &f->bind_address},
      {"tls-cert-file", &f->tls_cert_file},
      {"tls-private-key-file", &f->tls_private_key_file},
      {"cert-dir", &f->cert_dir},
      {"client-ca-file", &f->client_ca_file},
      {"requestheader-client-ca-file", &f->requestheader_client_ca_file},
      {"kubeconfig", &f->kubeconfig},
      {"authentication-kubeconfig", &f->kubeconfig},
      {"authorization-kubeconfig", &f->kubeconfig},
      {"upstream-ca-file", &f->upstream.ca_file},
      {"upstream-token-file", &f->upstream.token_file},
      {"upstream-client-cert-file", &f->upstream.client_cert_file},
      {"upstream-client-key-file", &f->upstream.client_key_file},
      {"fake-forecasts", &f->fake_forecasts_file},
  };
  return FieldOf(name, fields);
}

// The list of *f a comma-separated list flag appends to; nullptr: name is not such a flag.
std::vector<std::string>* ListField(const std::string& name, AdapterFlags* f) {
  const std::pair<const char*, std::vector<std::string>*> fields[] = {
      {"requestheader-allowed-names", &f->requestheader_allowed_names},
      {"requestheader-username-headers", &f->requestheader_username_headers},
      {"requestheader-group-headers", &f->requestheader_group_headers},
      {"requestheader-extra-headers-prefix", &f->requestheader_extra_headers_prefix},
  };
  return FieldOf(name, fields);
}

// The field of *f a boolean flag sets; nullptr: name is not such a flag.
bool* BoolField(const std::string& name, AdapterFlags* f) {
  const std::pair<const char*, bool*> fields[] = {
      {"generate-self-signed-cert", &f->generate_self_signed_cert},
      {"authentication-skip-lookup", &f->authentication_skip_lookup},
      {"upstream-insecure-skip-tls-verify", &f->upstream.insecure_skip_verify},
  };
  return FieldOf(name, fields);
}

// The field (seconds) of *f a duration flag sets; *positive: the duration must be > 0.
// nullptr: name is not such a flag.
double* DurationField(const std::string& name, AdapterFlags* f, bool* positive) {
  struct Field {
    const char* flag;
    double* field;
    bool positive;
  };
  const Field fields[] = {
      {"idle-timeout", &f->server.idle_timeout_seconds, true},
      {"authentication-config-refresh", &f->authentication_config_refresh_seconds, true},
      {"authentication-token-webhook-cache-ttl", &f->token_cache_ttl_seconds, false},
      {"authorization-webhook-cache-authorized-ttl", &f->authorized_cache_ttl_seconds, false},
      {"authorization-webhook-cache-unauthorized-ttl", &f->unauthorized_cache_ttl_seconds, false},
      {"upstream-timeout", &f->upstream.timeout_seconds, false},
      {"upstream-discovery-refresh", &f->upstream.discovery_refresh_seconds, false},
      {"eta-cap", &f->eta_cap_seconds, false},
  };
  for (const Field& d : fields) {
    if (name != d.flag) continue;
    *positive = d.positive;
    return d.field;
  }
  return nullptr;
}

// --name's value as an integer in [lo, hi].
StatusOr<int> IntegerFlag(const std::string& name, const std::string& value, int lo, int hi) {
  auto v = FlagInteger(name, value, lo, hi);
  if (!v.ok()) return v.status();
  return static_cast<int>(*v);
}

// Applies a serving flag (port, threads, connection and stage limits, TLS versions and suites)
// to *f. Returns false when name is none of them; an error for a value out of range.
StatusOr<bool> ApplyServingFlag(const std::string& name, const std::string& value,
                                AdapterFlags* f) {
  struct IntField {
    const char* flag;
    int lo, hi;
  };
  const IntField int_fields[] = {
      {"secure-port", 0, 65535},          {"io-threads", 1, 64},
      {"max-connections", 1, 1000000},    {"max-request-header-bytes", 1024, 1 << 24},
      {"token-review-workers", 1, 256},   {"access-review-workers", 1, 256},
      {"upstream-workers", 1, 256},       {"token-review-queue", 0, 100000},
      {"access-review-queue", 0, 100000}, {"upstream-queue", 0, 100000}};
  for (const IntField& i : int_fields) {
    if (name != i.flag) continue;
    auto v = IntegerFlag(name, value, i.lo, i.hi);
    if (!v.ok()) return v.status();
    if (name == "secure-port") {
      f->secure_port = *v;
    } else if (name == "io-threads") {
      f->io_threads = *v;
    } else if (name == "max-connections") {
      f->server.max_connections = *v;
    } else if (name == "max-request-header-bytes") {
      f->server.max_header_bytes = static_cast<size_t>(*v);
    } else {
      // --{token-review,access-review,upstream}-{workers,queue}.
      StageLimits& l = name[0] == 't'   ? f->server.token_review
                       : name[0] == 'a' ? f->server.access_review
                                        : f->server.upstream;
      (name.size() > 6 && name.compare(name.size() - 6, 6, "-queue") == 0 ? l.queue : l.workers) =
          *v;
    }
    return true;
  }
  if (name == "tls-min-version") {
    if (Status st = CheckTlsMinVersion(value); !st.ok()) return st;
    f->server.tls_min_version = value;
    return true;
  }
  if (name == "tls-cipher-suites") {
    f->server.tls_cipher_suites.clear();
    for (auto& s : FlagList(value)) f->server.tls_cipher_suites.push_back(s);
    if (auto list = OpenSslCipherList(f->server.tls_cipher_suites); !list.ok()) {
      return list.status();
    }
    return true;
  }
  return false;
}

// Applies a flag whose value is one of a few words or a bounded number (cache sizes, label
// source, authorization mode, upstream URL, log level) to *f. Returns false when name is none of
// them; an error for any other value.
StatusOr<bool> ApplyCheckedFlag(const std::string& name, const std::string& value,
                                AdapterFlags* f) {
  if (name == "authentication-token-webhook-cache-size" ||
      name == "authorization-webhook-cache-size") {
    auto v = IntegerFlag(name, value, 1, 10000000);
    if (!v.ok()) return v.status();
    (name.rfind("authentication", 0) == 0 ? f->token_cache_size : f->access_cache_size) =
        static_cast<size_t>(*v);
  } else if (name == "pod-labels-source") {
    if (value != "kubernetes" && value != "kube-state-metrics") {
      return InvalidArgumentError(
          "--pod-labels-source: must be kubernetes or kube-state-metrics, got \"" + value + "\"");
    }
    f->pod_labels_source = value;
  } else if (name == "authorization-mode") {
    if (value != "Webhook" && value != "AlwaysAllow") {
      return InvalidArgumentError("--authorization-mode: must be Webhook or AlwaysAllow, got \"" +
                                  value + "\"");
    }
    f->authorization_mode = value;
  } else if (name == "upstream-external-metrics") {
    if (value.rfind("https://", 0) != 0 && value.rfind("http://", 0) != 0) {
      return InvalidArgumentError("--upstream-external-metrics: want an http(s):// URL, got \"" +
                                  value + "\"");
    }
    f->upstream.url = value;
  } else if (name == "log-level") {
    LogLevel l;
    if (!ParseLogLevel(value, &l)) {
      return InvalidArgumentError("--log-level: must be debug, info, warn or error, got \"" +
                                  value + "\"");
    }
    f->log_level = value;
  } else {
    return false;
  }
  return true;
}

// Applies one of the adapter's own flags (not the predictor engine's) to *f. Returns false when
// name is none of them; an error for a bad value.
StatusOr<bool> ApplyAdapterFlag(const std::string& name, const std::string& value,
                                AdapterFlags* f) {
  if (std::string* s = StringField(name, f)) {
    *s = value;
    return true;
  }
  if (std::vector<std::string>* l = ListField(name, f)) {
    for (auto& s : FlagList(value)) l->push_back(s);
    return true;
  }
  if (bool* b = BoolField(name, f)) {
    auto v = FlagBool(name, value);
    if (!v.ok()) return v.status();
    *b = *v;
    return true;
  }
  bool positive = false;
  if (double* d = DurationField(name, f, &positive)) {
    auto v = FlagDuration(name, value);
    if (!v.ok()) return v.status();
    if (positive && *v <= 0) return InvalidArgumentError("--" + name + ": must be positive");
    *d = *v;
    return true;
  }
  auto serving = ApplyServingFlag(name, value, f);
  if (!serving.ok() || *serving) return serving;
  return ApplyCheckedFlag(name, value, f);
}

// Checks the flags that go together, then layers --config's file and the predictor flags
// (command line wins) onto f->predictor.
Status FinishAdapterFlags(const std::vector<std::pair<std::string, std::string>>& predictor_flags,
                          AdapterFlags* f) {
  if (!f->upstream.client_cert_file.empty() != !f->upstream.client_key_file.empty()) {
    return InvalidArgumentError(
        "--upstream-client-cert-file and --upstream-client-key-file go together");
  }
  if (!f->config_file.empty()) {
    auto cfg = predictor::LoadConfigFile(f->config_file, f->predictor, {"adapter"});
    if (!cfg.ok()) return cfg.status().WithContext("--config");
    f->predictor = std::move(cfg).value();
  }
  for (const auto& [name, value] : predictor_flags) {
    auto known = predictor::ApplyPredictorFlag(name, value, &f->predictor);
    if (!known.ok()) return known.status();
  }
  return Status::Ok();
}

}  // namespace

StatusOr<AdapterFlags> ParseAdapterFlags(const std::vector<std::string>& args) {
  AdapterFlags f;
  std::vector<std::pair<std::string, std::string>> predictor_flags;
  FlagSpec spec;
  spec.is_bool = [](std::string_view name) {
    return BoolFlags().count(std::string(name)) > 0 || predictor::IsPredictorBoolFlag(name);
  };
  spec.is_known = [](std::string_view name) {
    return ValueFlags().count(std::string(name)) > 0 || IsPredictorFlag(std::string(name));
  };
  spec.short_names = {{"h", "help"}};
  auto parsed = ParseFlags(args, spec);
  if (!parsed.ok()) return parsed.status();
  f.help = parsed->help;
  for (const auto& [name, value] : parsed->flags) {
    auto applied = ApplyAdapterFlag(name, value, &f);
    if (!applied.ok()) return applied.status();
    if (*applied) continue;
    predictor::PredictorConfig probe;
    auto known = predictor::ApplyPredictorFlag(name, value, &probe);
    if (!known.ok()) return known.status();
    if (!*known) return InvalidArgumentError("unknown flag --" + name);
    predictor_flags.emplace_back(name, value);
  }
  if (Status st = FinishAdapterFlags(predictor_flags, &f); !st.ok()) return st;
  return f;
}

std::string AdapterUsage() {
  return R"(Usage: oomcast-metrics-adapter [flags]

Serves oomcast's memory forecasts as external.metrics.k8s.io/v1beta1 (an aggregated API server
for HPA v2 and kubectl), computed in-process by the embedded predictor engine.

Serving:
  --secure-port N                       HTTPS port (default 6443; 0 picks a free one)
  --bind-address IP                     (default 0.0.0.0)
  --tls-cert-file F, --tls-private-key-file F
                                        serving certificate and key (PEM), reloaded on change
  --generate-self-signed-cert           write a self-signed pair into --cert-dir (development)
  --cert-dir D                          (default /tmp/oomcast-metrics-adapter)
  --io-threads N                        I/O threads (default 2)
  --tls-min-version V                   VersionTLS12 (default) or VersionTLS13
  --tls-cipher-suites A,B               TLS 1.2 suites by IANA name (default: ECDHE with
                                        AES-GCM or ChaCha20-Poly1305 only); TLS 1.3 suites are
                                        fixed
Limits (every request beyond them gets a precise answer; see README "Security model"):
  --max-connections N                   open connections (default 1000); more wait in the
                                        listen backlog
  --idle-timeout D                      a whole request must arrive within D of the previous
                                        response or the handshake (default 90s)
  --max-request-header-bytes N          request line and headers (default 32768; more: 431)
  --token-review-workers N, --token-review-queue N      TokenReview pool (default 4, 64)
  --access-review-workers N, --access-review-queue N    SubjectAccessReview pool (4, 64)
  --upstream-workers N, --upstream-queue N              pass-through pool (4, 64)
                                        a full pool answers 429 with Retry-After: 1
  --authentication-token-webhook-cache-size N, --authorization-webhook-cache-size N
                                        LRU entries of the token and access caches (10000 each)
Authentication (delegated, like k8s.io/apiserver):
  --client-ca-file F                    CA of client certificates (user = CN, groups = O)
  --requestheader-client-ca-file F      CA of the front proxy's (aggregator's) certificate
  --requestheader-allowed-names A,B     allowed front proxy CNs (default any)
  --requestheader-username-headers H    (default X-Remote-User)
  --requestheader-group-headers H       (default X-Remote-Group)
  --requestheader-extra-headers-prefix P   (default X-Remote-Extra-)
  --kubeconfig F                        Kubernetes API for TokenReview/SubjectAccessReview and
                                        the kube-system/extension-apiserver-authentication
                                        ConfigMap (default: in-cluster when available)
  --pod-labels-source kubernetes|kube-state-metrics
                                        pod labels for selectors: a metadata-only watch of
                                        pods (needs list/watch on pods), or the kube_pod_labels
                                        query (default kube-state-metrics)
  --authentication-skip-lookup          do not read that ConfigMap
  --authentication-config-refresh D     re-read period of that ConfigMap (default 60s)
  --authentication-token-webhook-cache-ttl D   (default 10s)
Authorization:
  --authorization-mode Webhook|AlwaysAllow     SubjectAccessReview (default), or allow every
                                        authenticated user (development only)
  --authorization-webhook-cache-authorized-ttl D, --authorization-webhook-cache-unauthorized-ttl D
                                        (default 10s each)
Another external metrics provider (pass-through):
  --upstream-external-metrics URL       forward metrics oomcast does not serve; merge discovery
  --upstream-ca-file F, --upstream-token-file F, --upstream-insecure-skip-tls-verify
  --upstream-client-cert-file F, --upstream-client-key-file F
                                        present this certificate upstream and forward the
                                        caller's identity as X-Remote-* headers
  --upstream-timeout D (default 10s), --upstream-discovery-refresh D (default 60s)
Values:
  --eta-cap D                           memory_oom_eta_seconds when no OOM is forecast (default
                                        365d)
Predictor (as oomcast-predictor; --config FILE loads YAML first, flags override):
)" + predictor::PredictorFlagsHelp() +
         R"(
  --log-level debug|info|warn|error
TEST ONLY:
  --fake-forecasts FILE                 serve forecasts from a JSON file instead of running the
                                        engine (integration tests and benchmarks only)
)";
}

}  // namespace oomcast::metrics_adapter
