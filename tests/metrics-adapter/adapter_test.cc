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
  std::vector<Stage> stages;  // Stages the last requests were deferred to, in order.

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
    // As the server does: each deferral goes to a later stage.
    Stage stage = Stage::kInline, next = Stage::kInline;
    std::optional<ServerResponse> r;
    while (!(r = adapter.Handle(req, stage, &next))) {
      REQUIRE(static_cast<int>(next) > static_cast<int>(stage));
      stages.push_back(next);
      stage = next;
    }
    REQUIRE(r);
    CHECK(!r->content_type.empty());
    return *r;
  }
};

const std::string kPath =
    "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/memory_oom_risk";

TEST_CASE_METHOD(Fixture, "health needs no credentials; /metrics is authenticated and authorized") {
  CHECK(Get("/healthz").code == 200);
  CHECK(Get("/livez").body == "ok");
  CHECK(Get("/readyz").code == 200);
  CHECK(Get("/metrics").code == 401);
  CHECK(Get("/metrics", {{"authorization", "Bearer unknown"}}).code == 401);
  CHECK(access.calls == 0);
  ServerResponse m = Get("/metrics", {{"authorization", "Bearer good"}});
  CHECK(access.last.resource_request == false);
  CHECK(access.last.path == "/metrics");
  CHECK(access.last.verb == "get");
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
  Stage next = Stage::kInline;
  CHECK(adapter.Handle(req, Stage::kInline, &next)->code == 503);
  source.Publish({}, kNow);
  CHECK(adapter.Handle(req, Stage::kInline, &next)->code == 200);
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
  Stage next = Stage::kInline;
  CHECK_FALSE(adapter.Handle(req, Stage::kInline, &next).has_value());
  CHECK(next == Stage::kTokenReview);
  CHECK(tokens.calls == 0);
  // The token stage reviews the token but leaves the access review to its own stage.
  CHECK_FALSE(adapter.Handle(req, Stage::kTokenReview, &next).has_value());
  CHECK(tokens.calls == 1);
  CHECK(access.calls == 0);
  CHECK(next == Stage::kAccessReview);
  CHECK(adapter.Handle(req, Stage::kAccessReview, &next)->code == 200);
  CHECK(adapter.Handle(req, Stage::kInline, &next)->code == 200);  // Both cached now.
}

TEST_CASE_METHOD(Fixture, "certificate-authenticated requests never wait for the token stage") {
  peer.kind = PeerIdentity::Kind::kClientCert;
  peer.user = UserInfo{"carol", "", {"ops"}, {}};
  CHECK(Get(kPath).code == 200);
  CHECK(stages == std::vector<Stage>{Stage::kAccessReview});
  stages.clear();
  CHECK(Get(kPath).code == 200);  // Cached: answered inline.
  CHECK(stages.empty());
  CHECK(tokens.calls == 0);
}

TEST_CASE("token cache: least recently used entries are evicted, not the whole cache") {
  FakeClock clock(kNow);
  FakeTokens tokens;
  AuthOptions o;
  o.token_cache_size = 2;
  Authenticator authn(AuthnConfig{}, &tokens, &clock, o);
  PeerIdentity peer;
  auto auth = [&](const std::string& t) {
    return authn.Authenticate(peer, {{"authorization", "Bearer " + t}}, true);
  };
  CHECK(auth("good").status.ok());
  CHECK(auth("admin").status.ok());
  CHECK(auth("good").status.ok());  // Hit: "good" is now the most recently used.
  CHECK(tokens.calls == 2);
  CHECK_FALSE(auth("other").status.ok());  // Evicts "admin".
  CHECK(tokens.calls == 3);
  CHECK(auth("good").status.ok());
  CHECK(tokens.calls == 3);
  CHECK(auth("admin").status.ok());
  CHECK(tokens.calls == 4);
}

TEST_CASE("access cache keys are unambiguous") {
  RequestAttributes a = AttributesForPath("GET", "/apis/g/v/namespaces/n/r");
  UserInfo one{"u", "", {"a,b"}, {}};
  UserInfo two{"u", "", {"a", "b"}, {}};
  CHECK(AccessCacheKey(one, a) != AccessCacheKey(two, a));
  UserInfo x{"a\nb", "", {}, {}};
  UserInfo y{"a", "b", {}, {}};
  CHECK(AccessCacheKey(x, a) != AccessCacheKey(y, a));
  UserInfo e1{"u", "", {}, {{"k", {"v1", "v2"}}}};
  UserInfo e2{"u", "", {}, {{"k", {"v1,v2"}}}};
  CHECK(AccessCacheKey(e1, a) != AccessCacheKey(e2, a));
  CHECK(AccessCacheKey(one, a) == AccessCacheKey(UserInfo{"u", "", {"a,b"}, {}}, a));
}

// A Kubernetes API that records requests and approves everything.
class RecordingKube final : public KubeClient {
 public:
  StatusOr<KubeResponse> Request(const std::string&, const std::string&, const std::string&,
                                 const std::string&, const std::string&) override {
    ++calls;
    return KubeResponse{201, R"({"status":{"authenticated":true,"allowed":true}})", {}};
  }
  Status Watch(const std::string&, double, const std::function<bool(const WatchEvent&)>&,
               const std::string&) override {
    return UnavailableError("no watch");
  }
  int calls = 0;
};

TEST_CASE("review bodies are never built from invalid UTF-8: an error, not an exception") {
  RecordingKube kube;
  KubeTokenReviewer tokens(&kube);
  auto t = tokens.Review("bad\xff\xfetoken");
  CHECK_FALSE(t.ok());
  CHECK(t.status().code() == StatusCode::kInvalidArgument);
  KubeAccessReviewer access(&kube);
  auto d = access.Review(UserInfo{"u", "", {}, {}},
                         AttributesForPath("GET", "/apis/g/v/namespaces/n/r\xc0\xaf"));
  CHECK_FALSE(d.ok());
  CHECK(kube.calls == 0);
  CHECK(tokens.Review("fine").ok());
  CHECK(kube.calls == 1);
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
  // An extra key that does not decode to printable UTF-8 is dropped, the request still served.
  CHECK(Get(kPath, {{"x-remote-user", "carol"}, {"x-remote-extra-%ff%fe", "v"}}).code == 200);
  CHECK(access.last_user.extra.empty());
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
