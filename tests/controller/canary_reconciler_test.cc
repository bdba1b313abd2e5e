// The MemoryCanary reconcile on the in-process API fake: a failing verdict pauses the
// Deployment, records one Warning Event and conditions naming the aspect and the effect.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "oomcast/controller/canary.h"
#include "support/fake_clock.h"
#include "support/fake_kube_client.h"
#include "support/fake_prometheus_client.h"

using namespace oomcast;
using namespace oomcast::controller;
using nlohmann::json;

namespace {

class ScriptedVerdicts final : public CanaryVerdictSource {
 public:
  CanaryReading next;
  int reads = 0;
  CanaryReading Read(const std::string&, const std::string& comparison) override {
    ++reads;
    last_comparison = comparison;
    return next;
  }
  std::string last_comparison;
};

json Deployment(bool paused = false) {
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "cart"}, {"namespace", "shop"}}},
      {"spec",
       {{"replicas", 3},
        {"paused", paused},
        {"selector", {{"matchLabels", {{"app", "cart"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "cart"}}}}},
          {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "cart:2"}}})}}}}}}}};
}

json Canary(json spec_extra = json::object()) {
  json spec = {{"targetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "cart"}}},
               {"comparison", "cart"},
               {"baseline", "app=cart,track=stable"},
               {"canary", "app=cart,track=canary"}};
  spec.update(spec_extra);
  return {{"apiVersion", "oomcast.io/v1alpha1"},
          {"kind", "MemoryCanary"},
          {"metadata", {{"name", "cart"}, {"namespace", "shop"}}},
          {"spec", spec}};
}

void AddCanaryResource(testing::FakeKubeClient& kube) {
  kube.AddResource({"oomcast.io", "v1alpha1", "memorycanaries", "MemoryCanary", true});
}

const char* kCanaryPath = "/apis/oomcast.io/v1alpha1/namespaces/shop/memorycanaries/cart";
const char* kDeploymentPath = "/apis/apps/v1/namespaces/shop/deployments/cart";

json Condition(const json& obj, const std::string& type) {
  for (const auto& c : obj["status"]["conditions"]) {
    if (c["type"] == type) return c;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a failing canary pauses the Deployment, with an Event and conditions") {
  testing::FakeKubeClient kube;
  AddCanaryResource(kube);
  kube.Seed(Deployment());
  kube.Seed(Canary());
  testing::FakeClock clock(1767225600);
  ScriptedVerdicts verdicts;
  verdicts.next.verdict = "fail";
  verdicts.next.aspect = "growth";
  verdicts.next.effect = 51200;
  verdicts.next.p_value = 0.004;
  CanaryReconciler r(&kube, &verdicts, &clock);
  REQUIRE(r.Reconcile("shop", "cart").ok());
  CHECK(verdicts.last_comparison == "cart");
  CHECK(kube.Get(kDeploymentPath)["spec"]["paused"] == true);
  json c = kube.Get(kCanaryPath);
  json passing = Condition(c, "Passing");
  REQUIRE(passing.is_object());
  CHECK(passing["status"] == "False");
  CHECK(passing["reason"] == "Failed");
  CHECK(passing["message"].get<std::string>().find("growth +51.2 kB/s") != std::string::npos);
  json paused = Condition(c, "RolloutPaused");
  CHECK(paused["status"] == "True");
  CHECK(paused["reason"] == "CanaryFailed");
  CHECK(c["status"]["failedAspect"] == "growth");
  CHECK(c["status"]["verdict"] == "fail");
  auto events = kube.WritesTo("/events", "POST");
  REQUIRE(events.size() == 1);
  CHECK(events[0].body["type"] == "Warning");
  CHECK(events[0].body["reason"] == "CanaryFailed");
  CHECK(events[0].body["involvedObject"]["kind"] == "MemoryCanary");
  CHECK(events[0].body["message"].get<std::string>().find("paused deployment cart") !=
        std::string::npos);

  // The next reconcile: already paused, failure already recorded: no write to the Deployment,
  // no second Event.
  const size_t deployment_writes = kube.WritesTo(kDeploymentPath, "PUT").size();
  REQUIRE(r.Reconcile("shop", "cart").ok());
  CHECK(kube.WritesTo(kDeploymentPath, "PUT").size() == deployment_writes);
  CHECK(kube.WritesTo("/events", "POST").size() == 1);
}

TEST_CASE("pass and inconclusive verdicts write status only") {
  testing::FakeKubeClient kube;
  AddCanaryResource(kube);
  kube.Seed(Deployment());
  kube.Seed(Canary());
  testing::FakeClock clock(1767225600);
  ScriptedVerdicts verdicts;
  verdicts.next.verdict = "pass";
  CanaryReconciler r(&kube, &verdicts, &clock);
  REQUIRE(r.Reconcile("shop", "cart").ok());
  CHECK(kube.Get(kDeploymentPath)["spec"]["paused"] == false);
  CHECK(Condition(kube.Get(kCanaryPath), "Passing")["status"] == "True");
  verdicts.next.verdict = "inconclusive";
  REQUIRE(r.Reconcile("shop", "cart").ok());
  CHECK(Condition(kube.Get(kCanaryPath), "Passing")["reason"] == "Inconclusive");
  CHECK(kube.WritesTo(kDeploymentPath, "PUT").empty());
  CHECK(kube.WritesTo("/events", "POST").empty());
}

TEST_CASE("dry run and an unreadable verdict never pause") {
  testing::FakeKubeClient kube;
  AddCanaryResource(kube);
  kube.Seed(Deployment());
  kube.Seed(Canary({{"dryRun", true}}));
  testing::FakeClock clock(1767225600);
  ScriptedVerdicts verdicts;
  verdicts.next.verdict = "fail";
  verdicts.next.aspect = "level";
  verdicts.next.effect = 0.17;
  CanaryReconciler r(&kube, &verdicts, &clock);
  REQUIRE(r.Reconcile("shop", "cart").ok());
  CHECK(kube.Get(kDeploymentPath)["spec"]["paused"] == false);
  json c = kube.Get(kCanaryPath);
  CHECK(Condition(c, "RolloutPaused")["reason"] == "DryRun");
  CHECK(Condition(c, "Passing")["message"].get<std::string>().find("level +17.0 %") !=
        std::string::npos);
  CHECK(kube.WritesTo("/events", "POST").size() == 1);

  testing::FakeKubeClient kube2;
  AddCanaryResource(kube2);
  kube2.Seed(Deployment());
  kube2.Seed(Canary());
  ScriptedVerdicts down;
  down.next.error = UnavailableError("prometheus: connection refused");
  CanaryReconciler r2(&kube2, &down, &clock);
  CHECK(r2.Reconcile("shop", "cart").code() == StatusCode::kUnavailable);
  CHECK(kube2.Get(kDeploymentPath)["spec"]["paused"] == false);
  CHECK(Condition(kube2.Get(kCanaryPath), "Passing")["reason"] == "VerdictUnavailable");
}

TEST_CASE("a conflicting Deployment write is re-read and retried once") {
  testing::FakeKubeClient kube;
  AddCanaryResource(kube);
  kube.Seed(Deployment());
  kube.Seed(Canary());
  kube.Race(kDeploymentPath);
  testing::FakeClock clock(1767225600);
  ScriptedVerdicts verdicts;
  verdicts.next.verdict = "fail";
  verdicts.next.aspect = "spread";
  verdicts.next.effect = 0.9;
  CanaryReconciler r(&kube, &verdicts, &clock);
  REQUIRE(r.Reconcile("shop", "cart").ok());
  CHECK(kube.Get(kDeploymentPath)["spec"]["paused"] == true);
}

TEST_CASE("MemoryCanary parsing names the missing field") {
  json c = Canary();
  c["spec"].erase("comparison");
  auto r = ParseMemoryCanary(c.dump());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("spec.comparison") != std::string::npos);
  c = Canary({{"canary", "app in ("}});
  auto bad = ParseMemoryCanary(c.dump());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("spec.canary") != std::string::npos);
  auto ok = ParseMemoryCanary(Canary().dump());
  REQUIRE(ok.ok());
  CHECK(ok->spec.pause_on_fail);
  CHECK(ok->spec.target == "cart");
}

TEST_CASE("ReconcileAll lists the MemoryCanaries of a namespace and reconciles each") {
  testing::FakeKubeClient kube;
  AddCanaryResource(kube);
  kube.Seed(Deployment());
  kube.Seed(Canary());
  json other = Canary();
  other["metadata"]["name"] = "cart-2";
  kube.Seed(other);
  testing::FakeClock clock(1767225600);
  ScriptedVerdicts verdicts;
  verdicts.next.verdict = "pass";
  CanaryReconciler r(&kube, &verdicts, &clock);
  REQUIRE(r.ReconcileAll("shop").ok());
  CHECK(verdicts.reads == 2);
  CHECK(kube.WritesTo("/memorycanaries/cart-2/status", "PUT").size() == 1);
  REQUIRE(r.ReconcileAll("").ok());
  CHECK(verdicts.reads == 4);
}

TEST_CASE("a failing verdict from any of the adapter's replicas is read as fail") {
  testing::FakePrometheusClient prom;
  testing::FakeClock clock(1767225600);
  auto source = NewPrometheusCanaryVerdictSource(&prom, &clock);
  const std::string sel = "{namespace=\"shop\",canary=\"cart\"}";
  const double t = clock.NowUnixSeconds() - 10;
  // Two replicas: one restarted (its watch is younger, inconclusive), one failed on growth.
  prom.SetSeriesData(
      "memory_canary_verdict" + sel + " == 1",
      {{{{"namespace", "shop"}, {"canary", "cart"}, {"verdict", "fail"}, {"pod", "adapter-a"}},
        {t},
        {1}},
       {{{"namespace", "shop"},
         {"canary", "cart"},
         {"verdict", "inconclusive"},
         {"pod", "adapter-b"}},
        {t},
        {1}}});
  prom.AddSamples("memory_canary_failed" + sel,
                  {{"namespace", "shop"}, {"canary", "cart"}, {"aspect", "growth"}}, {t}, {1});
  prom.AddSamples("memory_canary_effect{namespace=\"shop\",canary=\"cart\",aspect=\"growth\"}",
                  {{"namespace", "shop"}, {"canary", "cart"}, {"aspect", "growth"}}, {t}, {51e3});
  CanaryReading r = source->Read("shop", "cart");
  CHECK(r.error.ok());
  CHECK(r.verdict == "fail");
  CHECK(r.aspect == "growth");
  CHECK(r.effect == Approx(51e3));
  // Only pass and inconclusive: pass.
  prom.SetSeriesData("memory_canary_verdict" + sel + " == 1",
                     {{{{"verdict", "inconclusive"}, {"pod", "adapter-b"}}, {t}, {1}},
                      {{{"verdict", "pass"}, {"pod", "adapter-a"}}, {t}, {1}}});
  CHECK(source->Read("shop", "cart").verdict == "pass");
}
