// The reconciler on the in-process Kubernetes API fake with a FakeClock (no process, no socket,
// no wall-clock time): /scale writes, ETA-with-risk, stabilization, clamps, stale forecasts,
// 409 conflicts, HPA floors (and a GitOps tool reverting them), restartBeforeOOM and its PDB
// refusal, dry-run, status, Events, and every failed write reported. The same behaviour over
// HTTP against the Python stand-in, with schema validation, is reconciler_standin_test.cc.
#include "oomcast/controller/reconciler.h"

#include <catch2/catch.hpp>

#include "controller/test_objects.h"
#include "oomcast/controller/memory_scaler.h"
#include "support/fake_clock.h"
#include "support/fake_kube_client.h"

namespace oomcast::controller {
namespace {

using nlohmann::json;
using namespace testing;
using oomcast::testing::FakeClock;
using oomcast::testing::FakeKubeClient;

struct Env {
  FakeKubeClient kube;
  FakeClock clock{1767225600};
  ControllerMetrics metrics;
  ExternalMetricsForecastSource forecasts{&kube, &clock};
  Reconciler reconciler{&kube, &forecasts, &clock, &metrics, ReconcilerOptions{"test", 3}};

  explicit Env(int replicas = 2, json overrides = json::object()) {
    kube.Seed(Deployment(replicas));
    kube.Seed(Scaler(std::move(overrides)));
  }
  ReconcileResult Run() {
    auto r = reconciler.Reconcile(kube.Get(kScalerPath).dump());
    REQUIRE(r.ok());
    return *r;
  }
  int Replicas() { return kube.Get(kScalePath)["spec"]["replicas"]; }
  json ScalerNow() { return kube.Get(kScalerPath); }
  std::vector<std::string> Pods() {
    std::vector<std::string> out;
    const json list = kube.Get("/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb");
    for (const auto& p : list["items"]) out.push_back(p["metadata"]["name"]);
    return out;
  }
  // The three forecast metrics for every current pod: the same growth (bytes/s) and risk;
  // `eta_by_pod` gives some pods an ETA (others have none). Samples `age_seconds` old.
  void Forecast(double growth_bps, double risk = 0,
                const std::map<std::string, double>& eta_by_pod = {}, double age_seconds = 0) {
    json growth = json::array(), eta = json::array(), risks = json::array();
    const double ts = clock.NowUnixSeconds() - age_seconds;
    for (const std::string& pod : Pods()) {
      json labels = {{"pod", pod}, {"container", "app"}, {"app", "web"}};
      growth.push_back({{"labels", labels}, {"value", growth_bps}, {"timestamp", ts}});
      risks.push_back({{"labels", labels}, {"value", risk}, {"timestamp", ts}});
      if (eta_by_pod.count(pod)) {
        eta.push_back({{"labels", labels}, {"value", eta_by_pod.at(pod)}, {"timestamp", ts}});
      }
    }
    kube.SetExternalMetric(kNs, std::string(kGrowthRateMetric), growth);
    kube.SetExternalMetric(kNs, std::string(kEtaMetric), eta);
    kube.SetExternalMetric(kNs, std::string(kRiskMetric), risks);
  }
  void ForecastError(const std::string& message) {
    for (std::string_view m : {kGrowthRateMetric, kEtaMetric, kRiskMetric}) {
      kube.SetExternalMetricError(kNs, std::string(m), 503, "ServiceUnavailable", message);
    }
  }
  std::vector<std::string> EventReasons() {
    std::vector<std::string> out;
    for (const auto& w : kube.WritesTo("/events", "POST")) out.push_back(w.body["reason"]);
    return out;
  }
};

TEST_CASE("reconciler: growth above 12 MiB/s scales up by one through /scale") {
  Env env(2);
  env.Forecast(13 * kMiBps);
  auto r = env.Run();
  CHECK(r.outcome == "scale_up");
  CHECK(r.failed_writes.empty());
  CHECK(env.Replicas() == 3);
  auto puts = env.kube.WritesTo("/scale", "PUT");
  REQUIRE(puts.size() == 1);
  CHECK(puts[0].body["kind"] == "Scale");
  CHECK(puts[0].body["apiVersion"] == "autoscaling/v1");
  CHECK(puts[0].body["metadata"].contains("resourceVersion"));  // Optimistic concurrency.
  json s = env.ScalerNow();
  CHECK(s["status"]["observedGeneration"] == 1);
  CHECK(s["status"]["currentReplicas"] == 2);
  CHECK(s["status"]["desiredReplicas"] == 3);
  CHECK(s["status"]["lastScaleTime"] == "2026-01-01T00:00:00Z");
  CHECK(s["status"]["lastForecast"]["growthRateBytesPerSecond"] == "13Mi");
  CHECK(s["status"]["lastForecast"]["pods"] == 2);
  CHECK(s["status"]["lastDecision"]["rule"] == "growth");
  CHECK(s["status"]["mode"] == "Scale");
  CHECK(Condition(s, "Ready")["status"] == "True");
  CHECK(Condition(s, "ScalingActive")["reason"] == "ValidForecast");
  CHECK(Condition(s, "ScalingLimited")["status"] == "False");
  auto events = env.kube.WritesTo("/events", "POST");
  REQUIRE(events.size() == 1);
  CHECK(events[0].body["reason"] == "ScaledUp");
  CHECK(std::string(events[0].body["message"]).find("13.0MiB/s") != std::string::npos);
  CHECK(events[0].body["involvedObject"]["kind"] == "MemoryScaler");
  CHECK(events[0].body["reportingInstance"] == "test");
  CHECK(env.metrics.Serialize().find(
            "oomcast_controller_decisions_total{outcome=\"scale_up\"} 1") != std::string::npos);
}

TEST_CASE("reconciler: an OOM ETA within the horizon scales up only with the risk agreeing") {
  Env env(4);
  const std::string pod = env.Pods()[0];
  SECTION("ETA and risk agree: up, then clamped at maxReplicas") {
    env.Forecast(0, 0.9, {{pod, 600}});
    CHECK(env.Run().outcome == "scale_up");
    CHECK(env.Replicas() == 5);
    json s = env.ScalerNow();
    CHECK(s["status"]["lastDecision"]["rule"] == "oom-eta");
    CHECK(s["status"]["lastForecast"]["oomEtaSeconds"] == 600);
    CHECK(s["status"]["lastForecast"]["worstPod"] == pod);
    env.clock.Advance(15);
    env.Forecast(0, 0.9, {{pod, 600}});
    CHECK(env.Run().outcome == "no_change");
    CHECK(env.Replicas() == 5);
    s = env.ScalerNow();
    CHECK(Condition(s, "ScalingLimited")["status"] == "True");
    CHECK(Condition(s, "ScalingLimited")["reason"] == "TooManyReplicas");
    CHECK(env.kube.WritesTo("/scale", "PUT").size() == 1);
  }
  SECTION("a short ETA at low risk is no forecast to act on") {
    env.Forecast(0, 0.1, {{pod, 600}});
    CHECK(env.Run().outcome == "no_change");
    CHECK(env.Replicas() == 4);
  }
}

TEST_CASE("reconciler: shrinking memory scales down after the stabilization window") {
  Env env(3, {{"behavior", {{"scaleDown", {{"stabilizationWindowSeconds", 300}}}}}});
  env.Forecast(0);  // Calm: recommendation 3 recorded at t0.
  CHECK(env.Run().outcome == "no_change");
  env.clock.Advance(60);
  env.Forecast(-6 * kMiBps);
  auto held = env.Run();
  CHECK(held.outcome == "no_change");
  CHECK(held.decision.reason == "ScaleDownStabilized");
  CHECK(env.Replicas() == 3);
  env.clock.Advance(241);  // The t0 recommendation is out of the 300 s window.
  env.Forecast(-6 * kMiBps);
  CHECK(env.Run().outcome == "scale_down");
  CHECK(env.Replicas() == 2);
  CHECK(env.EventReasons() == std::vector<std::string>{"ScaledDown"});
}

TEST_CASE("reconciler: never below minReplicas, never above maxReplicas") {
  SECTION("min") {
    Env env(2, {{"minReplicas", 2}});
    env.Forecast(-60 * kMiBps);
    auto r = env.Run();
    CHECK(r.outcome == "no_change");
    CHECK(env.Replicas() == 2);
    CHECK(Condition(env.ScalerNow(), "ScalingLimited")["reason"] == "TooFewReplicas");
  }
  SECTION("a target below min is raised even without a forecast") {
    Env env(1, {{"minReplicas", 3}});
    env.ForecastError("no data");
    env.Run();
    CHECK(env.Replicas() == 3);
  }
  SECTION("max, with a large step") {
    Env env(4, {{"scaleUp", {{"step", 3}}}});
    env.Forecast(100 * kMiBps);
    CHECK(env.Run().outcome == "scale_up");
    CHECK(env.Replicas() == 5);
  }
}

TEST_CASE("reconciler: stale or missing forecasts hold (no scale-down) and set a condition") {
  Env env(3);
  SECTION("stale samples") {
    env.Forecast(-50 * kMiBps, 0, {}, /*age_seconds=*/600);  // maxForecastAge 5m.
    CHECK(env.Run().outcome == "hold");
    json s = env.ScalerNow();
    CHECK(Condition(s, "ScalingActive")["status"] == "False");
    CHECK(Condition(s, "ScalingActive")["reason"] == "ForecastUnavailable");
    CHECK(std::string(s["status"]["lastForecast"]["error"]).find("stale") != std::string::npos);
  }
  SECTION("503 from the external metrics API") {
    env.ForecastError("forecasts are stale: backend down");
    CHECK(env.Run().outcome == "hold");
    json s = env.ScalerNow();
    CHECK(std::string(Condition(s, "ScalingActive")["message"]).find("backend down") !=
          std::string::npos);
    CHECK(s["status"]["lastDecision"]["action"] == "Hold");
  }
  SECTION("no items: the selector matches nothing (its own outcome, still a hold)") {
    env.kube.SetExternalMetric(kNs, std::string(kGrowthRateMetric), json::array());
    CHECK(env.Run().outcome == "no_match");
    CHECK(env.ScalerNow()["status"]["lastDecision"]["action"] == "Hold");
  }
  CHECK(env.Replicas() == 3);
  CHECK(env.kube.WritesTo("/scale", "PUT").empty());
}

TEST_CASE(
    "reconciler: a selector matching no container while forecasts are fresh is reported once "
    "per change and holds") {
  Env env(3);
  // Fresh forecasts exist in the namespace, but for pods labelled app=api only: the scaler's
  // selector (the target's app=web) gets 200 with `items: []` from the external metrics API.
  auto other_app = [&](double growth_bps) {
    json labels = {{"pod", "api-1"}, {"container", "app"}, {"app", "api"}};
    json items = json::array(
        {{{"labels", labels}, {"value", growth_bps}, {"timestamp", env.clock.NowUnixSeconds()}}});
    for (std::string_view m : {kGrowthRateMetric, kEtaMetric, kRiskMetric}) {
      env.kube.SetExternalMetric(kNs, std::string(m), items);
    }
  };
  auto no_match_events = [&] {
    int n = 0;
    for (const auto& w : env.kube.WritesTo("/events", "POST")) {
      if (w.body["reason"] == "SelectorMatchesNothing") {
        CHECK(w.body["type"] == "Warning");
        ++n;
      }
    }
    return n;
  };
  other_app(-50 * kMiBps);  // Would scale down, were it matched.
  CHECK(env.Run().outcome == "no_match");
  json s = env.ScalerNow();
  json active = Condition(s, "ScalingActive");
  CHECK(active["status"] == "False");
  CHECK(active["reason"] == "SelectorMatchesNothing");
  const std::string message = active["message"];
  CHECK(message.find("selector \"app=web\"") != std::string::npos);
  CHECK(message.find(kGrowthRateMetric) != std::string::npos);
  CHECK(s["status"]["lastDecision"]["action"] == "Hold");
  CHECK(s["status"]["lastForecast"]["available"] == false);
  CHECK(no_match_events() == 1);

  env.clock.Advance(30);  // The next syncs: still nothing matches, no second Event.
  CHECK(env.Run().outcome == "no_match");
  env.clock.Advance(30);
  CHECK(env.Run().outcome == "no_match");
  CHECK(no_match_events() == 1);
  CHECK(env.metrics.Serialize().find(
            "oomcast_controller_decisions_total{outcome=\"no_match\"} 3") != std::string::npos);

  env.clock.Advance(30);  // The labels are fixed: a valid forecast, the condition clears.
  env.Forecast(0);
  CHECK(env.Run().outcome == "no_change");
  CHECK(Condition(env.ScalerNow(), "ScalingActive")["reason"] == "ValidForecast");

  env.clock.Advance(30);  // Broken again: a change, so a second Event.
  other_app(0);
  CHECK(env.Run().outcome == "no_match");
  CHECK(no_match_events() == 2);

  env.clock.Advance(30);  // Stale or missing forecasts (503) are not "matches nothing".
  env.ForecastError("forecasts are stale: backend down");
  CHECK(env.Run().outcome == "hold");
  CHECK(Condition(env.ScalerNow(), "ScalingActive")["reason"] == "ForecastUnavailable");
  CHECK(no_match_events() == 2);

  CHECK(env.Replicas() == 3);
  CHECK(env.kube.WritesTo("/scale", "PUT").empty());
}

TEST_CASE("reconciler: a 409 Conflict on /scale means re-read and decide again") {
  Env env(2);
  env.Forecast(20 * kMiBps);
  env.kube.Race(kScalePath, 1);
  CHECK(env.Run().outcome == "scale_up");
  auto puts = env.kube.WritesTo("/scale", "PUT");
  REQUIRE(puts.size() == 2);
  CHECK(puts[0].code == 409);
  CHECK(puts[1].code == 200);
  CHECK(env.Replicas() == 3);

  env.clock.Advance(30);
  env.Forecast(20 * kMiBps);
  env.kube.Race(kScalePath, 10);  // Persistent: gives up after 3 retries, reported in status.
  auto r = env.Run();
  CHECK(r.outcome == "error");
  CHECK(env.kube.WritesTo("/scale", "PUT").size() == 2 + 4);
  REQUIRE(r.failed_writes.size() == 1);
  CHECK(r.failed_writes[0].find("Conflict") != std::string::npos);
  json s = env.ScalerNow();
  CHECK(Condition(s, "Ready")["reason"] == "FailedUpdateScale");
  CHECK(s["status"]["lastScaleTime"] == "2026-01-01T00:00:00Z");  // Unchanged: not scaled.
  CHECK(env.Replicas() == 3);
  CHECK(env.EventReasons() == std::vector<std::string>{"ScaledUp"});
}

TEST_CASE("reconciler: with an HPA on the target, raise its minReplicas, restore afterwards") {
  Env env(2, {{"horizon", "10m"}});
  env.kube.Seed(Hpa(2, 8));
  env.Forecast(30 * kMiBps);
  auto r = env.Run();
  CHECK(r.hpa_mode);
  CHECK(r.hpa_name == "web-hpa");
  CHECK(r.outcome == "hpa_floor");
  json hpa = env.kube.Get(kHpaPath);
  CHECK(hpa["spec"]["minReplicas"] == 3);
  CHECK(hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu");  // The rest of the object kept.
  CHECK(hpa["metadata"]["annotations"][kOriginalMinReplicasAnnotation] == "2");
  CHECK(hpa["metadata"]["annotations"][kFloorUntilAnnotation] == "2026-01-01T00:10:00Z");
  CHECK(hpa["metadata"]["annotations"][kFloorOwnerAnnotation] == "shop/web");
  CHECK(env.kube.WritesTo("/scale", "PUT").empty());
  json s = env.ScalerNow();
  CHECK(s["status"]["mode"] == "HPAFloor");
  CHECK(Condition(s, "ScalingActive")["reason"] == "HPAFloor");

  // Still growing a minute later, the HPA at its new floor: one more, the original kept.
  json scale = env.kube.Get(kScalePath);
  scale["spec"]["replicas"] = 3;
  env.kube.Call("PUT", kScalePath, scale);
  env.clock.Advance(60);
  env.Forecast(30 * kMiBps);
  CHECK(env.Run().outcome == "hpa_floor");
  CHECK(env.kube.Get(kHpaPath)["spec"]["minReplicas"] == 4);

  // Calm within the window: the floor stays. Missing data after it: hold, floor kept.
  env.clock.Advance(120);
  env.Forecast(0);
  CHECK(env.Run().outcome == "no_change");
  CHECK(env.kube.Get(kHpaPath)["spec"]["minReplicas"] == 4);
  env.clock.Advance(900);
  env.ForecastError("no data");
  CHECK(env.Run().outcome == "hold");
  CHECK(env.kube.Get(kHpaPath)["spec"]["minReplicas"] == 4);

  // Calm after the window: restored, annotations removed.
  env.Forecast(0);
  CHECK(env.Run().outcome == "hpa_restore");
  hpa = env.kube.Get(kHpaPath);
  CHECK(hpa["spec"]["minReplicas"] == 2);
  CHECK(hpa["metadata"]["annotations"].empty());
  CHECK(env.EventReasons() ==
        std::vector<std::string>{"RaisedHPAFloor", "RaisedHPAFloor", "RestoredHPAFloor"});
}

TEST_CASE("reconciler: a GitOps tool reverting the HPA's minReplicas") {
  Env env(2, {{"horizon", "10m"}});
  env.kube.Seed(Hpa(2, 8));
  env.Forecast(30 * kMiBps);
  REQUIRE(env.Run().outcome == "hpa_floor");
  json hpa = env.kube.Get(kHpaPath);
  REQUIRE(hpa["spec"]["minReplicas"] == 3);

  SECTION("a full revert (annotations gone): the next up-signal raises it again from 2") {
    json git = Hpa(2, 8);
    git["metadata"]["resourceVersion"] = hpa["metadata"]["resourceVersion"];
    env.kube.Call("PUT", kHpaPath, git);
    env.clock.Advance(30);
    env.Forecast(30 * kMiBps);
    CHECK(env.Run().outcome == "hpa_floor");
    hpa = env.kube.Get(kHpaPath);
    CHECK(hpa["spec"]["minReplicas"] == 3);
    CHECK(hpa["metadata"]["annotations"][kOriginalMinReplicasAnnotation] == "2");
  }
  SECTION("a full revert while calm: nothing to restore, the GitOps value stands") {
    json git = Hpa(2, 8);
    git["metadata"]["resourceVersion"] = hpa["metadata"]["resourceVersion"];
    env.kube.Call("PUT", kHpaPath, git);
    env.clock.Advance(700);
    env.Forecast(0);
    CHECK(env.Run().outcome == "no_change");
    CHECK(env.kube.Get(kHpaPath)["spec"]["minReplicas"] == 2);
  }
  SECTION("only minReplicas reverted (client-side apply keeps our annotations)") {
    hpa["spec"]["minReplicas"] = 2;
    env.kube.Call("PUT", kHpaPath, hpa);
    env.clock.Advance(30);
    env.Forecast(30 * kMiBps);
    CHECK(env.Run().outcome == "hpa_floor");  // Raised again; the original stays "2".
    hpa = env.kube.Get(kHpaPath);
    CHECK(hpa["spec"]["minReplicas"] == 3);
    CHECK(hpa["metadata"]["annotations"][kOriginalMinReplicasAnnotation] == "2");
    env.clock.Advance(700);
    env.Forecast(0);
    CHECK(env.Run().outcome == "hpa_restore");
    CHECK(env.kube.Get(kHpaPath)["spec"]["minReplicas"] == 2);
  }
}

TEST_CASE("reconciler: an HPA floor write conflict is re-read and retried") {
  Env env(2);
  env.kube.Seed(Hpa(2, 8));
  env.Forecast(30 * kMiBps);
  env.kube.Race(kHpaPath, 1);
  CHECK(env.Run().outcome == "hpa_floor");
  auto puts = env.kube.WritesTo("horizontalpodautoscalers/web-hpa", "PUT");
  REQUIRE(puts.size() == 2);
  CHECK(puts[0].code == 409);
  CHECK(puts[1].code == 200);
}

TEST_CASE("reconciler: restartBeforeOOM evicts the leaking pod; a PDB refusal (429) is reported") {
  Env env(3, {{"maxReplicas", 3},
              {"restartBeforeOOM", {{"enabled", true}, {"etaBelow", "5m"}, {"cooldown", "10m"}}}});
  env.kube.Seed(
      {{"apiVersion", "policy/v1"},
       {"kind", "PodDisruptionBudget"},
       {"metadata", {{"name", "web-pdb"}, {"namespace", kNs}}},
       {"spec", {{"minAvailable", 3}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}});
  auto pods = env.Pods();
  REQUIRE(pods.size() == 3);
  const std::string leaking = pods[1];
  env.Forecast(1 * kMiBps, 0.1, {{leaking, 120}});

  auto refused = env.Run();
  CHECK(refused.outcome == "evict_refused");
  CHECK(refused.eviction.reason == "EvictionRefused");
  json s = env.ScalerNow();
  CHECK(s["status"]["lastEviction"]["result"] == "Refused");
  CHECK(s["status"]["lastEviction"]["pod"] == leaking);
  CHECK(std::string(s["status"]["lastEviction"]["message"]).find("disruption budget") !=
        std::string::npos);
  CHECK(std::string(s["status"]["lastEviction"]["message"]).find("retry after 10s") !=
        std::string::npos);
  auto evictions = env.kube.WritesTo("/eviction", "POST");
  REQUIRE(evictions.size() == 1);
  CHECK(evictions[0].code == 429);
  CHECK(evictions[0].body["kind"] == "Eviction");
  CHECK(env.Pods().size() == 3);

  env.kube.Call("DELETE", "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/web-pdb");
  env.clock.Advance(15);
  env.Forecast(1 * kMiBps, 0.1, {{leaking, 100}});
  CHECK(env.Run().outcome == "evict");
  CHECK(env.ScalerNow()["status"]["lastEviction"]["result"] == "Evicted");
  pods = env.Pods();
  CHECK(std::find(pods.begin(), pods.end(), leaking) == pods.end());

  env.clock.Advance(60);  // Cooldown: another pod at risk is not evicted within 10 minutes.
  env.Forecast(1 * kMiBps, 0.1, {{pods[0], 100}});
  CHECK(env.Run().eviction.reason == "Cooldown");
  CHECK(env.kube.WritesTo("/eviction", "POST").size() == 2);
  CHECK(env.EventReasons() == std::vector<std::string>{"EvictionRefused", "EvictedBeforeOOM"});
}

TEST_CASE("reconciler: the eviction cooldown survives a leader hand-over (status.lastEviction)") {
  Env env(3, {{"maxReplicas", 3}, {"restartBeforeOOM", {{"enabled", true}}}});
  env.Forecast(1 * kMiBps, 0.1, {{env.Pods()[0], 100}});
  REQUIRE(env.Run().outcome == "evict");
  Reconciler successor(&env.kube, &env.forecasts, &env.clock, nullptr);  // A new leader.
  env.clock.Advance(60);
  env.Forecast(1 * kMiBps, 0.1, {{env.Pods()[0], 100}});
  auto r = successor.Reconcile(env.ScalerNow().dump());
  REQUIRE(r.ok());
  CHECK(r->eviction.reason == "Cooldown");
}

TEST_CASE("reconciler: never evicts the last ready replica") {
  Env env(1, {{"maxReplicas", 1}, {"restartBeforeOOM", {{"enabled", true}}}});
  env.Forecast(0, 0, {{env.Pods()[0], 30}});
  CHECK(env.Run().eviction.reason == "LastReadyReplica");
  CHECK(env.kube.WritesTo("/eviction").empty());
}

TEST_CASE("reconciler: dry run decides and reports, never writes the target") {
  Env env(2, {{"dryRun", true}, {"restartBeforeOOM", {{"enabled", true}}}, {"maxReplicas", 2}});
  env.Forecast(40 * kMiBps, 0, {{env.Pods()[0], 60}});
  CHECK(env.Run().outcome == "dry_run");
  CHECK(env.Replicas() == 2);
  CHECK(env.kube.WritesTo("/scale").empty());
  CHECK(env.kube.WritesTo("/eviction").empty());
  json s = env.ScalerNow();
  CHECK(Condition(s, "Ready")["reason"] == "DryRun");
  CHECK(s["status"]["lastEviction"]["result"] == "DryRun");
  CHECK(env.EventReasons() == std::vector<std::string>{"DryRun"});  // The eviction's.

  SECTION("scale: an Event, no write") {
    json o = env.ScalerNow();
    o["spec"]["maxReplicas"] = 5;
    o["spec"]["restartBeforeOOM"]["enabled"] = false;
    env.kube.Call("PUT", kScalerPath, o);
    env.clock.Advance(15);
    env.Forecast(40 * kMiBps);
    CHECK(env.Run().outcome == "dry_run");
    CHECK(env.kube.WritesTo("/scale").empty());
    auto events = env.kube.WritesTo("/events", "POST");
    CHECK(std::string(events.back().body["message"]).rfind("dry run: would scale up", 0) == 0);
  }
  SECTION("with an HPA: the floor is reported, not written") {
    json o = env.ScalerNow();
    o["spec"]["maxReplicas"] = 5;
    env.kube.Call("PUT", kScalerPath, o);
    env.kube.Seed(Hpa(2, 8));
    env.clock.Advance(15);
    env.Forecast(40 * kMiBps);
    CHECK(env.Run().outcome == "dry_run");
    CHECK(env.kube.WritesTo("horizontalpodautoscalers/web-hpa", "PUT").empty());
  }
}

TEST_CASE("reconciler: an invalid spec or a missing target is reported in status") {
  Env env(2, {{"minReplicas", 4}, {"maxReplicas", 2}});
  CHECK(env.Run().outcome == "invalid");
  json s = env.ScalerNow();
  CHECK(Condition(s, "Ready")["reason"] == "InvalidSpec");
  CHECK(std::string(Condition(s, "Ready")["message"]).find("maxReplicas") != std::string::npos);
  CHECK(env.kube.requests() > 0);
  CHECK(env.kube.WritesTo("/scale").empty());

  s["spec"]["minReplicas"] = 1;
  s["spec"]["scaleTargetRef"]["name"] = "gone";
  env.kube.Call("PUT", kScalerPath, s);
  auto missing = env.reconciler.Reconcile(env.ScalerNow().dump());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(Condition(env.ScalerNow(), "Ready")["reason"] == "TargetNotFound");
  CHECK(env.ScalerNow()["status"]["observedGeneration"] == 2);
  CHECK(env.metrics.Serialize().find("oomcast_controller_decisions_total{outcome=\"invalid\"} 1") !=
        std::string::npos);
  CHECK_FALSE(env.reconciler.Reconcile("not json").ok());
}

TEST_CASE("reconciler: failed writes are reported, never dropped") {
  Env env(2);
  env.Forecast(13 * kMiBps);
  SECTION("the status write") {
    env.kube.Script({"PUT", "/memoryscalers/web/status", 500, "", "etcd down", 1, {}});
    auto r = env.reconciler.Reconcile(env.ScalerNow().dump());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK(r.status().message().find("etcd down") != std::string::npos);
    CHECK(env.Replicas() == 3);  // The scale write went through before.
  }
  SECTION("the status write after a failed read: the read's error is returned") {
    env.kube.Script({"GET", "/horizontalpodautoscalers", 503, "", "", 1, {}});
    env.kube.Script({"PUT", "/memoryscalers/web/status", 500, "", "etcd down", 1, {}});
    auto r = env.reconciler.Reconcile(env.ScalerNow().dump());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK(r.status().message().find("list HorizontalPodAutoscalers") != std::string::npos);
    CHECK(env.kube.WritesTo("/memoryscalers/web/status", "PUT").back().code == 500);
    CHECK(env.Replicas() == 2);  // No write without knowing about HPAs.
  }
  SECTION("an Event") {
    env.kube.Script({"POST", "/events", 403, "", "forbidden", 1, {}});
    auto r = env.Run();
    CHECK(r.outcome == "scale_up");
    REQUIRE(r.failed_writes.size() == 1);
    CHECK(r.failed_writes[0].find("record event ScaledUp") != std::string::npos);
  }
  CHECK(env.metrics.Serialize().find("oomcast_controller_api_errors_total 0") == std::string::npos);
}

TEST_CASE("reconciler: conditions keep lastTransitionTime while unchanged") {
  Env env(2);
  env.Forecast(0);
  env.Run();
  const std::string t0 = Condition(env.ScalerNow(), "ScalingActive")["lastTransitionTime"];
  env.clock.Advance(3600);
  env.Forecast(0);
  env.Run();
  CHECK(Condition(env.ScalerNow(), "ScalingActive")["lastTransitionTime"] == t0);
  env.ForecastError("down");
  env.Run();
  CHECK(Condition(env.ScalerNow(), "ScalingActive")["lastTransitionTime"] ==
        "2026-01-01T01:00:00Z");
}

TEST_CASE("reconciler: no status write when nothing changed, a heartbeat every 5 minutes") {
  Env env(2);
  auto writes = [&] { return env.kube.WritesTo("/memoryscalers/web/status", "PUT").size(); };
  env.Forecast(0);
  env.Run();
  CHECK(writes() == 1);
  env.clock.Advance(15);
  env.Forecast(0);
  env.Run();
  CHECK(writes() == 1);
  env.clock.Advance(300);
  env.Forecast(0);
  env.Run();
  CHECK(writes() == 2);
  env.clock.Advance(15);
  env.Forecast(1 * kMiBps);  // The forecast changed: written at once.
  env.Run();
  CHECK(writes() == 3);
}

TEST_CASE("reconciler: the HPA floor of a deleted MemoryScaler is restored") {
  Env env(2);
  env.kube.Seed(Hpa(2, 8));
  env.Forecast(30 * kMiBps);
  CHECK(env.Run().outcome == "hpa_floor");
  auto kept = env.reconciler.RestoreOrphanFloors({"shop/web"});
  REQUIRE(kept.ok());
  CHECK(*kept == 0);
  env.kube.Call("DELETE", kScalerPath);
  auto restored = env.reconciler.RestoreOrphanFloors({});
  REQUIRE(restored.ok());
  CHECK(*restored == 1);
  json hpa = env.kube.Get(kHpaPath);
  CHECK(hpa["spec"]["minReplicas"] == 2);
  CHECK_FALSE(hpa["metadata"]["annotations"].contains(kFloorOwnerAnnotation));
}

TEST_CASE("TargetPath: plural of the kind and the API group") {
  CHECK(TargetPath("apps/v1", "Deployment", "ns", "a") ==
        "/apis/apps/v1/namespaces/ns/deployments/a");
  CHECK(TargetPath("apps/v1", "StatefulSet", "ns", "a") ==
        "/apis/apps/v1/namespaces/ns/statefulsets/a");
  CHECK(TargetPath("v1", "ReplicationController", "ns", "a") ==
        "/api/v1/namespaces/ns/replicationcontrollers/a");
  CHECK(TargetPath("example.com/v1", "Policy", "ns", "a") ==
        "/apis/example.com/v1/namespaces/ns/policies/a");
}

}  // namespace
}  // namespace oomcast::controller
