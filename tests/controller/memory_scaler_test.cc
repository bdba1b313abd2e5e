// Parsing of MemoryScaler objects: defaults, overrides and errors naming the field.
#include "oomcast/controller/memory_scaler.h"

#include <catch2/catch.hpp>

#include "oomcast/controller/options.h"

namespace oomcast::controller {
namespace {

TEST_CASE("MemoryScaler: defaults of the design notes") {
  auto ms = ParseMemoryScaler(R"({"apiVersion":"oomcast.io/v1alpha1","kind":"MemoryScaler",
    "metadata":{"name":"b","namespace":"shop","generation":3,"resourceVersion":"7"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"backend"},"maxReplicas":10}})");
  REQUIRE(ms.ok());
  CHECK(ms->namespace_name == "shop");
  CHECK(ms->generation == 3);
  const auto& s = ms->spec;
  CHECK(s.target.api_version == "apps/v1");
  CHECK(s.min_replicas == 1);
  CHECK(s.horizon_seconds == 900);
  CHECK(s.scale_up.growth_rate_above_bytes_per_second == 12 * kMiB);
  CHECK(s.scale_down.growth_rate_below_bytes_per_second == -5 * kMiB);
  CHECK(s.scale_up.step == 1);
  CHECK(s.up_behavior.stabilization_window_seconds == 0);
  CHECK(s.down_behavior.stabilization_window_seconds == 300);
  CHECK(s.up_behavior.policies.size() == 2);
  CHECK_FALSE(s.restart.enabled);
  CHECK_FALSE(s.dry_run);
  CHECK(s.metric_selector.empty());
}

TEST_CASE("MemoryScaler: every field") {
  auto ms = ParseMemoryScaler(R"({"metadata":{"name":"i","namespace":"p"},"spec":{
    "scaleTargetRef":{"apiVersion":"apps/v1","kind":"StatefulSet","name":"ingest"},
    "minReplicas":3,"maxReplicas":24,"horizon":"10m","maxForecastAge":"2m",
    "metricSelector":{"matchLabels":{"app":"ingest"},
                      "matchExpressions":[{"key":"container","operator":"In","values":["w","a"]}]},
    "scaleUp":{"growthRateAbove":"32Mi","oomRiskAbove":0.7,"step":2,"onOOMForecast":false},
    "scaleDown":{"growthRateBelow":"-8Mi","step":3},
    "behavior":{"scaleDown":{"stabilizationWindowSeconds":600,"selectPolicy":"Min",
                             "policies":[{"type":"Pods","value":1,"periodSeconds":120}]}},
    "restartBeforeOOM":{"enabled":true,"etaBelow":"3m","cooldown":"15m"},"dryRun":true}})");
  REQUIRE(ms.ok());
  const auto& s = ms->spec;
  CHECK(s.horizon_seconds == 600);
  CHECK(s.max_forecast_age_seconds == 120);
  CHECK(s.metric_selector == "app=ingest,container in (a,w)");
  CHECK(s.scale_up.growth_rate_above_bytes_per_second == 32 * kMiB);
  CHECK(s.scale_up.risk_threshold == Approx(0.7));
  CHECK_FALSE(s.scale_up.on_oom_forecast);
  CHECK(s.scale_down.step == 3);
  CHECK(s.down_behavior.select == ScalingRules::Select::kMin);
  CHECK(s.down_behavior.policies.size() == 1);
  CHECK(s.up_behavior.policies.size() == 2);  // Default kept.
  CHECK(s.restart.enabled);
  CHECK(s.restart.eta_below_seconds == 180);
  CHECK(s.restart.cooldown_seconds == 900);
  CHECK(s.dry_run);
}

TEST_CASE("MemoryScaler: errors name the field") {
  auto bad = [](const std::string& spec) {
    auto r = ParseMemoryScaler(R"({"metadata":{"name":"x","namespace":"n"},"spec":)" + spec + "}");
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  CHECK(bad(R"({"maxReplicas":2})").find("scaleTargetRef") != std::string::npos);
  CHECK(bad(R"({"scaleTargetRef":{"kind":"Deployment","name":"a"}})").find("maxReplicas") !=
        std::string::npos);
  CHECK(bad(R"({"scaleTargetRef":{"kind":"D","name":"a"},"minReplicas":5,"maxReplicas":2})")
            .find("spec.maxReplicas") != std::string::npos);
  CHECK(bad(R"({"scaleTargetRef":{"kind":"D","name":"a"},"maxReplicas":2,"horizon":"soon"})")
            .find("spec.horizon") != std::string::npos);
  CHECK(bad(R"({"scaleTargetRef":{"kind":"D","name":"a"},"maxReplicas":2,
               "scaleUp":{"oomRiskAbove":2}})")
            .find("oomRiskAbove") != std::string::npos);
  CHECK(bad(R"({"scaleTargetRef":{"kind":"D","name":"a"},"maxReplicas":2,
               "behavior":{"scaleUp":{"policies":[{"type":"Nodes","value":1,"periodSeconds":1}]}}})")
            .find("spec.behavior.scaleUp.policies[0].type") != std::string::npos);
  CHECK(bad(R"({"scaleTargetRef":{"kind":"D","name":"a"},"maxReplicas":2,
               "scaleUp":{"growthRateAbove":"1Mi"},"scaleDown":{"growthRateBelow":"2Mi"}})")
            .find("growthRateBelow") != std::string::npos);
}

TEST_CASE("flags: defaults, both syntaxes, errors name the flag") {
  auto o = ParseControllerFlags({});
  REQUIRE(o.ok());
  CHECK(o->leader_elect);
  CHECK(o->sync_period_seconds == 15);
  CHECK(o->lease_duration_seconds == 15);
  CHECK(o->listen_address == "0.0.0.0:8080");
  auto o2 = ParseControllerFlags({"--kubeconfig", "/k", "--leader-elect=false", "--sync-period=2s",
                                  "--lease-duration", "1m", "--external-metrics-url",
                                  "https://adapter:6443", "--log-level=debug"});
  REQUIRE(o2.ok());
  CHECK(o2->kubeconfig == "/k");
  CHECK_FALSE(o2->leader_elect);
  CHECK(o2->sync_period_seconds == 2);
  CHECK(o2->lease_duration_seconds == 60);
  CHECK(o2->external_metrics_url == "https://adapter:6443");
  CHECK(ParseControllerFlags({"--nope"}).status().message().find("--nope") != std::string::npos);
  CHECK(ParseControllerFlags({"--sync-period", "x"}).status().message().find("--sync-period") !=
        std::string::npos);
  CHECK(ParseControllerFlags({"--leader-elect=maybe"}).status().message().find("--leader-elect") !=
        std::string::npos);
  CHECK(ParseControllerFlags({"--log-level", "loud"}).status().message().find("--log-level") !=
        std::string::npos);
  CHECK(ParseControllerFlags({"--kubeconfig"}).status().message().find("missing value") !=
        std::string::npos);
}

}  // namespace
}  // namespace oomcast::controller
