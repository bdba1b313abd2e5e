// The in-process Kubernetes API fake itself: resourceVersions and 409 conflicts, /scale and the
// pods that follow it, /status, list items as the API serves them, evictions refused by a
// PodDisruptionBudget (429), watches with bookmarks and 410 after compaction, scripted answers,
// external metrics filtered by label selector, and the record of writes.
#include "support/fake_kube_client.h"

#include <catch2/catch.hpp>

#include "controller/test_objects.h"

namespace oomcast::testing {
namespace {

using controller::testing::Deployment;
using nlohmann::json;

const std::string kDeployments = "/apis/apps/v1/namespaces/shop/deployments";

TEST_CASE("fake kube: scale, pods follow replicas, optimistic concurrency") {
  FakeKubeClient kube;
  kube.Seed(Deployment(2));
  json scale = kube.Get(kDeployments + "/web/scale");
  CHECK(scale["kind"] == "Scale");
  CHECK(scale["status"]["selector"] == "app=web");
  CHECK(kube.Get("/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb")["items"].size() == 2);

  json stale = scale;
  scale["spec"]["replicas"] = 3;
  int code = 0;
  kube.Call("PUT", kDeployments + "/web/scale", scale, &code);
  CHECK(code == 200);
  CHECK(kube.Get("/api/v1/namespaces/shop/pods")["items"].size() == 3);
  CHECK(kube.Get(kDeployments + "/web")["metadata"]["generation"] == 2);

  stale["spec"]["replicas"] = 1;  // Old resourceVersion.
  json conflict = kube.Call("PUT", kDeployments + "/web/scale", stale, &code);
  CHECK(code == 409);
  CHECK(conflict["reason"] == "Conflict");

  kube.Race(kDeployments + "/web/scale");
  scale = kube.Get(kDeployments + "/web/scale");
  kube.Call("PUT", kDeployments + "/web/scale", scale, &code);
  CHECK(code == 409);  // Another writer came first.
  auto puts = kube.WritesTo("/scale", "PUT");
  REQUIRE(puts.size() == 3);
  CHECK(puts[0].code == 200);
  CHECK(puts[2].code == 409);
  CHECK(puts[0].body["spec"]["replicas"] == 3);
}

TEST_CASE("fake kube: lists as served, status subresource, create conflicts") {
  FakeKubeClient kube;
  kube.Seed(Deployment(1));
  json list = kube.Get(kDeployments);
  CHECK(list["kind"] == "DeploymentList");
  REQUIRE(list["items"].size() == 1);
  CHECK_FALSE(list["items"][0].contains("kind"));  // Built-in list items carry none.
  json scaler = {{"apiVersion", "oomcast.io/v1alpha1"},
                 {"kind", "MemoryScaler"},
                 {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                 {"spec", {{"maxReplicas", 3}}}};
  kube.Seed(scaler);
  const std::string path = "/apis/oomcast.io/v1alpha1/namespaces/shop/memoryscalers/web";
  CHECK(kube.Get("/apis/oomcast.io/v1alpha1/memoryscalers")["items"][0]["kind"] == "MemoryScaler");
  json s = kube.Get(path);
  s["status"] = {{"currentReplicas", 1}};
  s["spec"]["maxReplicas"] = 9;  // Ignored by /status.
  int code = 0;
  kube.Call("PUT", path + "/status", s, &code);
  CHECK(code == 200);
  CHECK(kube.Get(path)["status"]["currentReplicas"] == 1);
  CHECK(kube.Get(path)["spec"]["maxReplicas"] == 3);
  CHECK(kube.Get(path)["metadata"]["generation"] == 1);
  kube.Call("POST", "/apis/oomcast.io/v1alpha1/namespaces/shop/memoryscalers", scaler, &code);
  CHECK(code == 409);
  CHECK(kube.Get(path + "x").is_null());
}

TEST_CASE("fake kube: a PodDisruptionBudget refuses an eviction with 429 and Retry-After") {
  FakeKubeClient kube;
  kube.Seed(Deployment(2));
  kube.Seed({{"apiVersion", "policy/v1"},
             {"kind", "PodDisruptionBudget"},
             {"metadata", {{"name", "pdb"}, {"namespace", "shop"}}},
             {"spec", {{"minAvailable", 2}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}});
  std::string pod = kube.Get("/api/v1/namespaces/shop/pods")["items"][0]["metadata"]["name"];
  json eviction = {{"apiVersion", "policy/v1"},
                   {"kind", "Eviction"},
                   {"metadata", {{"name", pod}, {"namespace", "shop"}}}};
  auto r =
      kube.Request("POST", "/api/v1/namespaces/shop/pods/" + pod + "/eviction", eviction.dump());
  REQUIRE(r.ok());
  CHECK(r->status_code == 429);
  CHECK(r->headers.at("retry-after") == "10");
  CHECK(KubeResponseStatus(*r, "evict").code() == StatusCode::kResourceExhausted);
  kube.Call("DELETE", "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/pdb");
  int code = 0;
  kube.Call("POST", "/api/v1/namespaces/shop/pods/" + pod + "/eviction", eviction, &code);
  CHECK(code == 201);
  auto pods = kube.Get("/api/v1/namespaces/shop/pods")["items"];
  REQUIRE(pods.size() == 2);  // Replaced by the deployment controller.
  for (const auto& p : pods) CHECK(p["metadata"]["name"] != pod);
}

TEST_CASE("fake kube: watch from a resourceVersion, bookmarks, 410 after compaction") {
  FakeKubeClient kube;
  kube.set_simulate_pods(false);
  kube.Seed(Deployment(1));
  const std::string rv = kube.Get(kDeployments)["metadata"]["resourceVersion"];
  kube.Call("DELETE", kDeployments + "/web");
  std::vector<std::string> types;
  auto collect = [&](const WatchEvent& e) {
    types.push_back(e.type);
    return true;
  };
  REQUIRE(kube.Watch(kDeployments + "?watch=true&allowWatchBookmarks=true&resourceVersion=" + rv, 1,
                     collect)
              .ok());
  CHECK(types == std::vector<std::string>{"DELETED", "BOOKMARK"});
  kube.Compact();
  types.clear();
  kube.QueueWatchEvent(kDeployments, {"ERROR", R"({"code":500,"message":"scripted"})"});
  REQUIRE(kube.Watch(kDeployments + "?watch=true&resourceVersion=" + rv, 1, collect).ok());
  CHECK(types == std::vector<std::string>{"ERROR", "ERROR"});  // 410 Gone, then the queued one.
}

TEST_CASE("fake kube: scripted answers and external metrics") {
  FakeKubeClient kube;
  kube.Script({"GET", "/deployments", 503, "", "", 2, {}});
  for (int i = 0; i < 2; ++i) {
    auto r = kube.Request("GET", kDeployments);
    REQUIRE(r.ok());
    CHECK(r->status_code == 503);
  }
  CHECK(kube.Request("GET", kDeployments)->status_code == 200);

  kube.SetExternalMetric(
      "shop", "memory_oom_risk",
      {{{"labels", {{"pod", "a"}, {"app", "web"}}}, {"value", 0.5}, {"timestamp", 1767225600}},
       {{"labels", {{"pod", "b"}, {"app", "db"}}}, {"value", 1}, {"timestamp", 1767225600}}});
  json v = kube.Get(
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/"
      "memory_oom_risk?labelSelector=app%3Dweb");
  REQUIRE(v["items"].size() == 1);
  CHECK(v["items"][0]["value"] == "500m");
  CHECK(v["items"][0]["timestamp"] == "2026-01-01T00:00:00Z");
  kube.SetExternalMetricError("shop", "memory_oom_risk", 503, "ServiceUnavailable", "stale");
  auto r =
      kube.Request("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/memory_oom_risk");
  CHECK(r->status_code == 503);
  CHECK(kube.writes().size() == 0);  // GETs are not writes.
  CHECK(kube.requests() == 5);
}

}  // namespace
}  // namespace oomcast::testing
