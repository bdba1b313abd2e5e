#include "oomcast/metrics_adapter/adapter.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "metrics-adapter/fake_forecast_source.h"
#include "support/fake_clock.h"

namespace oomcast::metrics_adapter {
namespace {

using nlohmann::json;
using testing::FakeClock;
using testing::FakeForecastSource;
using testing::MakeForecast;

constexpr double kNow = 1767225600;

class FakeTokens final : public TokenReviewer {
 public:
  StatusOr<std::optional<UserInfo>> Review(const std::string& token) override {
    ++calls;
    if (token == "good") return std::optional<UserInfo>(UserInfo{"bob", "u1", {"dev"}, {}});
    if (token == "admin")
      return std::optional<UserInfo>(UserInfo{"root", "", {"system:masters"}, {}});
    if (token == "broken") return UnavailableError("apiserver down");
    return std::optional<UserInfo>();
  }
  int calls = 0;
};

class FakeAccess final : public AccessReviewer {
 public:
  StatusOr<AccessDecision> Review(const UserInfo& user, const RequestAttributes& a) override {
    ++calls;
    last_user = user;
    last = a;
    if (!a.resource_request) return AccessDecision{true, ""};
    bool ok = (user.name == "bob" || user.name == "carol") && a.namespace_name == "default" &&
              a.verb == "list" && a.group == "external.metrics.k8s.io";
    return AccessDecision{ok, ok ? "" : "not allowed by policy"};
  }
  int calls = 0;
  UserInfo last_user;
  RequestAttributes last;
};

struct Fixture {
  FakeClock clock{kNow};
  FakeForecastSource source;
  MetricsApi api{&source, &clock};
  FakeTokens tokens;
  FakeAccess access;
  Authenticator authn{AuthnConfig{}, &tokens, &clock};
  Authorizer authz{&access, &clock};
  Adapter adapter{&api, &authn, &authz, nullptr, &clock};
  PeerIdentity peer;

  Fixture() {
    source.Publish({MakeForecast("default", "p", "c", {{"app", "x"}}, kNow, 1, 10, 0.5)}, kNow);
  }

  ServerResponse Get(std::string target, Headers headers = {}, std::string method = "GET") {
    ServerRequest req;
    req.method = method;
    req.target = std::move(target);
    std::string_view t = req.target;
    size_t q = t.find('?');
    req.path = t.substr(0, q);
    req.query = q == t.npos ? std::string_view() : t.substr(q + 1);
    req.headers = std::move(headers);
    req.peer = &peer;
    std::optional<ServerResponse> r = adapter.Handle(req, false);
    if (!r) r = adapter.Handle(req, true);
    REQUIRE(r);
    CHECK(!r->content_type.empty());
    return *r;
  }
};

const std::string kPath =
    "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/memory_oom_risk";

TEST_CASE_METHOD(Fixture, "health and metrics need no credentials") {
  CHECK(Get("/healthz").code == 200);
  CHECK(Get("/livez").body == "ok");
  CHECK(Get("/readyz").code == 200);
  ServerResponse m = Get("/metrics");
  CHECK(m.code == 200);
  CHECK(m.content_type.find("text/plain") == 0);
  CHECK(m.body.find("oomcast_forecast_age_seconds 0") != std::string::npos);
}

TEST_CASE("readyz waits for the first successful cycle") {
  FakeClock clock(kNow);
  FakeForecastSource source;
  MetricsApi api(&source, &clock);
  Authenticator authn(AuthnConfig{}, nullptr, &clock);
  Authorizer authz(nullptr, &clock);
  Adapter adapter(&api, &authn, &authz, nullptr, &clock);
  PeerIdentity peer;
  ServerRequest req;
  req.method = "GET";
  req.target = "/readyz";
  req.path = req.target;
  req.peer = &peer;
  CHECK(adapter.Handle(req, false)->code == 503);
  source.Publish({}, kNow);
  CHECK(adapter.Handle(req, false)->code == 200);
}

TEST_CASE_METHOD(Fixture, "no credentials: 401 Status") {
  ServerResponse r = Get(kPath);
  CHECK(r.code == 401);
  CHECK(r.content_type == "application/json");
  json j = json::parse(r.body);
  CHECK(j == json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                              "message":"Unauthorized","reason":"Unauthorized","code":401})"));
  CHECK(Get(kPath, {{"authorization", "Basic Zm9vOmJhcg=="}}).code == 401);
  CHECK(Get(kPath, {{"authorization", "Bearer unknown"}}).code == 401);
  CHECK(Get(kPath, {{"authorization", "Bearer broken"}}).code == 401);
}

TEST_CASE_METHOD(Fixture, "bearer tokens: reviewed once, cached for the TTL") {
  CHECK(Get(kPath, {{"authorization", "Bearer good"}}).code == 200);
  CHECK(Get(kPath, {{"authorization", "bearer good"}}).code == 200);
  CHECK(tokens.calls == 1);
  CHECK(access.calls == 1);
  CHECK(access.last.verb == "list");
  CHECK(access.last.resource == "memory_oom_risk");
  CHECK(access.last.group == "external.metrics.k8s.io");
  CHECK(access.last.version == "v1beta1");
  CHECK(access.last.namespace_name == "default");
  CHECK(access.last_user.groups == std::vector<std::string>{"dev", "system:authenticated"});
  clock.Advance(11);
  CHECK(Get(kPath, {{"authorization", "Bearer good"}}).code == 200);
  CHECK(tokens.calls == 2);
  CHECK(access.calls == 2);
  // Rejections are cached too.
  Get(kPath, {{"authorization", "Bearer unknown"}});
  Get(kPath, {{"authorization", "Bearer unknown"}});
  CHECK(tokens.calls == 3);
}

TEST_CASE_METHOD(Fixture, "uncached reviews never run on an I/O thread") {
  ServerRequest req;
  req.method = "GET";
  req.target = kPath;
  req.path = req.target;
  req.headers = {{"authorization", "Bearer good"}};
  req.peer = &peer;
  CHECK_FALSE(adapter.Handle(req, false).has_value());
  CHECK(tokens.calls == 0);
  CHECK(adapter.Handle(req, true)->code == 200);
  CHECK(adapter.Handle(req, false)->code == 200);  // Both decisions are cached now.
}

TEST_CASE_METHOD(Fixture, "authorization: 403, and system:masters always allowed") {
  ServerResponse r =
      Get("/apis/external.metrics.k8s.io/v1beta1/namespaces/kube-system/memory_oom_risk",
          {{"authorization", "Bearer good"}});
  CHECK(r.code == 403);
  json j = json::parse(r.body);
  CHECK(j["reason"] == "Forbidden");
  CHECK(j["message"].get<std::string>().find("not allowed by policy") != std::string::npos);
  int before = access.calls;
  CHECK(Get("/apis/external.metrics.k8s.io/v1beta1/namespaces/kube-system/memory_oom_risk",
            {{"authorization", "Bearer admin"}})
            .code == 200);
  CHECK(access.calls == before);
}

TEST_CASE_METHOD(Fixture, "front proxy identity from headers only with a front-proxy certificate") {
  peer.kind = PeerIdentity::Kind::kFrontProxy;
  Headers h = {{"x-remote-user", "carol"},      {"x-remote-group", "a"},
               {"x-remote-group", "b"},         {"x-remote-extra-acme.com%2Fproject", "p1"},
               {"x-remote-extra-scopes", "s1"}, {"x-remote-extra-scopes", "s2"}};
  CHECK(Get(kPath, h).code == 200);
  CHECK(access.last_user.name == "carol");
  CHECK(access.last_user.groups == std::vector<std::string>{"a", "b", "system:authenticated"});
  CHECK(access.last_user.extra["acme.com/project"] == std::vector<std::string>{"p1"});
  CHECK(access.last_user.extra["scopes"] == std::vector<std::string>{"s1", "s2"});
  // Same headers on a plain client certificate are ignored.
  peer.kind = PeerIdentity::Kind::kClientCert;
  peer.user = UserInfo{"alice", "", {"team"}, {}};
  CHECK(Get(kPath, h).code == 403);
  CHECK(access.last_user.name == "alice");
  // No certificate: ignored as well.
  peer = PeerIdentity();
  CHECK(Get(kPath, h).code == 401);
  // Invalid certificate and no token: 401.
  peer.kind = PeerIdentity::Kind::kInvalid;
  peer.error = "unknown authority";
  CHECK(Get(kPath, h).code == 401);
  CHECK(Get(kPath, {{"authorization", "Bearer good"}}).code == 200);
}

TEST_CASE_METHOD(Fixture, "routes") {
  Headers admin = {{"authorization", "Bearer admin"}};
  CHECK(json::parse(Get("/apis", admin).body)["kind"] == "APIGroupList");
  CHECK(json::parse(Get("/apis/external.metrics.k8s.io", admin).body)["kind"] == "APIGroup");
  CHECK(json::parse(Get("/apis/external.metrics.k8s.io/v1beta1", admin).body)["kind"] ==
        "APIResourceList");
  for (std::string p : {"/openapi/v2", "/openapi/v3", "/api", "/nope",
                        "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/unknown_metric",
                        "/apis/external.metrics.k8s.io/v1beta1/namespaces/default",
                        "/apis/external.metrics.k8s.io/v1beta1/namespaces//memory_oom_risk"}) {
    ServerResponse r = Get(p, admin);
    INFO(p);
    CHECK(r.code == 404);
    CHECK(json::parse(r.body)["reason"] == "NotFound");
  }
  ServerResponse r = Get(kPath, admin, "DELETE");
  CHECK(r.code == 405);
  CHECK(json::parse(r.body)["reason"] == "MethodNotAllowed");
  std::string metrics = adapter.RenderMetrics();
  CHECK(metrics.find(R"(oomcast_adapter_requests_total{code="404",path="api-other"})") !=
        std::string::npos);
  CHECK(metrics.find("oomcast_adapter_request_duration_seconds_bucket") != std::string::npos);
}

TEST_CASE("request attributes as the apiserver derives them") {
  RequestAttributes a =
      AttributesForPath("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/m");
  CHECK(a.resource_request);
  CHECK(a.verb == "list");
  CHECK(a.namespace_name == "ns");
  CHECK(a.resource == "m");
  a = AttributesForPath("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/m/name");
  CHECK(a.verb == "get");
  a = AttributesForPath("GET", "/apis/external.metrics.k8s.io/v1beta1");
  CHECK_FALSE(a.resource_request);
  CHECK(a.verb == "get");
  CHECK(a.path == "/apis/external.metrics.k8s.io/v1beta1");
  a = AttributesForPath("GET", "/openapi/v2");
  CHECK_FALSE(a.resource_request);
}

TEST_CASE("certificate verifier rejects garbage") {
  auto v = CertificateVerifier::Create(AuthnConfig{});
  REQUIRE(v.ok());
  CHECK((*v)->Classify({}).kind == PeerIdentity::Kind::kNone);
  CHECK((*v)->Classify({"not a certificate"}).kind == PeerIdentity::Kind::kInvalid);
  AuthnConfig bad;
  bad.client_ca_pem = "not pem";
  CHECK_FALSE(CertificateVerifier::Create(bad).ok());
}

}  // namespace
}  // namespace oomcast::metrics_adapter
