#include "oomcast/predictor/config.h"

#include <catch2/catch.hpp>

namespace oomcast::predictor {
namespace {

TEST_CASE("Every documented YAML key is read") {
  auto c = ParseConfigYaml(R"(
prometheus:
  url: http://vmselect:8481/select/0/prometheus
  tenant: team-a
  bearerTokenFile: /var/run/token
  basicAuth: {username: u, passwordFile: /p}
  headers: {X-Extra: "1"}
  tls: {caFile: /ca.pem, certFile: /c.pem, keyFile: /k.pem, insecureSkipVerify: true}
  timeout: 10s
  maxRetries: 3
queries:
  memoryMetric: workingSet
  limit: 'kube_pod_container_resource_limits{resource="memory"}'
  podLabels: ""
  namespaces: [shop, pay]
forecast:
  horizon: 10m
  window: 2h
  step: 30s
  interval: 20s
  staleAfter: 3m
  dropAfter: 2h
  alarmRisk: 0.7
  lookbackDelay: 30s
log:
  level: debug
server:
  listenAddress: 127.0.0.1:9000
)");
  REQUIRE(c.ok());
  CHECK(c->backend.base_url == "http://vmselect:8481/select/0/prometheus");
  CHECK(c->backend.tenant == "team-a");
  CHECK(c->backend.bearer_token_file == "/var/run/token");
  CHECK(c->backend.basic_auth_user == "u");
  CHECK(c->backend.basic_auth_password_file == "/p");
  CHECK(c->backend.extra_headers.at(0) == std::make_pair(std::string("X-Extra"), std::string("1")));
  CHECK(c->http.ca_file == "/ca.pem");
  CHECK(c->http.insecure_skip_verify);
  CHECK(c->backend.timeout_seconds == 10);
  CHECK(c->backend.max_retries == 3);
  CHECK(c->engine.queries.memory_query.find("working_set") != std::string::npos);
  CHECK(c->engine.queries.limit_query ==
        R"(kube_pod_container_resource_limits{resource="memory"})");
  CHECK(c->engine.queries.pod_labels_query.empty());
  CHECK(c->engine.queries.namespaces == std::vector<std::string>{"shop", "pay"});
  CHECK(c->engine.model.horizon_seconds == 600);
  CHECK(c->engine.window_seconds == 7200);
  CHECK(c->engine.step_seconds == 30);
  CHECK(c->engine.interval_seconds == 20);
  CHECK(c->engine.stale_after_seconds == 180);
  CHECK(c->engine.model.alarm_risk_threshold == 0.7);
  CHECK(c->engine.lookback_delay_seconds == 30);
  CHECK(c->log_level == "debug");
  CHECK(c->listen_address == "127.0.0.1:9000");
  CHECK(ValidateConfig(*c, true).ok());
}

TEST_CASE("Unknown keys and bad values name the key") {
  auto bad = [](const std::string& yaml) {
    auto c = ParseConfigYaml(yaml);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == StatusCode::kInvalidArgument);
    return c.status().message();
  };
  CHECK(bad("forecast: {horizn: 5m}").rfind("forecast.horizn: unknown key", 0) == 0);
  CHECK(bad("promethues: {url: x}").rfind("promethues: unknown key", 0) == 0);
  CHECK(bad("forecast: {horizon: 5x}").rfind("forecast.horizon: duration", 0) == 0);
  CHECK(bad("forecast: {alarmRisk: 2}").rfind("forecast.alarmRisk: must be a number", 0) == 0);
  CHECK(bad("prometheus: {tls: {insecureSkipVerify: maybe}}")
            .rfind("prometheus.tls.insecureSkipVerify", 0) == 0);
  CHECK(bad("queries: {namespaces: shop}").rfind("queries.namespaces", 0) == 0);
  CHECK(bad("queries: {memoryMetric: heap}").rfind("queries.memoryMetric", 0) == 0);
  CHECK(bad("log: {level: loud}").rfind("log.level", 0) == 0);
  CHECK(bad("forecast: [1, 2").find("YAML syntax error at line") != std::string::npos);
}

TEST_CASE("Foreign sections are left to the caller") {
  CHECK(ParseConfigYaml("adapter: {securePort: 6443}", {}, {"adapter"}).ok());
  CHECK_FALSE(ParseConfigYaml("adapter: {securePort: 6443}").ok());
}

TEST_CASE("Flags override and are validated") {
  PredictorConfig c;
  CHECK(*ApplyPredictorFlag("prometheus", "http://p:9090", &c));
  CHECK(*ApplyPredictorFlag("horizon", "60s", &c));
  CHECK(*ApplyPredictorFlag("namespace", "a", &c));
  CHECK(*ApplyPredictorFlag("prometheus-header", "X-Scope-OrgID=t1", &c));
  CHECK_FALSE(*ApplyPredictorFlag("secure-port", "6443", &c));  // Not a predictor flag.
  CHECK(c.engine.model.horizon_seconds == 60);
  CHECK(c.engine.queries.namespaces == std::vector<std::string>{"a"});
  auto bad = ApplyPredictorFlag("step", "fast", &c);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("--step: ", 0) == 0);
  CHECK_FALSE(ApplyPredictorFlag("alarm-risk", "1.5", &c).ok());
  CHECK_FALSE(ApplyPredictorFlag("prometheus-header", "novalue", &c).ok());
  CHECK(ValidateConfig(c, true).ok());
}

TEST_CASE("The horizon scales the model's time constants, idempotently") {
  PredictorConfig c;
  const ModelConfig d;
  REQUIRE(*ApplyPredictorFlag("horizon", "60s", &c));
  const ModelConfig& m = c.engine.model;
  CHECK(m.horizon_seconds == 60);
  CHECK(m.bucket_seconds == Approx(d.bucket_seconds / 15));
  CHECK(m.min_fit_seconds == Approx(d.min_fit_seconds / 15));
  CHECK(m.persistence_seconds == Approx(d.persistence_seconds / 15));
  CHECK(m.envelope_window_seconds == Approx(d.envelope_window_seconds / 15));
  CHECK(m.window_seconds == Approx(d.window_seconds / 15));
  REQUIRE(*ApplyPredictorFlag("horizon", "60s", &c));  // Again: same values, not 1/225.
  CHECK(m.bucket_seconds == Approx(d.bucket_seconds / 15));
  auto y = ParseConfigYaml("forecast: {horizon: 30m}");
  REQUIRE(y.ok());
  CHECK(y->engine.model.min_fit_seconds == Approx(d.min_fit_seconds * 2));
  REQUIRE(*ApplyPredictorFlag("horizon", "1s", &c));
  CHECK(c.engine.model.bucket_seconds == 1);  // Never below 1 s.
}

TEST_CASE("Validation catches inconsistent settings") {
  PredictorConfig c;
  CHECK(ValidateConfig(c, true).message().find("--prometheus") != std::string::npos);
  CHECK(ValidateConfig(c, false).ok());
  c.backend.base_url = "prometheus:9090";
  CHECK(ValidateConfig(c, true).message().rfind("prometheus.url", 0) == 0);
  c.backend.base_url = "http://p";
  c.engine.window_seconds = 60;
  CHECK(ValidateConfig(c, true).message().rfind("forecast.window", 0) == 0);
}

TEST_CASE("ParseArgs handles --a=b, --a b, bool flags and -o") {
  auto is_bool = [](std::string_view n) { return n == "verbose"; };
  auto p = ParseArgs({"--a=1", "--b", "2", "--verbose", "-o", "json", "pos"}, is_bool);
  REQUIRE(p.ok());
  REQUIRE(p->flags.size() == 4);
  CHECK(p->flags[0] == std::make_pair(std::string("a"), std::string("1")));
  CHECK(p->flags[1] == std::make_pair(std::string("b"), std::string("2")));
  CHECK(p->flags[2] == std::make_pair(std::string("verbose"), std::string("true")));
  CHECK(p->flags[3] == std::make_pair(std::string("output"), std::string("json")));
  CHECK(p->positional == std::vector<std::string>{"pos"});
  CHECK_FALSE(ParseArgs({"--b"}, is_bool).ok());
  CHECK_FALSE(ParseArgs({"-x"}, is_bool).ok());
}

}  // namespace
}  // namespace oomcast::predictor
