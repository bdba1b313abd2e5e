#include "oomcast/metrics_adapter/metrics_api.h"

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

constexpr double kNow = 1767225600;  // 2026-01-01T00:00:00Z

struct Fixture {
  FakeClock clock{kNow};
  FakeForecastSource source;
  MetricsApi api{&source, &clock, MetricsApiOptions{600, 86400}};

  Fixture() {
    source.Publish({MakeForecast("default", "b-1", "app", {{"app", "backend"}, {"n", "3"}},
                                 kNow - 5, 12582912, 600, 0.75),
                    MakeForecast("default", "b-2", "app", {{"app", "backend"}, {"n", "7"}},
                                 kNow - 5, -1.5, predictor::kInf, 0),
                    MakeForecast("default", "f-1", "web", {{"app", "frontend"}}, kNow - 5, 1024,
                                 predictor::kNaN, 0.1),
                    MakeForecast("other", "b-9", "app", {{"app", "backend"}}, kNow - 5, 1, 1, 1)},
                   kNow - 5);
  }

  json Get(std::string_view metric, std::string_view query, int want = 200,
           std::string_view ns = "default") {
    ApiResponse r = api.ListMetric(ns, metric, query);
    INFO(r.body);
    REQUIRE(r.code == want);
    return json::parse(r.body);
  }
  std::vector<std::string> Pods(std::string_view query, std::string_view metric = kRiskMetric) {
    std::vector<std::string> out;
    const json j = Get(metric, query);
    for (const auto& i : j["items"]) out.push_back(i["metricLabels"]["pod"]);
    return out;
  }
};

TEST_CASE_METHOD(Fixture, "value list shape") {
  json j = Get(kGrowthRateMetric, "labelSelector=app%3Dbackend");
  CHECK(j["kind"] == "ExternalMetricValueList");
  CHECK(j["apiVersion"] == "external.metrics.k8s.io/v1beta1");
  CHECK(j["metadata"] == json::object());
  REQUIRE(j["items"].size() == 2);
  const json& i = j["items"][0];
  CHECK(i["metricName"] == kGrowthRateMetric);
  CHECK(i["metricLabels"] == json({{"app", "backend"},
                                   {"n", "3"},
                                   {"namespace", "default"},
                                   {"pod", "b-1"},
                                   {"container", "app"}}));
  CHECK(i["timestamp"] == "2025-12-31T23:59:55Z");
  CHECK(i["window"] == 600);
  CHECK(i["value"] == "12Mi");
  CHECK(j["items"][1]["value"] == "-1500m");  // Negative growth is reported signed.
}

TEST_CASE_METHOD(Fixture, "selectors use the index and agree with a scan") {
  CHECK(Pods("labelSelector=app%3Dbackend") == std::vector<std::string>{"b-1", "b-2"});
  CHECK(Pods("labelSelector=app+in+%28frontend%2Cbackend%29") ==
        std::vector<std::string>{"b-1", "b-2", "f-1"});
  CHECK(Pods("labelSelector=app%21%3Dbackend") == std::vector<std::string>{"f-1"});
  CHECK(Pods("labelSelector=app+notin+%28frontend%29") == std::vector<std::string>{"b-1", "b-2"});
  CHECK(Pods("labelSelector=n") == std::vector<std::string>{"b-1", "b-2"});
  CHECK(Pods("labelSelector=%21n") == std::vector<std::string>{"f-1"});
  CHECK(Pods("labelSelector=n%3E4") == std::vector<std::string>{"b-2"});
  CHECK(Pods("labelSelector=n%3C4") == std::vector<std::string>{"b-1"});
  CHECK(Pods("labelSelector=container%3Dweb,app") == std::vector<std::string>{"f-1"});
  CHECK(Pods("labelSelector=app%3Dbackend,pod%3Db-2") == std::vector<std::string>{"b-2"});
  CHECK(Pods("") == std::vector<std::string>{"b-1", "b-2", "f-1"});
  CHECK(Pods("labelSelector=") == std::vector<std::string>{"b-1", "b-2", "f-1"});
  CHECK(Pods("other=1&labelSelector=app%3Dfrontend") == std::vector<std::string>{"f-1"});
  CHECK(Pods("labelSelector=app%3Dnone").empty());
  CHECK(Get(kRiskMetric, "", 200, "nowhere")["items"].empty());
}

TEST_CASE_METHOD(Fixture, "ETA without a crossing is capped") {
  json j = Get(kEtaMetric, "");
  REQUIRE(j["items"].size() == 3);
  CHECK(j["items"][0]["value"] == "600");
  CHECK(j["items"][1]["value"] == "86400");  // +Inf.
  CHECK(j["items"][2]["value"] == "86400");  // NaN (no limit).
}

TEST_CASE_METHOD(Fixture, "aggregates") {
  auto one = [&](std::string q, std::string_view metric = kRiskMetric) {
    json j = Get(metric, "labelSelector=" + q);
    REQUIRE(j["items"].size() == 1);
    return j["items"][0];
  };
  json max = one("app%3Dbackend,oomcast.io%2Faggregate+in+%28max%29");
  CHECK(max["value"] == "750m");
  CHECK(max["metricLabels"]["pod"] == "b-1");
  CHECK(max["metricLabels"]["oomcast.io/aggregate"] == "max");
  CHECK(max["metricLabels"]["oomcast.io/containers"] == "2");
  CHECK(one("app%3Dbackend,oomcast.io%2Faggregate%3Dmin")["value"] == "0");
  CHECK(one("app%3Dbackend,oomcast.io%2Faggregate%3Dsum")["value"] == "750m");
  CHECK(one("app%3Dbackend,oomcast.io%2Faggregate%3Davg")["value"] == "375m");
  CHECK(one("oomcast.io%2Faggregate%3Dmin", kEtaMetric)["value"] == "600");
  CHECK(one("oomcast.io%2Faggregate%3Dmin", kGrowthRateMetric)["value"] == "-1500m");
  CHECK(Get(kRiskMetric, "labelSelector=app%3Dnone,oomcast.io%2Faggregate%3Dmax")["items"].empty());
}

TEST_CASE_METHOD(Fixture, "bad requests are 400 Status objects") {
  for (std::string q : {"labelSelector=app+in+%28", "labelSelector=%zz", "labelSelector=a%3D-x",
                        "labelSelector=oomcast.io%2Faggregate%3Dmedian",
                        "labelSelector=oomcast.io%2Faggregate+notin+%28max%29",
                        "labelSelector=oomcast.io%2Faggregate+in+%28max,min%29"}) {
    json j = Get(kRiskMetric, q, 400);
    CHECK(j["kind"] == "Status");
    CHECK(j["apiVersion"] == "v1");
    CHECK(j["status"] == "Failure");
    CHECK(j["reason"] == "BadRequest");
    CHECK(j["code"] == 400);
  }
  CHECK(Get("unknown_metric", "", 404)["reason"] == "NotFound");
}

TEST_CASE("no data and stale data are 503, never an empty list") {
  FakeClock clock(kNow);
  FakeForecastSource source;
  MetricsApi api(&source, &clock);
  ApiResponse r = api.ListMetric("default", kRiskMetric, "");
  CHECK(r.code == 503);
  CHECK(json::parse(r.body)["reason"] == "ServiceUnavailable");
  CHECK_FALSE(api.Ready());
  CHECK(std::isinf(api.ForecastAgeSeconds()));

  source.Publish({MakeForecast("default", "p", "c", {}, kNow, 1, 1, 1)}, kNow, 120);
  CHECK(api.ListMetric("default", kRiskMetric, "").code == 200);
  CHECK(api.Ready());
  clock.Advance(121);
  source.Fail(UnavailableError("prometheus down"), clock.NowUnixSeconds());
  r = api.ListMetric("default", kRiskMetric, "");
  CHECK(r.code == 503);
  CHECK(r.body.find("prometheus down") != std::string::npos);
  CHECK(api.ForecastAgeSeconds() == Approx(121));
  CHECK(api.Ready());  // Ready stays true after the first success; values are refused instead.
}

TEST_CASE("the index follows new snapshots") {
  FakeClock clock(kNow);
  FakeForecastSource source;
  MetricsApi api(&source, &clock);
  source.Publish({MakeForecast("ns", "a", "c", {{"app", "x"}}, kNow, 1, 1, 0.5)}, kNow);
  CHECK(json::parse(api.ListMetric("ns", kRiskMetric, "labelSelector=app%3Dx").body)["items"]
            .size() == 1);
  source.Publish({MakeForecast("ns", "a", "c", {{"app", "y"}}, kNow, 1, 1, 0.5)}, kNow);
  CHECK(json::parse(api.ListMetric("ns", kRiskMetric, "labelSelector=app%3Dx").body)["items"]
            .empty());
}

TEST_CASE("labels are JSON-escaped and fixed labels win over pod labels") {
  FakeClock clock(kNow);
  FakeForecastSource source;
  MetricsApi api(&source, &clock);
  source.Publish(
      {MakeForecast("ns", "p\"1", "c", {{"pod", "spoof"}, {"note", "a\\b\n"}}, kNow, 1, 1, 0.5)},
      kNow);
  json j = json::parse(api.ListMetric("ns", kRiskMetric, "").body);
  CHECK(j["items"][0]["metricLabels"]["pod"] == "p\"1");
  CHECK(j["items"][0]["metricLabels"]["note"] == "a\\b\n");
}

TEST_CASE("form decoding") {
  CHECK(*FormDecode("a+b%20c%2B") == "a b c+");
  CHECK_FALSE(FormDecode("%").ok());
  CHECK_FALSE(FormDecode("%4").ok());
  CHECK_FALSE(FormDecode("%g0").ok());
  CHECK(*QueryParameter("x=1&labelSelector=a%3Db&labelSelector=c", "labelSelector") == "a=b");
  CHECK_FALSE(QueryParameter("x=1", "labelSelector")->has_value());
  CHECK(*QueryParameter("labelSelector", "labelSelector") == "");
}

TEST_CASE("discovery documents") {
  json list = json::parse(ApiResourceListJson(
      {{"queue_depth", R"({"name":"queue_depth"})"}, {"memory_oom_risk", R"({"name":"dup"})"}}));
  CHECK(list["kind"] == "APIResourceList");
  CHECK(list["apiVersion"] == "v1");
  CHECK(list["groupVersion"] == "external.metrics.k8s.io/v1beta1");
  REQUIRE(list["resources"].size() == 5);
  CHECK(list["resources"][0] == json::parse(R"({"name":"memory_growth_rate_bytes_per_second",
      "singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]})"));
  CHECK(list["resources"][4]["name"] == "queue_depth");
  CHECK(json::parse(ApiGroupListJson())["groups"][0]["preferredVersion"]["version"] == "v1beta1");
  CHECK(json::parse(ApiGroupJson())["name"] == "external.metrics.k8s.io");
}

TEST_CASE("10 000 containers: a selector matching 50 touches only its candidates") {
  FakeClock clock(kNow);
  FakeForecastSource source;
  std::vector<predictor::Forecast> fs;
  for (int i = 0; i < 10000; ++i) {
    fs.push_back(MakeForecast("bench", "pod-" + std::to_string(i), "c",
                              {{"app", "app-" + std::to_string(i % 200)}}, kNow, i, 100, 0.5));
  }
  source.Publish(std::move(fs), kNow);
  MetricsApi api(&source, &clock);
  json j = json::parse(api.ListMetric("bench", kRiskMetric, "labelSelector=app%3Dapp-7").body);
  CHECK(j["items"].size() == 50);
  j = json::parse(
      api.ListMetric("bench", kRiskMetric, "labelSelector=app+in+%28app-7,app-8%29").body);
  CHECK(j["items"].size() == 100);
  j = json::parse(api.ListMetric("bench", kRiskMetric, "labelSelector=app%21%3Dapp-7").body);
  CHECK(j["items"].size() == 9950);
}

}  // namespace
}  // namespace oomcast::metrics_adapter
