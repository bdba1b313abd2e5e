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

TEST_CASE("limits and TLS flags") {
  auto d = ParseAdapterFlags({});
  REQUIRE(d.ok());
  CHECK(d->server.max_connections == 1000);
  CHECK(d->server.tls_min_version == "VersionTLS12");
  CHECK(d->server.token_review.workers == 4);
  CHECK(d->server.token_review.queue == 64);
  CHECK(d->token_cache_size == 10000);
  auto f = ParseAdapterFlags(
      {"--max-connections=50", "--idle-timeout=5s", "--max-request-header-bytes=4096",
       "--token-review-workers=2", "--token-review-queue=0", "--access-review-queue=7",
       "--upstream-workers=3", "--authentication-token-webhook-cache-size=5",
       "--authorization-webhook-cache-size=6", "--tls-min-version=VersionTLS13",
       "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256"});
  REQUIRE(f.ok());
  CHECK(f->server.max_connections == 50);
  CHECK(f->server.idle_timeout_seconds == 5);
  CHECK(f->server.max_header_bytes == 4096);
  CHECK(f->server.token_review.workers == 2);
  CHECK(f->server.token_review.queue == 0);
  CHECK(f->server.access_review.queue == 7);
  CHECK(f->server.upstream.workers == 3);
  CHECK(f->token_cache_size == 5);
  CHECK(f->access_cache_size == 6);
  CHECK(f->server.tls_min_version == "VersionTLS13");
  CHECK(*OpenSslCipherList(f->server.tls_cipher_suites) == "ECDHE-RSA-AES128-GCM-SHA256");
  for (auto bad : {std::vector<std::string>{"--tls-min-version=VersionTLS10"},
                   {"--tls-min-version=1.2"},
                   {"--tls-cipher-suites=TLS_FOO"},
                   {"--tls-cipher-suites=TLS_AES_128_GCM_SHA256"},
                   {"--max-connections=0"},
                   {"--idle-timeout=0s"}}) {
    auto r = ParseAdapterFlags(bad);
    CHECK_FALSE(r.ok());
    CHECK(r.status().message().find(bad[0].substr(0, bad[0].find('='))) != std::string::npos);
  }
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
