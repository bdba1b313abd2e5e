// The pure step of a reconcile: Plan() from typed inputs, and the plan after a failed target
// write or an answered eviction. No client at all: inputs in, writes, Events and status out.
#include "oomcast/controller/reconcile_plan.h"

#include <catch2/catch.hpp>

#include "controller/test_objects.h"

namespace oomcast::controller {
namespace {

using namespace testing;

constexpr double kNow = 1767225600;  // 2026-01-01T00:00:00Z

ReconcileInputs Inputs(nlohmann::json spec_overrides = nlohmann::json::object(),
                       double growth_bps = 0) {
  ReconcileInputs in;
  if (spec_overrides.is_null()) spec_overrides = nlohmann::json::object();  // From `{}`.
  in.scaler = std::move(ReadMemoryScaler(Scaler(std::move(spec_overrides)).dump())).value();
  in.target = {"web", "shop", "42", 2, "app=web"};
  in.forecast.available = true;
  in.forecast.time_unix_seconds = kNow;
  in.forecast.max_growth_bytes_per_second = growth_bps;
  in.forecast.pods = {{"web-1", "app", growth_bps}, {"web-2", "app", growth_bps}};
  in.now_unix_seconds = kNow;
  return in;
}

TEST_CASE("plan: growth scales up through /scale, with the Event and the status") {
  ReconcilePlan p = Plan(Inputs({}, 13 * kMiBps));
  CHECK(p.outcome == "scale_up");
  REQUIRE(p.scale);
  CHECK(p.scale->scale.replicas == 3);
  CHECK(p.scale->scale.resource_version == "42");
  CHECK(p.scale->from == 2);
  CHECK_FALSE(p.hpa);
  CHECK_FALSE(p.evict);
  CHECK(p.record_scale_event);
  REQUIRE(p.target_event);
  CHECK(p.target_event->reason == "ScaledUp");
  CHECK(p.events.empty());
  CHECK(p.status.current_replicas == 2);
  CHECK(p.status.desired_replicas == 3);
  CHECK(p.status.last_scale_time == "2026-01-01T00:00:00Z");
  CHECK(p.status.last_forecast->growth_rate == "13Mi");
  CHECK(p.status.mode == "Scale");
  REQUIRE(p.status.conditions.size() == 3);
  CHECK(p.status.conditions[0].type == "Ready");
  CHECK(p.status.conditions[0].last_transition_time == "2026-01-01T00:00:00Z");
  CHECK(p.error.ok());
}

TEST_CASE("plan: an invalid spec or a failed read plans a status write only") {
  ReconcilePlan invalid = Plan(Inputs({{"minReplicas", 4}, {"maxReplicas", 2}}));
  CHECK(invalid.outcome == "invalid");
  CHECK_FALSE(invalid.scale);
  CHECK_FALSE(invalid.skip_if_unchanged);
  CHECK(invalid.status.conditions.at(0).reason == "InvalidSpec");

  ReconcileInputs in = Inputs({}, 13 * kMiBps);
  in.hpa_error = UnavailableError("list HorizontalPodAutoscalers: HTTP 503");
  ReconcilePlan held = Plan(in);
  CHECK(held.outcome == "error");
  CHECK_FALSE(held.scale);  // Never /scale without knowing whether an HPA owns the target.
  CHECK(held.error.code() == StatusCode::kUnavailable);
  CHECK(held.status.conditions.at(1).reason == "FailedListHPA");
}

TEST_CASE("plan: with an HPA, the floor is raised instead of /scale") {
  ReconcileInputs in = Inputs({{"horizon", "10m"}}, 30 * kMiBps);
  in.hpa = HorizontalPodAutoscaler{"web-hpa", "shop", 2, 8, {{"team", "a"}}, "{}"};
  ReconcilePlan p = Plan(in);
  CHECK(p.outcome == "hpa_floor");
  CHECK_FALSE(p.scale);
  REQUIRE(p.hpa);
  CHECK(p.hpa->change == "floor");
  CHECK(p.hpa->hpa.min_replicas == 3);
  CHECK(p.hpa->hpa.annotations ==
        std::map<std::string, std::string>{{"team", "a"},
                                           {kOriginalMinReplicasAnnotation, "2"},
                                           {kFloorUntilAnnotation, "2026-01-01T00:10:00Z"},
                                           {kFloorOwnerAnnotation, "shop/web"}});
  CHECK(p.status.mode == "HPAFloor");

  in.forecast = ForecastReading{};  // Unavailable: hold, keep any floor.
  in.forecast.error = "stale";
  ReconcilePlan hold = Plan(in);
  CHECK(hold.outcome == "hold");
  CHECK_FALSE(hold.hpa);
}

TEST_CASE("plan: a failed target write keeps lastScaleTime and drops the target's Event") {
  ReconcileInputs in = Inputs({}, 13 * kMiBps);
  in.scaler.status.last_scale_time = "2025-12-31T00:00:00Z";
  ReconcilePlan p = WithTargetWriteFailure(Plan(in), in, UnavailableError("etcd down"));
  CHECK(p.outcome == "error");
  CHECK_FALSE(p.record_scale_event);
  CHECK_FALSE(p.target_event);
  CHECK(p.status.last_scale_time == "2025-12-31T00:00:00Z");
  CHECK(p.status.conditions.at(0).reason == "FailedUpdateScale");
  CHECK(p.status.conditions.at(0).message == "etcd down");
}

TEST_CASE("plan: an eviction refused by a PodDisruptionBudget") {
  ReconcileInputs in = Inputs({{"maxReplicas", 2}, {"restartBeforeOOM", {{"enabled", true}}}});
  in.forecast.pods[1].oom_eta_seconds = 60;
  in.pods = {{"web-1", true, false}, {"web-2", true, false}};
  ReconcilePlan p = Plan(in);
  REQUIRE(p.evict);
  CHECK(p.evict->pod == "web-2");
  p = WithEvictionResult(std::move(p), in,
                         {EvictionResult::Kind::kRefused, "disruption budget", "10"});
  CHECK(p.outcome == "evict_refused");
  REQUIRE(p.status.last_eviction);
  CHECK(p.status.last_eviction->result == "Refused");
  CHECK(p.status.last_eviction->message ==
        "the Eviction API refused (PodDisruptionBudget): disruption budget (retry after 10s)");
  REQUIRE(p.events.size() == 1);
  CHECK(p.events[0].type == "Warning");
}

TEST_CASE("plan: status is rewritten only when more than the times changed, or after 5 min") {
  ReconcileInputs in = Inputs();
  ReconcilePlan first = Plan(in);
  in.scaler.status = first.status;
  in.now_unix_seconds = kNow + 15;
  in.forecast.time_unix_seconds = kNow + 15;
  ReconcilePlan second = Plan(in);
  CHECK(second.status.last_decision->time != first.status.last_decision->time);
  CHECK(StatusUnchanged(first.status, second.status, kNow + 15));
  CHECK_FALSE(StatusUnchanged(first.status, second.status, kNow + kStatusHeartbeatSeconds));
  second.status.desired_replicas = 3;
  CHECK_FALSE(StatusUnchanged(first.status, second.status, kNow + 15));
}

TEST_CASE("plan: conditions keep lastTransitionTime while their status is unchanged") {
  std::vector<ScalerCondition> old = {{"Ready", true, "Reconciled", "", "2025-01-01T00:00:00Z"}};
  auto merged = MergeConditions(
      old, {{"Ready", true, "DryRun", "", ""}, {"ScalingActive", false, "", "", ""}}, kNow);
  CHECK(merged[0].last_transition_time == "2025-01-01T00:00:00Z");
  CHECK(merged[1].last_transition_time == "2026-01-01T00:00:00Z");
  merged = MergeConditions(old, {{"Ready", false, "InvalidSpec", "", ""}}, kNow);
  CHECK(merged[0].last_transition_time == "2026-01-01T00:00:00Z");
}

TEST_CASE("plan: a selector matching nothing holds, with its own reason and one Warning Event") {
  ReconcileInputs in = Inputs({}, -50 * kMiBps);
  in.forecast = ForecastReading{};
  in.forecast.no_match = true;
  in.forecast.error =
      "selector \"app=web\" matches no container in namespace shop: the external metric "
      "memory_growth_rate_bytes_per_second answered with no items";
  ReconcilePlan p = Plan(in);
  CHECK(p.outcome == "no_match");
  CHECK_FALSE(p.scale);
  CHECK_FALSE(p.evict);
  CHECK(p.decision.action == Action::kHold);
  REQUIRE(p.status.conditions.size() == 3);
  CHECK(p.status.conditions[1].type == "ScalingActive");
  CHECK_FALSE(p.status.conditions[1].status);
  CHECK(p.status.conditions[1].reason == "SelectorMatchesNothing");
  CHECK(p.status.conditions[1].message.find("app=web") != std::string::npos);
  REQUIRE(p.events.size() == 1);
  CHECK(p.events[0].type == "Warning");
  CHECK(p.events[0].reason == "SelectorMatchesNothing");

  in.scaler.status = p.status;  // The next sync, with the condition already written.
  in.now_unix_seconds += 30;
  ReconcilePlan again = Plan(in);
  CHECK(again.outcome == "no_match");
  CHECK(again.events.empty());
  CHECK(again.status.conditions[1].last_transition_time == "2026-01-01T00:00:00Z");

  in.forecast.no_match = false;  // A 503 (stale) is ForecastUnavailable, a plain hold.
  in.forecast.error = "forecasts are stale";
  ReconcilePlan stale = Plan(in);
  CHECK(stale.outcome == "hold");
  CHECK(stale.status.conditions[1].reason == "ForecastUnavailable");
  CHECK(stale.events.empty());
}

}  // namespace
}  // namespace oomcast::controller
