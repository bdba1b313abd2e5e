#include "oomcast/metrics_adapter/options.h"

#include <catch2/catch.hpp>

namespace oomcast::metrics_adapter {
namespace {

TEST_CASE("defaults") {
  auto f = ParseAdapterFlags({});
  REQUIRE(f.ok());
  CHECK(f->secure_port == 6443);
  CHECK(f->bind_address == "0.0.0.0");
  CHECK(f->authorization_mode == "Webhook");
  CHECK(f->token_cache_ttl_seconds == 10);
}

TEST_CASE("adapter, apiserver-style and predictor flags") {
  auto f = ParseAdapterFlags({"--secure-port=8443",
                              "--bind-address",
                              "127.0.0.1",
                              "--tls-cert-file",
                              "c",
                              "--tls-private-key-file",
                              "k",
                              "--client-ca-file",
                              "ca",
                              "--requestheader-client-ca-file",
                              "rh",
                              "--requestheader-allowed-names",
                              "front-proxy-client,aggregator",
                              "--requestheader-username-headers=X-Remote-User",
                              "--authentication-skip-lookup",
                              "--upstream-external-metrics",
                              "https://keda:443",
                              "--upstream-insecure-skip-tls-verify",
                              "--prometheus",
                              "http://prom:9090",
                              "--horizon",
                              "20m",
                              "--eta-cap",
                              "7d",
                              "--generate-self-signed-cert=false",
                              "--log-level",
                              "debug"});
  REQUIRE(f.ok());
  CHECK(f->secure_port == 8443);
  CHECK(f->bind_address == "127.0.0.1");
  CHECK(f->requestheader_allowed_names ==
        std::vector<std::string>{"front-proxy-client", "aggregator"});
  CHECK(f->authentication_skip_lookup);
  CHECK(f->upstream.url == "https://keda:443");
  CHECK(f->upstream.insecure_skip_verify);
  CHECK(f->predictor.backend.base_url == "http://prom:9090");
  CHECK(f->predictor.engine.model.horizon_seconds == 1200);
  CHECK(f->eta_cap_seconds == 7 * 86400);
  CHECK_FALSE(f->generate_self_signed_cert);
}

TEST_CASE("bad flags name the flag") {
  struct Case {
    std::vector<std::string> args;
    const char* needle;
  } cases[] = {
      {{"--nope"}, "--nope"},
      {{"--nope", "value"}, "--nope"},
      {{"--secure-port", "70000"}, "--secure-port"},
      {{"--secure-port"}, "--secure-port"},
      {{"--authorization-mode", "RBAC"}, "--authorization-mode"},
      {{"--upstream-external-metrics", "keda:443"}, "--upstream-external-metrics"},
      {{"--upstream-client-cert-file", "c"}, "--upstream-client-key-file"},
      {{"--eta-cap", "forever"}, "--eta-cap"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"--generate-self-signed-cert=maybe"}, "--generate-self-signed-cert"},
      {{"--horizon", "soon"}, "horizon"},
      {{"positional"}, "positional"},
      {{"--config", "/nonexistent/config.yaml"}, "/nonexistent/config.yaml"},
  };
  for (const auto& c : cases) {
    auto f = ParseAdapterFlags(c.args);
    INFO(c.args[0] << " -> " << f.status().ToString());
    REQUIRE_FALSE(f.ok());
    CHECK(f.status().code() == StatusCode::kInvalidArgument);
    CHECK(f.status().message().find(c.needle) != std::string::npos);
  }
}

TEST_CASE("usage lists the flags and marks the test-only one") {
  std::string u = AdapterUsage();
  for (const char* flag : {"--secure-port", "--tls-cert-file", "--requestheader-client-ca-file",
                           "--upstream-external-metrics", "--prometheus", "--fake-forecasts"}) {
    CHECK(u.find(flag) != std::string::npos);
  }
  CHECK(u.find("TEST ONLY") != std::string::npos);
}

}  // namespace
}  // namespace oomcast::metrics_adapter
