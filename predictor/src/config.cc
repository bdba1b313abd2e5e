#include "oomcast/predictor/config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "oomcast/log.h"
#include "oomcast/predictor/canary_config.h"
#include "oomcast/units.h"
#include "yaml_keys.h"

namespace oomcast::predictor {
namespace {

constexpr const char* kRssQuery = R"(container_memory_rss{container!="",container!="POD"})";
constexpr const char* kWorkingSetQuery =
    R"(container_memory_working_set_bytes{container!="",container!="POD"})";

StatusOr<std::string> Str(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) return KeyError(path, "must be a string");
  return n.as<std::string>();
}

StatusOr<double> Duration(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) return KeyError(path, "must be a duration such as 15m");
  auto d = ParseDurationSeconds(n.as<std::string>());
  if (!d.ok()) return KeyError(path, d.status().message());
  return *d;
}

StatusOr<double> Number(const YAML::Node& n, const std::string& path, double lo, double hi) {
  if (!n.IsScalar()) return KeyError(path, "must be a number");
  std::string s = n.as<std::string>();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream m;
    m << "must be a number in [" << lo << ", " << hi << "], got \"" << s << "\"";
    return KeyError(path, m.str());
  }
  return v;
}

StatusOr<bool> Bool(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) return KeyError(path, "must be true or false");
  std::string s = n.as<std::string>();
  if (s == "true") return true;
  if (s == "false") return false;
  return KeyError(path, "must be true or false, got \"" + s + "\"");
}

#define OOMCAST_ASSIGN(lhs, expr)     \
  do {                                \
    auto _v = (expr);                 \
    if (!_v.ok()) return _v.status(); \
    lhs = *_v;                        \
  } while (0)

Status ParsePrometheus(const YAML::Node& n, PredictorConfig* c) {
  OOMCAST_RETURN_IF_ERROR(CheckKeys(n, "prometheus",
                                    {"url", "tenant", "bearerTokenFile", "basicAuth", "headers",
                                     "tls", "timeout", "maxRetries", "maxResponseBytes", "name"}));
  auto& b = c->backend;
  if (n["url"]) OOMCAST_ASSIGN(b.base_url, Str(n["url"], "prometheus.url"));
  if (n["name"]) OOMCAST_ASSIGN(b.name, Str(n["name"], "prometheus.name"));
  if (n["tenant"]) OOMCAST_ASSIGN(b.tenant, Str(n["tenant"], "prometheus.tenant"));
  if (n["bearerTokenFile"]) {
    OOMCAST_ASSIGN(b.bearer_token_file, Str(n["bearerTokenFile"], "prometheus.bearerTokenFile"));
  }
  if (auto ba = n["basicAuth"]) {
    OOMCAST_RETURN_IF_ERROR(CheckKeys(ba, "prometheus.basicAuth", {"username", "passwordFile"}));
    if (ba["username"]) {
      OOMCAST_ASSIGN(b.basic_auth_user, Str(ba["username"], "prometheus.basicAuth.username"));
    }
    if (ba["passwordFile"]) {
      OOMCAST_ASSIGN(b.basic_auth_password_file,
                     Str(ba["passwordFile"], "prometheus.basicAuth.passwordFile"));
    }
  }
  if (auto h = n["headers"]) {
    if (!h.IsMap()) return KeyError("prometheus.headers", "must be a mapping of name: value");
    for (const auto& kv : h) {
      std::string k = kv.first.as<std::string>();
      std::string v;
      OOMCAST_ASSIGN(v, Str(kv.second, "prometheus.headers." + k));
      b.extra_headers.emplace_back(k, v);
    }
  }
  if (auto t = n["tls"]) {
    OOMCAST_RETURN_IF_ERROR(
        CheckKeys(t, "prometheus.tls", {"caFile", "certFile", "keyFile", "insecureSkipVerify"}));
    if (t["caFile"]) OOMCAST_ASSIGN(c->http.ca_file, Str(t["caFile"], "prometheus.tls.caFile"));
    if (t["certFile"]) {
      OOMCAST_ASSIGN(c->http.client_cert_file, Str(t["certFile"], "prometheus.tls.certFile"));
    }
    if (t["keyFile"]) {
      OOMCAST_ASSIGN(c->http.client_key_file, Str(t["keyFile"], "prometheus.tls.keyFile"));
    }
    if (t["insecureSkipVerify"]) {
      OOMCAST_ASSIGN(c->http.insecure_skip_verify,
                     Bool(t["insecureSkipVerify"], "prometheus.tls.insecureSkipVerify"));
    }
  }
  if (n["timeout"]) OOMCAST_ASSIGN(b.timeout_seconds, Duration(n["timeout"], "prometheus.timeout"));
  if (n["maxRetries"]) {
    double r;
    OOMCAST_ASSIGN(r, Number(n["maxRetries"], "prometheus.maxRetries", 0, 10));
    b.max_retries = static_cast<int>(r);
  }
  if (n["maxResponseBytes"]) {
    double r;
    OOMCAST_ASSIGN(r, Number(n["maxResponseBytes"], "prometheus.maxResponseBytes", 1024, 4e9));
    c->http.max_response_bytes = static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status ParseQueries(const YAML::Node& n, PredictorConfig* c) {
  OOMCAST_RETURN_IF_ERROR(
      CheckKeys(n, "queries", {"memory", "memoryMetric", "limit", "podLabels", "namespaces"}));
  auto& q = c->engine.queries;
  if (n["memoryMetric"]) {
    std::string m;
    OOMCAST_ASSIGN(m, Str(n["memoryMetric"], "queries.memoryMetric"));
    if (m == "rss")
      q.memory_query = kRssQuery;
    else if (m == "workingSet")
      q.memory_query = kWorkingSetQuery;
    else
      return KeyError("queries.memoryMetric", "must be rss or workingSet, got \"" + m + "\"");
  }
  if (n["memory"]) OOMCAST_ASSIGN(q.memory_query, Str(n["memory"], "queries.memory"));
  if (n["limit"]) OOMCAST_ASSIGN(q.limit_query, Str(n["limit"], "queries.limit"));
  if (n["podLabels"]) OOMCAST_ASSIGN(q.pod_labels_query, Str(n["podLabels"], "queries.podLabels"));
  if (auto ns = n["namespaces"]) {
    if (!ns.IsSequence()) return KeyError("queries.namespaces", "must be a list of names");
    q.namespaces.clear();
    for (size_t i = 0; i < ns.size(); ++i) {
      std::string v;
      OOMCAST_ASSIGN(v, Str(ns[i], "queries.namespaces[" + std::to_string(i) + "]"));
      q.namespaces.push_back(v);
    }
  }
  return Status::Ok();
}

Status ParseForecast(const YAML::Node& n, PredictorConfig* c) {
  OOMCAST_RETURN_IF_ERROR(CheckKeys(n, "forecast",
                                    {"horizon", "window", "step", "interval", "staleAfter",
                                     "dropAfter", "alarmRisk", "lookbackDelay"}));
  auto& e = c->engine;
  if (n["horizon"]) {
    double h;
    OOMCAST_ASSIGN(h, Duration(n["horizon"], "forecast.horizon"));
    SetHorizon(h, &e.model);
  }
  if (n["window"]) OOMCAST_ASSIGN(e.window_seconds, Duration(n["window"], "forecast.window"));
  if (n["step"]) OOMCAST_ASSIGN(e.step_seconds, Duration(n["step"], "forecast.step"));
  if (n["interval"])
    OOMCAST_ASSIGN(e.interval_seconds, Duration(n["interval"], "forecast.interval"));
  if (n["staleAfter"]) {
    OOMCAST_ASSIGN(e.stale_after_seconds, Duration(n["staleAfter"], "forecast.staleAfter"));
  }
  if (n["dropAfter"]) {
    OOMCAST_ASSIGN(e.drop_after_seconds, Duration(n["dropAfter"], "forecast.dropAfter"));
  }
  if (n["lookbackDelay"]) {
    OOMCAST_ASSIGN(e.lookback_delay_seconds,
                   Duration(n["lookbackDelay"], "forecast.lookbackDelay"));
  }
  if (n["alarmRisk"]) {
    OOMCAST_ASSIGN(e.model.alarm_risk_threshold,
                   Number(n["alarmRisk"], "forecast.alarmRisk", 0, 1));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<PredictorConfig> ParseConfigYaml(const std::string& yaml_text, PredictorConfig base,
                                          const std::set<std::string>& foreign_sections) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("config: YAML syntax error at line " +
                                std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return base;
  std::set<std::string> allowed = {"prometheus", "queries", "forecast", "log", "server", "canary"};
  allowed.insert(foreign_sections.begin(), foreign_sections.end());
  try {
    OOMCAST_RETURN_IF_ERROR(CheckKeys(root, "", allowed));
    if (root["prometheus"]) OOMCAST_RETURN_IF_ERROR(ParsePrometheus(root["prometheus"], &base));
    if (root["queries"]) OOMCAST_RETURN_IF_ERROR(ParseQueries(root["queries"], &base));
    if (root["forecast"]) OOMCAST_RETURN_IF_ERROR(ParseForecast(root["forecast"], &base));
    if (root["canary"]) OOMCAST_RETURN_IF_ERROR(ParseCanaryYaml(root["canary"], &base.canary));
    if (auto l = root["log"]) {
      OOMCAST_RETURN_IF_ERROR(CheckKeys(l, "log", {"level"}));
      if (l["level"]) {
        OOMCAST_ASSIGN(base.log_level, Str(l["level"], "log.level"));
        LogLevel lv;
        if (!ParseLogLevel(base.log_level, &lv)) {
          return KeyError("log.level", "must be debug, info, warn or error");
        }
      }
    }
    if (auto s = root["server"]) {
      OOMCAST_RETURN_IF_ERROR(CheckKeys(s, "server", {"listenAddress"}));
      if (s["listenAddress"]) {
        OOMCAST_ASSIGN(base.listen_address, Str(s["listenAddress"], "server.listenAddress"));
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("config: ") + e.what());
  }
  return base;
}

StatusOr<PredictorConfig> LoadConfigFile(const std::string& path, PredictorConfig base,
                                         const std::set<std::string>& foreign_sections) {
  std::ifstream in(path);
  if (!in) return InvalidArgumentError("config file " + path + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseConfigYaml(ss.str(), std::move(base), foreign_sections);
  if (!c.ok()) return c.status().WithContext("config file " + path);
  return c;
}

bool IsPredictorBoolFlag(std::string_view name) {
  return name == "prometheus-insecure-skip-verify";
}

StatusOr<bool> ApplyPredictorFlag(std::string_view name, std::string_view value,
                                  PredictorConfig* c) {
  std::string v(value);
  std::string flag = "--" + std::string(name);
  auto dur = [&](double* out) -> Status {
    auto d = ParseDurationSeconds(v);
    if (!d.ok()) return InvalidArgumentError(flag + ": " + d.status().message());
    *out = *d;
    return Status::Ok();
  };
  auto& b = c->backend;
  auto& e = c->engine;
  if (name == "prometheus")
    b.base_url = v;
  else if (name == "prometheus-name")
    b.name = v;
  else if (name == "prometheus-tenant")
    b.tenant = v;
  else if (name == "prometheus-bearer-token-file")
    b.bearer_token_file = v;
  else if (name == "prometheus-basic-auth-user")
    b.basic_auth_user = v;
  else if (name == "prometheus-basic-auth-password-file")
    b.basic_auth_password_file = v;
  else if (name == "prometheus-header") {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgumentError(flag + ": want Name=value, got \"" + v + "\"");
    }
    b.extra_headers.emplace_back(v.substr(0, eq), v.substr(eq + 1));
  } else if (name == "prometheus-ca-file")
    c->http.ca_file = v;
  else if (name == "prometheus-cert-file")
    c->http.client_cert_file = v;
  else if (name == "prometheus-key-file")
    c->http.client_key_file = v;
  else if (name == "prometheus-insecure-skip-verify") {
    if (v != "true" && v != "false") return InvalidArgumentError(flag + ": must be true or false");
    c->http.insecure_skip_verify = v == "true";
  } else if (name == "prometheus-timeout")
    OOMCAST_RETURN_IF_ERROR(dur(&b.timeout_seconds));
  else if (name == "prometheus-max-retries") {
    char* end = nullptr;
    long r = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || r < 0 || r > 10) {
      return InvalidArgumentError(flag + ": must be an integer 0..10, got \"" + v + "\"");
    }
    b.max_retries = static_cast<int>(r);
  } else if (name == "memory-query")
    e.queries.memory_query = v;
  else if (name == "memory-metric") {
    if (v == "rss")
      e.queries.memory_query = kRssQuery;
    else if (v == "workingSet" || v == "working-set")
      e.queries.memory_query = kWorkingSetQuery;
    else
      return InvalidArgumentError(flag + ": must be rss or workingSet, got \"" + v + "\"");
  } else if (name == "limit-query")
    e.queries.limit_query = v;
  else if (name == "pod-labels-query")
    e.queries.pod_labels_query = v;
  else if (name == "namespace")
    e.queries.namespaces.push_back(v);
  else if (name == "horizon") {
    double h;
    OOMCAST_RETURN_IF_ERROR(dur(&h));
    SetHorizon(h, &e.model);
  } else if (name == "window")
    OOMCAST_RETURN_IF_ERROR(dur(&e.window_seconds));
  else if (name == "step")
    OOMCAST_RETURN_IF_ERROR(dur(&e.step_seconds));
  else if (name == "interval")
    OOMCAST_RETURN_IF_ERROR(dur(&e.interval_seconds));
  else if (name == "stale-after")
    OOMCAST_RETURN_IF_ERROR(dur(&e.stale_after_seconds));
  else if (name == "drop-after")
    OOMCAST_RETURN_IF_ERROR(dur(&e.drop_after_seconds));
  else if (name == "lookback-delay")
    OOMCAST_RETURN_IF_ERROR(dur(&e.lookback_delay_seconds));
  else if (name == "alarm-risk") {
    char* end = nullptr;
    double r = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(r >= 0 && r <= 1)) {
      return InvalidArgumentError(flag + ": must be a number in [0, 1], got \"" + v + "\"");
    }
    e.model.alarm_risk_threshold = r;
  } else if (name == "log-level") {
    LogLevel lv;
    if (!ParseLogLevel(v, &lv)) {
      return InvalidArgumentError(flag + ": must be debug, info, warn or error");
    }
    c->log_level = v;
  } else {
    return false;
  }
  return true;
}

void SetHorizon(double horizon_seconds, ModelConfig* m) {
  const ModelConfig d;
  const double f = horizon_seconds / d.horizon_seconds;
  m->horizon_seconds = horizon_seconds;
  m->bucket_seconds = std::max(1.0, d.bucket_seconds * f);
  m->window_seconds = d.window_seconds * f;
  m->min_fit_seconds = d.min_fit_seconds * f;
  m->persistence_seconds = d.persistence_seconds * f;
  m->alarm_hold_seconds = d.alarm_hold_seconds * f;
  m->envelope_window_seconds = d.envelope_window_seconds * f;
  m->restart_floor_seconds = d.restart_floor_seconds * f;
  m->alarm_latency_seconds = d.alarm_latency_seconds * f;
  m->restart_ramp_seconds = d.restart_ramp_seconds * f;
}

Status ValidateConfig(const PredictorConfig& c, bool need_url) {
  const auto& e = c.engine;
  if (need_url && c.backend.base_url.empty()) {
    return InvalidArgumentError("--prometheus (prometheus.url): the TSDB URL is required");
  }
  if (!c.backend.base_url.empty() && c.backend.base_url.rfind("http://", 0) != 0 &&
      c.backend.base_url.rfind("https://", 0) != 0) {
    return InvalidArgumentError("prometheus.url: must start with http:// or https://, got \"" +
                                c.backend.base_url + "\"");
  }
  if (e.model.horizon_seconds <= 0) return InvalidArgumentError("forecast.horizon: must be > 0");
  if (e.step_seconds <= 0) return InvalidArgumentError("forecast.step: must be > 0");
  if (e.window_seconds < 10 * e.step_seconds) {
    return InvalidArgumentError("forecast.window: must be at least 10 steps (forecast.step)");
  }
  if (e.interval_seconds <= 0) return InvalidArgumentError("forecast.interval: must be > 0");
  if (e.stale_after_seconds < e.interval_seconds) {
    return InvalidArgumentError("forecast.staleAfter: must be >= forecast.interval");
  }
  if (e.queries.memory_query.empty()) return InvalidArgumentError("queries.memory: empty");
  if (e.queries.limit_query.empty()) return InvalidArgumentError("queries.limit: empty");
  return Status::Ok();
}

std::string PredictorFlagsHelp() {
  return R"(TSDB (Prometheus HTTP API: Prometheus, VictoriaMetrics, Thanos, Mimir):
  --prometheus URL                      base URL, e.g. http://prometheus:9090 or
                                        http://vmselect:8481/select/0/prometheus
  --prometheus-tenant ID                sent as X-Scope-OrgID (Mimir, Thanos)
  --prometheus-bearer-token-file F      bearer token, re-read on every request
  --prometheus-basic-auth-user U        basic auth user
  --prometheus-basic-auth-password-file F
  --prometheus-header Name=value        extra header (repeatable)
  --prometheus-ca-file F                CA bundle to verify the TSDB (default: system roots)
  --prometheus-cert-file F, --prometheus-key-file F   client certificate (mutual TLS)
  --prometheus-insecure-skip-verify     do not verify the TSDB's certificate
  --prometheus-timeout D                per-request timeout (default 30s)
  --prometheus-max-retries N            retries on timeouts and 5xx, never 4xx (default 2)
Queries:
  --memory-metric workingSet|rss        container_memory_working_set_bytes (default: what the
                                        OOM killer counts, tmpfs included) or container_memory_rss
  --memory-query Q                      PromQL selector of the memory series (overrides)
  --limit-query Q                       selector of the limit (default
                                        container_spec_memory_limit_bytes{...}; or
                                        kube_pod_container_resource_limits{resource="memory"})
  --pod-labels-query Q                  kube-state-metrics pod labels (default kube_pod_labels;
                                        "" disables)
  --namespace NS                        only this namespace (repeatable; default all)
Forecast:
  --horizon D                           risk horizon (default 15m)
  --window D                            history kept and backfilled (default 1h)
  --step D                              query resolution, ~scrape interval (default 15s)
  --interval D                          time between cycles (default 15s)
  --stale-after D                       forecasts older than this are stale (default 2m)
  --drop-after D                        forget containers silent this long (default 1h)
  --lookback-delay D                    ignore the newest D of data (ingest lag; default 0s)
  --alarm-risk P                        oom_predicted when risk >= P (default 0.5)
  --config FILE                         YAML config (flags override it)
  --log-level L                         debug, info, warn, error (default info)
)";
}

StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                               bool (*is_bool)(std::string_view)) {
  FlagSpec spec;
  if (is_bool != nullptr) spec.is_bool = is_bool;
  spec.short_names = {{"o", "output"}, {"h", "help"}};
  spec.allow_positional = true;
  return ParseFlags(args, spec);
}

}  // namespace oomcast::predictor
