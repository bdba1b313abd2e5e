// The pure scaling rules: each rule, clamps, stabilization windows, policies, holds, and the
// restartBeforeOOM eviction choice.
#include "oomcast/controller/decision.h"

#include <catch2/catch.hpp>

namespace oomcast::controller {
namespace {

constexpr double kNow = 1767225600;

MemoryScalerSpec Spec(int min = 1, int max = 10) {
  MemoryScalerSpec s;
  s.target = {"apps/v1", "Deployment", "web"};
  s.min_replicas = min;
  s.max_replicas = max;
  s.up_behavior = DefaultScaleUpRules();
  s.down_behavior = DefaultScaleDownRules();
  s.down_behavior.stabilization_window_seconds = 0;
  return s;
}

ForecastReading Fc(double growth_mib_s, double eta_s = INFINITY, double risk = 0) {
  ForecastReading f;
  f.available = true;
  f.time_unix_seconds = kNow;
  f.max_growth_bytes_per_second = growth_mib_s * kMiB;
  f.min_oom_eta_seconds = eta_s;
  f.max_oom_risk = risk;
  return f;
}

TEST_CASE("rules: +1 when growth exceeds 12 MiB/s (strictly)") {
  ScalerHistory h;
  auto d = Decide(Spec(), 3, Fc(12.5), h, kNow);
  CHECK(d.action == Action::kScaleUp);
  CHECK(d.desired_replicas == 4);
  CHECK(d.rule == "growth");
  CHECK(Decide(Spec(), 3, Fc(12.0), h, kNow).action == Action::kNone);
}

TEST_CASE("rules: +1 when the OOM is forecast within the horizon (ETA and risk agree)") {
  ScalerHistory h;
  auto d = Decide(Spec(), 3, Fc(1, 900, 0.8), h, kNow);  // Default horizon 15m: eta <= 900.
  CHECK(d.desired_replicas == 4);
  CHECK(d.rule == "oom-eta");
  CHECK(d.message.find("15m00s") != std::string::npos);
  // A short ETA the model puts at low risk is a point estimate, not a forecast: no action.
  CHECK(Decide(Spec(), 3, Fc(1, 60, 0.2), h, kNow).desired_replicas == 3);
  CHECK(Decide(Spec(), 3, Fc(1, 60, 0.2), h, kNow).rule.empty());
  MemoryScalerSpec no_oom = Spec();
  no_oom.scale_up.on_oom_forecast = false;
  CHECK(Decide(no_oom, 3, Fc(1, 60, 0.9), h, kNow).desired_replicas == 3);
}

TEST_CASE("rules: +1 when the OOM risk reaches the threshold") {
  ScalerHistory h;
  CHECK(Decide(Spec(), 3, Fc(1, INFINITY, 0.5), h, kNow).rule == "oom-risk");
  CHECK(Decide(Spec(), 3, Fc(1, INFINITY, 0.5), h, kNow).desired_replicas == 4);
  CHECK(Decide(Spec(), 3, Fc(1, INFINITY, 0.49), h, kNow).desired_replicas == 3);
}

TEST_CASE("rules: -1 when growth is below -5 MiB/s; configurable thresholds and steps") {
  ScalerHistory h;
  auto d = Decide(Spec(), 3, Fc(-6), h, kNow);
  CHECK(d.action == Action::kScaleDown);
  CHECK(d.desired_replicas == 2);
  CHECK(d.rule == "shrink");
  CHECK(Decide(Spec(), 3, Fc(-5), h, kNow).desired_replicas == 3);
  MemoryScalerSpec s = Spec();
  s.scale_up.growth_rate_above_bytes_per_second = 1 * kMiB;
  s.scale_up.step = 3;
  s.scale_down.growth_rate_below_bytes_per_second = -1 * kMiB;
  s.scale_down.step = 2;
  CHECK(Decide(s, 3, Fc(2), h, kNow).desired_replicas == 6);
  CHECK(Decide(s, 5, Fc(-2), h, kNow).desired_replicas == 3);
}

TEST_CASE("clamps: never above max, never below min, ScalingLimited says why") {
  ScalerHistory h;
  auto at_max = Decide(Spec(1, 4), 4, Fc(50), h, kNow);
  CHECK(at_max.desired_replicas == 4);
  CHECK(at_max.action == Action::kNone);
  CHECK(at_max.limited);
  CHECK(at_max.limited_reason == "TooManyReplicas");
  auto at_min = Decide(Spec(2, 4), 2, Fc(-50), h, kNow);
  CHECK(at_min.desired_replicas == 2);
  CHECK(at_min.limited_reason == "TooFewReplicas");
  MemoryScalerSpec big_step = Spec(1, 5);
  big_step.scale_up.step = 10;
  CHECK(Decide(big_step, 3, Fc(50), h, kNow).desired_replicas == 5);
  // Out of range replicas are brought back within bounds.
  CHECK(Decide(Spec(3, 5), 1, Fc(0), h, kNow).desired_replicas == 3);
  CHECK(Decide(Spec(1, 5), 8, Fc(0), h, kNow).desired_replicas == 5);
  auto within = Decide(Spec(), 3, Fc(0), h, kNow);
  CHECK_FALSE(within.limited);
  CHECK(within.reason == "NoChange");
}

TEST_CASE("missing or stale forecast: hold, never scale down, only raise to min") {
  ScalerHistory h;
  ForecastReading missing;
  missing.error = "503 ServiceUnavailable";
  auto d = Decide(Spec(), 5, missing, h, kNow);
  CHECK(d.action == Action::kHold);
  CHECK(d.desired_replicas == 5);
  CHECK(d.reason == "ForecastUnavailable");
  CHECK(d.message.find("503") != std::string::npos);
  CHECK(Decide(Spec(4, 10), 2, missing, h, kNow).desired_replicas == 4);
  RecordDecision(Spec(), d, false, kNow, &h);
  CHECK(h.recommendations.empty());  // Holds do not feed the stabilization window.
}

TEST_CASE("stabilization: scale down only when shrinking lasted the whole window") {
  MemoryScalerSpec s = Spec();
  s.down_behavior.stabilization_window_seconds = 300;
  ScalerHistory h;
  double t = kNow;
  auto d0 = Decide(s, 4, Fc(0), h, t);  // Recommendation 4 recorded at t.
  RecordDecision(s, d0, false, t, &h);
  t += 60;
  auto d1 = Decide(s, 4, Fc(-20), h, t);  // Wants 3; the window still remembers 4.
  CHECK(d1.desired_replicas == 4);
  CHECK(d1.reason == "ScaleDownStabilized");
  RecordDecision(s, d1, false, t, &h);
  t += 240;  // t0 + 300: the recommendation of t0 leaves the window (strictly older).
  auto d2 = Decide(s, 4, Fc(-20), h, t);
  CHECK(d2.desired_replicas == 3);
  CHECK(d2.action == Action::kScaleDown);
}

TEST_CASE("stabilization: a scale-up window takes the minimum of recent recommendations") {
  MemoryScalerSpec s = Spec();
  s.up_behavior.stabilization_window_seconds = 120;
  ScalerHistory h;
  auto d0 = Decide(s, 2, Fc(0), h, kNow);
  RecordDecision(s, d0, false, kNow, &h);
  auto d1 = Decide(s, 2, Fc(20), h, kNow + 30);
  CHECK(d1.desired_replicas == 2);
  CHECK(d1.reason == "ScaleUpStabilized");
  RecordDecision(s, d1, false, kNow + 30, &h);
  CHECK(Decide(s, 2, Fc(20), h, kNow + 121).desired_replicas == 3);
}

TEST_CASE("policies: Pods and Percent per period, Max/Min/Disabled") {
  MemoryScalerSpec s = Spec(1, 100);
  s.scale_up.step = 10;
  s.up_behavior.policies = {{ScalingPolicy::Type::kPods, 2, 60}};
  ScalerHistory h;
  auto d = Decide(s, 4, Fc(50), h, kNow);
  CHECK(d.desired_replicas == 6);
  CHECK(d.limited_reason == "ScaleUpLimit");
  RecordDecision(s, d, true, kNow, &h);
  // Within the same period the 2 pods are used up.
  CHECK(Decide(s, 6, Fc(50), h, kNow + 30).desired_replicas == 6);
  CHECK(Decide(s, 6, Fc(50), h, kNow + 61).desired_replicas == 8);

  s.up_behavior.policies = {{ScalingPolicy::Type::kPods, 1, 60},
                            {ScalingPolicy::Type::kPercent, 50, 60}};
  ScalerHistory fresh;
  s.up_behavior.select = ScalingRules::Select::kMax;
  CHECK(Decide(s, 4, Fc(50), fresh, kNow).desired_replicas == 6);  // max(5, ceil(4*1.5)=6)
  s.up_behavior.select = ScalingRules::Select::kMin;
  CHECK(Decide(s, 4, Fc(50), fresh, kNow).desired_replicas == 5);
  s.up_behavior.select = ScalingRules::Select::kDisabled;
  CHECK(Decide(s, 4, Fc(50), fresh, kNow).desired_replicas == 4);

  MemoryScalerSpec down = Spec(1, 100);
  down.scale_down.step = 10;
  down.down_behavior.policies = {{ScalingPolicy::Type::kPercent, 25, 60}};
  auto dd = Decide(down, 8, Fc(-50), fresh, kNow);
  CHECK(dd.desired_replicas == 6);
  CHECK(dd.limited_reason == "ScaleDownLimit");
}

TEST_CASE("RecordDecision prunes entries older than every window and period") {
  MemoryScalerSpec s = Spec();
  s.down_behavior.stabilization_window_seconds = 100;
  ScalerHistory h;
  auto d = Decide(s, 2, Fc(20), h, kNow);
  RecordDecision(s, d, true, kNow, &h);
  CHECK(h.recommendations.size() == 1);
  CHECK(h.scale_events.size() == 1);
  auto later = Decide(s, 3, Fc(0), h, kNow + 500);
  RecordDecision(s, later, false, kNow + 500, &h);
  CHECK(h.recommendations.size() == 1);
  CHECK(h.scale_events.empty());
}

std::vector<PodState> Pods(int ready, int not_ready = 0) {
  std::vector<PodState> pods;
  for (int i = 0; i < ready; ++i) pods.push_back({"web-" + std::to_string(i), true, false});
  for (int i = 0; i < not_ready; ++i) pods.push_back({"web-nr" + std::to_string(i), false, false});
  return pods;
}

ForecastReading Leak(const std::string& pod, double eta) {
  ForecastReading f = Fc(1, eta);
  f.pods.push_back({pod, "app", 1 * kMiB, eta, 0.9});
  f.pods.push_back({"web-1", "app", 0, INFINITY, 0});
  f.pods.push_back({"web-2", "app", 0, INFINITY, 0});
  f.worst_pod = pod;
  return f;
}

TEST_CASE("restartBeforeOOM: evicts the leaking pod, one at a time, with a cooldown") {
  MemoryScalerSpec s = Spec();
  s.restart.enabled = true;
  s.restart.eta_below_seconds = 300;
  s.restart.cooldown_seconds = 600;
  auto e = DecideEviction(s, Leak("web-0", 120), Pods(3), false, 0, kNow);
  CHECK(e.evict);
  CHECK(e.pod == "web-0");
  CHECK(e.reason == "RestartBeforeOOM");
  CHECK_FALSE(DecideEviction(s, Leak("web-0", 301), Pods(3), false, 0, kNow).evict);
  auto cooldown = DecideEviction(s, Leak("web-0", 120), Pods(3), false, kNow - 599, kNow);
  CHECK_FALSE(cooldown.evict);
  CHECK(cooldown.reason == "Cooldown");
  CHECK(DecideEviction(s, Leak("web-0", 120), Pods(3), false, kNow - 600, kNow).evict);
  auto disrupted = DecideEviction(s, Leak("web-0", 120), Pods(3, 1), false, 0, kNow);
  CHECK_FALSE(disrupted.evict);
  CHECK(disrupted.reason == "DisruptionInProgress");
  s.restart.enabled = false;
  CHECK_FALSE(DecideEviction(s, Leak("web-0", 120), Pods(3), false, 0, kNow).evict);
}

TEST_CASE("restartBeforeOOM: never the last ready replica, never on missing data") {
  MemoryScalerSpec s = Spec();
  s.restart.enabled = true;
  auto last = DecideEviction(s, Leak("web-0", 10), Pods(1), true, 0, kNow);
  CHECK_FALSE(last.evict);
  CHECK(last.reason == "LastReadyReplica");
  ForecastReading missing;
  CHECK(DecideEviction(s, missing, Pods(3), true, 0, kNow).reason == "ForecastUnavailable");
}

TEST_CASE("restartBeforeOOM: when every pod runs out, scaling helps unless at the ceiling") {
  MemoryScalerSpec s = Spec();
  s.restart.enabled = true;
  ForecastReading all = Fc(1, 60);
  all.pods = {{"web-0", "app", kMiB, 60, 1}, {"web-1", "app", kMiB, 90, 1}};
  auto e = DecideEviction(s, all, Pods(2), false, 0, kNow);
  CHECK_FALSE(e.evict);
  CHECK(e.reason == "ScalingCanHelp");
  auto ceiling = DecideEviction(s, all, Pods(2), true, 0, kNow);
  CHECK(ceiling.evict);
  CHECK(ceiling.pod == "web-0");
}

}  // namespace
}  // namespace oomcast::controller
