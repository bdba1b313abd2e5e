#include "oomcast/metrics_adapter/authn_reloader.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/fake_clock.h"
#include "support/fake_kube_client.h"
#include "support/testdata.h"

namespace oomcast::metrics_adapter {
namespace {

using oomcast::testing::FakeClock;
using oomcast::testing::FakeKubeClient;
using Outcome = AuthnConfigReloader::Outcome;

const char kPath[] = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication";

struct Fixture {
  Fixture() {
    kube.AddResource({"", "v1", "configmaps", "ConfigMap", false});
    kube.Seed({{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata",
                {{"name", "extension-apiserver-authentication"}, {"namespace", "kube-system"}}},
               {"data", {{"client-ca-file", oomcast::testing::ReadTestdata("tls/ca.pem")}}}});
  }
  // Replaces the ConfigMap's data (as a control plane rotating its CAs would).
  void SetData(const nlohmann::json& data) {
    nlohmann::json cm = kube.Get(kPath);
    cm["data"] = data;
    int code = 0;
    kube.Call("PUT", kPath, cm, &code);
    REQUIRE(code == 200);
  }
  AuthnConfigReloader Reloader(AuthnConfig current, double refresh_s = 60) {
    return AuthnConfigReloader(&kube, &clock, AuthnConfig{}, std::move(current), refresh_s,
                               [this](const AuthnConfig& c, auto verifier) {
                                 applied.push_back(c);
                                 CHECK(verifier != nullptr);
                               });
  }
  FakeKubeClient kube;
  FakeClock clock;
  std::vector<AuthnConfig> applied;
};

TEST_CASE("reads only once per refresh period of monotonic time") {
  Fixture f;
  auto start = LoadAuthnConfigFromCluster(&f.kube, {});
  REQUIRE(start.ok());
  auto r = f.Reloader(*start, 60);
  const int requests = f.kube.requests();
  CHECK(r.Poll() == Outcome::kNotDue);
  f.clock.Advance(59);
  CHECK(r.Poll() == Outcome::kNotDue);
  // The wall clock jumping forward does not make a read due.
  f.clock.Set(f.clock.NowUnixSeconds() + 3600);
  CHECK(r.Poll() == Outcome::kNotDue);
  CHECK(f.kube.requests() == requests);
  f.clock.Advance(1);
  CHECK(r.Poll() == Outcome::kUnchanged);
  CHECK(f.kube.requests() == requests + 1);
  CHECK(r.Poll() == Outcome::kNotDue);
  CHECK(f.applied.empty());
}

TEST_CASE("a rotated CA is applied once, then is the configuration in force") {
  Fixture f;
  auto start = LoadAuthnConfigFromCluster(&f.kube, {});
  REQUIRE(start.ok());
  auto r = f.Reloader(*start);
  f.SetData({{"client-ca-file", oomcast::testing::ReadTestdata("tls/other-ca.pem")},
             {"requestheader-client-ca-file", oomcast::testing::ReadTestdata("tls/ca.pem")},
             {"requestheader-allowed-names", R"(["front-proxy-client"])"}});
  f.clock.Advance(60);
  CHECK(r.Poll() == Outcome::kApplied);
  REQUIRE(f.applied.size() == 1);
  CHECK(f.applied[0].client_ca_pem == oomcast::testing::ReadTestdata("tls/other-ca.pem"));
  CHECK(f.applied[0].requestheader_allowed_names == std::vector<std::string>{"front-proxy-client"});
  CHECK(r.current() == f.applied[0]);
  f.clock.Advance(60);
  CHECK(r.Poll() == Outcome::kUnchanged);
  CHECK(f.applied.size() == 1);
}

TEST_CASE("flags win over the ConfigMap") {
  Fixture f;
  AuthnConfig flags;
  flags.client_ca_pem = oomcast::testing::ReadTestdata("tls/other-ca.pem");
  AuthnConfigReloader r(&f.kube, &f.clock, flags, flags, 60,
                        [&](const AuthnConfig& c, auto) { f.applied.push_back(c); });
  f.clock.Advance(60);
  // The ConfigMap's client CA (ca.pem) does not replace the flag's; nothing else changed.
  CHECK(r.Poll() == Outcome::kUnchanged);
  CHECK(f.applied.empty());
}

TEST_CASE("a failed read or an invalid ConfigMap keeps the configuration in force") {
  Fixture f;
  auto start = LoadAuthnConfigFromCluster(&f.kube, {});
  REQUIRE(start.ok());
  auto r = f.Reloader(*start);
  f.kube.Script(
      {.method = "GET", .path_contains = "extension-apiserver-authentication", .code = 503});
  f.clock.Advance(60);
  CHECK(r.Poll() == Outcome::kFailed);
  // Not a CA: the verifier is not made, nothing is applied.
  f.SetData({{"client-ca-file", "-----BEGIN CERTIFICATE-----\nnot base64\n"}});
  f.clock.Advance(60);
  CHECK(r.Poll() == Outcome::kFailed);
  // Not a JSON list.
  f.SetData({{"requestheader-client-ca-file", oomcast::testing::ReadTestdata("tls/ca.pem")},
             {"requestheader-allowed-names", "front-proxy-client"}});
  f.clock.Advance(60);
  CHECK(r.Poll() == Outcome::kFailed);
  CHECK(f.applied.empty());
  CHECK(r.current() == *start);
  // The next period, a valid change applies.
  f.SetData({{"client-ca-file", oomcast::testing::ReadTestdata("tls/other-ca.pem")}});
  f.clock.Advance(60);
  CHECK(r.Poll() == Outcome::kApplied);
}

TEST_CASE("Run polls until stopped, sleeping on the clock") {
  Fixture f;
  auto start = LoadAuthnConfigFromCluster(&f.kube, {});
  REQUIRE(start.ok());
  std::atomic<bool> stop{false};
  AuthnConfigReloader r(&f.kube, &f.clock, {}, *start, 1,
                        [&](const AuthnConfig&, auto) { stop = true; });
  f.SetData({{"client-ca-file", oomcast::testing::ReadTestdata("tls/other-ca.pem")}});
  r.Run(stop);  // The fake clock advances 0.2 s per sleep; the change applies after 1 s.
  // Polled at 0, 0.2, ..., 1.0 s (applied, stop set), then one more sleep before Run sees stop.
  CHECK(f.clock.total_slept() >= 1.0);
  CHECK(f.clock.total_slept() <= 1.5);
}

}  // namespace
}  // namespace oomcast::metrics_adapter
