// The reconciler against the Kubernetes API stand-in, with a FakeClock: /scale writes, clamps,
// holds on stale or missing forecasts, 409 conflicts, HPA coexistence and restore,
// restartBeforeOOM and its PDB refusal, dry-run, status and Events. Every object written is
// validated against the official schemas at the end of each case (when node_modules exist).
// Integration: the wire-format proof of what reconciler_test.cc tests on the in-process fake.
#include <catch2/catch.hpp>

#include "controller/standin_fixture.h"
#include "controller/test_objects.h"
#include "oomcast/controller/memory_scaler.h"
#include "oomcast/controller/reconciler.h"

namespace oomcast::controller {
namespace {

using nlohmann::json;
using namespace testing;
using oomcast::testing::StandinFixture;

struct Env {
  StandinFixture fx;
  ControllerMetrics metrics;
  std::unique_ptr<ExternalMetricsForecastSource> forecasts;
  std::unique_ptr<Reconciler> reconciler;

  explicit Env(int replicas = 2, json overrides = json::object()) {
    fx.SeedDeployment(kNs, "web", replicas);
    fx.Seed(Scaler(std::move(overrides)));
    forecasts = std::make_unique<ExternalMetricsForecastSource>(fx.client(), fx.clock());
    reconciler = std::make_unique<Reconciler>(fx.client(), forecasts.get(), fx.clock(), &metrics,
                                              ReconcilerOptions{"test-controller", 3});
  }
  ReconcileResult Run() {
    auto r = reconciler->Reconcile(fx.Get(kScalerPath).dump());
    REQUIRE(r.ok());
    return *r;
  }
  int Replicas() { return fx.Get(kScalePath)["spec"]["replicas"]; }
  json ScalerNow() { return fx.Get(kScalerPath); }
  std::vector<std::string> EventReasons() {
    std::vector<std::string> out;
    for (const auto& w : fx.WritesTo("/events", "POST")) out.push_back(w["body"]["reason"]);
    return out;
  }
  void CheckSchemas() {
    bool skipped = false;
    std::string out = fx.ValidateWrites(&skipped);
    if (skipped) {
      WARN("schema validation skipped: node_modules absent in tests/support/kube_standin");
    }
    INFO(out);
    CHECK(out.empty());
  }
};

TEST_CASE("reconciler: growth above 12 MiB/s scales up by one through /scale") {
  Env env(2);
  env.fx.Forecast(kNs, "web", 13 * kMiBps);
  auto r = env.Run();
  CHECK(r.outcome == "scale_up");
  CHECK(env.Replicas() == 3);
  auto puts = env.fx.WritesTo("/scale", "PUT");
  REQUIRE(puts.size() == 1);
  CHECK(puts[0]["body"]["kind"] == "Scale");
  CHECK(puts[0]["body"]["apiVersion"] == "autoscaling/v1");
  CHECK(puts[0]["body"]["metadata"].contains("resourceVersion"));  // Optimistic concurrency.
  json s = env.ScalerNow();
  CHECK(s["status"]["currentReplicas"] == 2);
  CHECK(s["status"]["desiredReplicas"] == 3);
  CHECK(s["status"].contains("lastScaleTime"));
  CHECK(s["status"]["lastForecast"]["growthRateBytesPerSecond"] == "13Mi");
  CHECK(s["status"]["lastDecision"]["rule"] == "growth");
  CHECK(s["status"]["mode"] == "Scale");
  CHECK(Condition(s, "Ready")["status"] == "True");
  CHECK(Condition(s, "ScalingActive")["reason"] == "ValidForecast");
  CHECK(Condition(s, "ScalingLimited")["status"] == "False");
  auto events = env.fx.WritesTo("/events", "POST");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["body"]["reason"] == "ScaledUp");
  CHECK(std::string(events[0]["body"]["message"]).find("13.0MiB/s") != std::string::npos);
  CHECK(events[0]["body"]["involvedObject"]["kind"] == "MemoryScaler");
  env.CheckSchemas();
}

TEST_CASE("reconciler: OOM forecast within the horizon scales up; max clamps") {
  Env env(4);
  auto pods = env.fx.Get("/api/v1/namespaces/shop/pods")["items"];
  env.fx.Forecast(kNs, "web", 0, 0.9, {{pods[0]["metadata"]["name"], 600}});  // ETA, risk agree.
  CHECK(env.Run().outcome == "scale_up");
  CHECK(env.Replicas() == 5);
  json s = env.ScalerNow();
  CHECK(s["status"]["lastDecision"]["rule"] == "oom-eta");
  CHECK(s["status"]["lastForecast"]["oomEtaSeconds"] == 600);
  env.fx.clock()->Advance(15);
  pods = env.fx.Get("/api/v1/namespaces/shop/pods")["items"];
  env.fx.Forecast(kNs, "web", 0, 0.9, {{pods[0]["metadata"]["name"], 600}});
  auto r = env.Run();
  CHECK(r.outcome == "no_change");
  CHECK(env.Replicas() == 5);  // maxReplicas.
  s = env.ScalerNow();
  CHECK(Condition(s, "ScalingLimited")["status"] == "True");
  CHECK(Condition(s, "ScalingLimited")["reason"] == "TooManyReplicas");
  CHECK(env.fx.WritesTo("/scale", "PUT").size() == 1);
  env.CheckSchemas();
}

TEST_CASE("reconciler: shrinking memory scales down; min clamps") {
  Env env(2);
  env.fx.Forecast(kNs, "web", -6 * kMiBps);
  CHECK(env.Run().outcome == "scale_down");
  CHECK(env.Replicas() == 1);
  env.fx.clock()->Advance(30);
  env.fx.Forecast(kNs, "web", -60 * kMiBps);
  CHECK(env.Run().outcome == "no_change");
  CHECK(env.Replicas() == 1);
  CHECK(Condition(env.ScalerNow(), "ScalingLimited")["reason"] == "TooFewReplicas");
  CHECK(env.EventReasons() == std::vector<std::string>{"ScaledDown"});
}

TEST_CASE("reconciler: stale or missing forecasts hold (no scale-down) and set a condition") {
  Env env(3);
  SECTION("stale samples") {
    env.fx.Forecast(kNs, "web", -50 * kMiBps, 0, {}, /*age_seconds=*/600);  // maxForecastAge 5m.
    auto r = env.Run();
    CHECK(r.outcome == "hold");
    json s = env.ScalerNow();
    CHECK(Condition(s, "ScalingActive")["status"] == "False");
    CHECK(Condition(s, "ScalingActive")["reason"] == "ForecastUnavailable");
    CHECK(std::string(s["status"]["lastForecast"]["error"]).find("stale") != std::string::npos);
  }
  SECTION("503 from the external metrics API") {
    env.fx.ForecastError(kNs, 503, "ServiceUnavailable", "forecasts are stale: backend down");
    CHECK(env.Run().outcome == "hold");
    json s = env.ScalerNow();
    CHECK(Condition(s, "ScalingActive")["reason"] == "ForecastUnavailable");
    CHECK(std::string(Condition(s, "ScalingActive")["message"]).find("backend down") !=
          std::string::npos);
    CHECK(s["status"]["lastDecision"]["action"] == "Hold");
  }
  SECTION("no items") {
    env.fx.Call("POST", "/_standin/metrics",
                {{"namespace", kNs},
                 {"metric", "memory_growth_rate_bytes_per_second"},
                 {"items", json::array()}});
    CHECK(env.Run().outcome == "no_match");  // Fresh forecasts, nothing matched: still a hold.
    json s = env.ScalerNow();
    CHECK(Condition(s, "ScalingActive")["reason"] == "SelectorMatchesNothing");
    CHECK(s["status"]["lastDecision"]["action"] == "Hold");
  }
  CHECK(env.Replicas() == 3);
  CHECK(env.fx.WritesTo("/scale", "PUT").empty());
  env.CheckSchemas();
}

TEST_CASE("reconciler: a 409 Conflict on /scale means re-read and decide again") {
  Env env(2);
  env.fx.Forecast(kNs, "web", 20 * kMiBps);
  env.fx.Call("POST", "/_standin/race", {{"path", kScalePath}, {"count", 1}});
  auto r = env.Run();
  CHECK(r.outcome == "scale_up");
  auto puts = env.fx.WritesTo("/scale", "PUT");
  REQUIRE(puts.size() == 2);
  CHECK(puts[0]["code"] == 409);
  CHECK(puts[1]["code"] == 200);
  CHECK(env.Replicas() == 3);
  SECTION("persistent conflicts give up with an error, reported in status") {
    env.fx.clock()->Advance(30);
    env.fx.Call("POST", "/_standin/race", {{"path", kScalePath}, {"count", 10}});
    auto r2 = env.Run();
    CHECK(r2.outcome == "error");
    CHECK(Condition(env.ScalerNow(), "Ready")["reason"] == "FailedUpdateScale");
    CHECK(env.Replicas() == 3);
  }
}

TEST_CASE(
    "reconciler: with an HPA on the target, raise its minReplicas, never write /scale, "
    "restore afterwards") {
  Env env(2, {{"horizon", "10m"}});
  env.fx.Seed(Hpa(2, 8));
  const std::string hpa_path =
      "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/web-hpa";
  env.fx.Forecast(kNs, "web", 30 * kMiBps);
  auto r = env.Run();
  CHECK(r.hpa_mode);
  CHECK(r.outcome == "hpa_floor");
  json hpa = env.fx.Get(hpa_path);
  CHECK(hpa["spec"]["minReplicas"] == 3);
  CHECK(hpa["metadata"]["annotations"]["oomcast.io/original-min-replicas"] == "2");
  CHECK(hpa["metadata"]["annotations"].contains("oomcast.io/floor-until"));
  CHECK(env.fx.WritesTo("/scale", "PUT").empty());
  json s = env.ScalerNow();
  CHECK(s["status"]["mode"] == "HPAFloor");
  CHECK(Condition(s, "ScalingActive")["reason"] == "HPAFloor");
  CHECK(std::string(Condition(s, "ScalingActive")["message"]).find("web-hpa") != std::string::npos);

  // The HPA follows its new floor (the stand-in has no HPA controller: do it by hand).
  json scale = env.fx.Get(kScalePath);
  scale["spec"]["replicas"] = 3;
  env.fx.Call("PUT", kScalePath, scale);

  // Still growing a minute later: the floor goes up by one more, the original is kept.
  env.fx.clock()->Advance(60);
  env.fx.Forecast(kNs, "web", 30 * kMiBps);
  CHECK(env.Run().outcome == "hpa_floor");
  hpa = env.fx.Get(hpa_path);
  CHECK(hpa["spec"]["minReplicas"] == 4);
  CHECK(hpa["metadata"]["annotations"]["oomcast.io/original-min-replicas"] == "2");

  // Calm, but within the forecast window: the floor stays.
  env.fx.clock()->Advance(120);
  env.fx.Forecast(kNs, "web", 0);
  CHECK(env.Run().outcome == "no_change");
  CHECK(env.fx.Get(hpa_path)["spec"]["minReplicas"] == 4);

  // Missing data: hold, keep the floor.
  env.fx.clock()->Advance(900);
  env.fx.ForecastError(kNs, 503, "ServiceUnavailable", "no data");
  CHECK(env.Run().outcome == "hold");
  CHECK(env.fx.Get(hpa_path)["spec"]["minReplicas"] == 4);

  // Calm after the window: restored, annotations removed.
  env.fx.Forecast(kNs, "web", 0);
  CHECK(env.Run().outcome == "hpa_restore");
  hpa = env.fx.Get(hpa_path);
  CHECK(hpa["spec"]["minReplicas"] == 2);
  CHECK_FALSE(hpa["metadata"]["annotations"].contains("oomcast.io/original-min-replicas"));
  CHECK_FALSE(hpa["metadata"]["annotations"].contains("oomcast.io/floor-until"));
  CHECK(env.fx.WritesTo("/scale", "PUT").size() == 1);  // Only the test's own write.
  auto reasons = env.EventReasons();
  CHECK(reasons ==
        std::vector<std::string>{"RaisedHPAFloor", "RaisedHPAFloor", "RestoredHPAFloor"});
  env.CheckSchemas();
}

TEST_CASE("reconciler: an HPA floor write conflict is re-read and retried") {
  Env env(2);
  env.fx.Seed(Hpa(2, 8));
  env.fx.Forecast(kNs, "web", 30 * kMiBps);
  env.fx.Call("POST", "/_standin/race",
              {{"path", "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/web-hpa"},
               {"count", 1}});
  CHECK(env.Run().outcome == "hpa_floor");
  auto puts = env.fx.WritesTo("horizontalpodautoscalers/web-hpa", "PUT");
  REQUIRE(puts.size() == 2);
  CHECK(puts[0]["code"] == 409);
  CHECK(puts[1]["code"] == 200);
}

TEST_CASE("reconciler: restartBeforeOOM evicts the leaking pod; a PDB refusal is reported") {
  Env env(3, {{"maxReplicas", 3},
              {"restartBeforeOOM", {{"enabled", true}, {"etaBelow", "5m"}, {"cooldown", "10m"}}}});
  env.fx.Seed({{"apiVersion", "policy/v1"},
               {"kind", "PodDisruptionBudget"},
               {"metadata", {{"name", "web-pdb"}, {"namespace", kNs}}},
               {"spec", {{"minAvailable", 3}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}});
  auto pods = env.fx.Get("/api/v1/namespaces/shop/pods")["items"];
  REQUIRE(pods.size() == 3);
  const std::string leaking = pods[1]["metadata"]["name"];
  env.fx.Forecast(kNs, "web", 1 * kMiBps, 0.1, {{leaking, 120}});

  auto refused = env.Run();
  CHECK(refused.outcome == "evict_refused");
  json s = env.ScalerNow();
  CHECK(s["status"]["lastEviction"]["result"] == "Refused");
  CHECK(s["status"]["lastEviction"]["pod"] == leaking);
  CHECK(std::string(s["status"]["lastEviction"]["message"]).find("disruption budget") !=
        std::string::npos);
  auto evictions = env.fx.WritesTo("/eviction", "POST");
  REQUIRE(evictions.size() == 1);
  CHECK(evictions[0]["code"] == 429);
  CHECK(evictions[0]["body"]["kind"] == "Eviction");
  CHECK(env.fx.Get("/api/v1/namespaces/shop/pods")["items"].size() == 3);

  // The PDB goes away: the next reconcile evicts.
  env.fx.Call("DELETE", "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/web-pdb");
  env.fx.clock()->Advance(15);
  env.fx.Forecast(kNs, "web", 1 * kMiBps, 0.1, {{leaking, 100}});
  auto evicted = env.Run();
  CHECK(evicted.outcome == "evict");
  s = env.ScalerNow();
  CHECK(s["status"]["lastEviction"]["result"] == "Evicted");
  auto names = env.fx.Get("/api/v1/namespaces/shop/pods")["items"];
  for (const auto& p : names) CHECK(p["metadata"]["name"] != leaking);

  // Cooldown: another pod at risk is not evicted within 10 minutes.
  env.fx.clock()->Advance(60);
  std::string next = names[0]["metadata"]["name"];
  env.fx.Forecast(kNs, "web", 1 * kMiBps, 0.1, {{next, 100}});
  auto cooled = env.Run();
  CHECK(cooled.eviction.reason == "Cooldown");
  CHECK(env.fx.WritesTo("/eviction", "POST").size() == 2);
  auto reasons = env.EventReasons();
  CHECK(reasons == std::vector<std::string>{"EvictionRefused", "EvictedBeforeOOM"});
  env.CheckSchemas();
}

TEST_CASE("reconciler: never evicts the last ready replica") {
  Env env(1, {{"maxReplicas", 1}, {"restartBeforeOOM", {{"enabled", true}}}});
  auto pods = env.fx.Get("/api/v1/namespaces/shop/pods")["items"];
  env.fx.Forecast(kNs, "web", 0, 0, {{pods[0]["metadata"]["name"], 30}});
  auto r = env.Run();
  CHECK(r.eviction.reason == "LastReadyReplica");
  CHECK(env.fx.WritesTo("/eviction").empty());
}

TEST_CASE("reconciler: dry run decides and reports, never writes the target") {
  Env env(2, {{"dryRun", true}, {"restartBeforeOOM", {{"enabled", true}}}, {"maxReplicas", 2}});
  env.fx.Seed(json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"other",
    "namespace":"shop","labels":{"app":"other"}},"spec":{"containers":[{"name":"c","image":"i"}]},
    "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})"));
  auto pods = env.fx.Get("/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb")["items"];
  env.fx.Forecast(kNs, "web", 40 * kMiBps, 0, {{pods[0]["metadata"]["name"], 60}});
  auto r = env.Run();
  CHECK(r.outcome == "dry_run");
  CHECK(env.Replicas() == 2);
  CHECK(env.fx.WritesTo("/scale").empty());
  CHECK(env.fx.WritesTo("/eviction").empty());
  json s = env.ScalerNow();
  CHECK(Condition(s, "Ready")["reason"] == "DryRun");
  CHECK(s["status"]["lastEviction"]["result"] == "DryRun");
  for (const auto& reason : env.EventReasons()) CHECK(reason == "DryRun");

  SECTION("dry run with an HPA: the floor is reported, not written") {
    env.fx.Call("PUT", kScalerPath, [&] {
      json o = env.ScalerNow();
      o["spec"]["maxReplicas"] = 5;
      return o;
    }());
    env.fx.Seed(Hpa(2, 8));
    env.fx.clock()->Advance(15);
    env.fx.Forecast(kNs, "web", 40 * kMiBps);
    CHECK(env.Run().outcome == "dry_run");
    CHECK(env.fx.WritesTo("horizontalpodautoscalers/web-hpa", "PUT").empty());
  }
  env.CheckSchemas();
}

TEST_CASE("reconciler: an invalid spec or a missing target is reported in status") {
  Env env(2, {{"minReplicas", 4}, {"maxReplicas", 2}});
  auto r = env.Run();
  CHECK(r.outcome == "invalid");
  json s = env.ScalerNow();
  CHECK(Condition(s, "Ready")["reason"] == "InvalidSpec");
  CHECK(std::string(Condition(s, "Ready")["message"]).find("maxReplicas") != std::string::npos);

  json fixed = s;
  fixed["spec"]["minReplicas"] = 1;
  fixed["spec"]["scaleTargetRef"]["name"] = "gone";
  env.fx.Call("PUT", kScalerPath, fixed);
  auto missing = env.reconciler->Reconcile(env.ScalerNow().dump());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(Condition(env.ScalerNow(), "Ready")["reason"] == "TargetNotFound");
  CHECK(env.metrics.Serialize().find("oomcast_controller_decisions_total{outcome=\"invalid\"} 1") !=
        std::string::npos);
}

TEST_CASE("reconciler: conditions keep lastTransitionTime while unchanged") {
  Env env(2);
  env.fx.Forecast(kNs, "web", 0);
  env.Run();
  std::string t0 = Condition(env.ScalerNow(), "ScalingActive")["lastTransitionTime"];
  env.fx.clock()->Advance(3600);
  env.fx.Forecast(kNs, "web", 0);
  env.Run();
  CHECK(Condition(env.ScalerNow(), "ScalingActive")["lastTransitionTime"] == t0);
  env.fx.ForecastError(kNs, 503, "ServiceUnavailable", "down");
  env.Run();
  CHECK(Condition(env.ScalerNow(), "ScalingActive")["lastTransitionTime"] != t0);
}

}  // namespace
}  // namespace oomcast::controller

namespace oomcast::controller {
namespace {

TEST_CASE("reconciler: the HPA floor of a deleted MemoryScaler is restored") {
  Env env(2);
  env.fx.Seed(Hpa(2, 8));
  env.fx.Forecast(kNs, "web", 30 * kMiBps);
  CHECK(env.Run().outcome == "hpa_floor");
  const std::string hpa_path =
      "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/web-hpa";
  CHECK(env.fx.Get(hpa_path)["spec"]["minReplicas"] == 3);
  // While the scaler exists nothing is touched.
  auto kept = env.reconciler->RestoreOrphanFloors({"shop/web"});
  REQUIRE(kept.ok());
  CHECK(*kept == 0);
  env.fx.Call("DELETE", kScalerPath);
  auto restored = env.reconciler->RestoreOrphanFloors({});
  REQUIRE(restored.ok());
  CHECK(*restored == 1);
  json hpa = env.fx.Get(hpa_path);
  CHECK(hpa["spec"]["minReplicas"] == 2);
  CHECK_FALSE(hpa["metadata"]["annotations"].contains("oomcast.io/floor-owner"));
  env.CheckSchemas();
}

}  // namespace
}  // namespace oomcast::controller

namespace oomcast::controller {
namespace {

TEST_CASE("reconciler: no status write when nothing changed, a heartbeat every 5 minutes") {
  Env env(2);
  env.fx.Forecast(kNs, "web", 0);
  env.Run();
  auto writes = [&] { return env.fx.WritesTo("/memoryscalers/web/status", "PUT").size(); };
  CHECK(writes() == 1);
  env.fx.clock()->Advance(15);
  env.fx.Forecast(kNs, "web", 0);
  env.Run();
  CHECK(writes() == 1);
  env.fx.clock()->Advance(300);
  env.fx.Forecast(kNs, "web", 0);
  env.Run();
  CHECK(writes() == 2);
  env.fx.clock()->Advance(15);
  env.fx.Forecast(kNs, "web", 1 * kMiBps);  // The forecast changed: written at once.
  env.Run();
  CHECK(writes() == 3);
}

}  // namespace
}  // namespace oomcast::controller
