// KubePodMetadataSource against the Kubernetes API stand-in (tests/support/kube_standin): pod
// labels read with a metadata-only list + watch, so that a selector on the pod's real labels
// (app.kubernetes.io/name=web) matches with no kube-state-metrics at all.
#include "oomcast/predictor/pod_metadata.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "oomcast/label_selector.h"
#include "oomcast/metrics_adapter/metrics_api.h"
#include "oomcast/predictor/engine.h"
#include "support/fake_clock.h"
#include "support/fake_prometheus_client.h"
#include "support/kube_standin/standin_process.h"

namespace oomcast::predictor {
namespace {

using nlohmann::json;
using testing::FakeClock;
using testing::FakePrometheusClient;
using testing::StandinProcess;

std::unique_ptr<KubeClient> ClientFor(const StandinProcess& s) {
  auto config = LoadKubeconfig(s.kubeconfig());
  REQUIRE(config.ok());
  auto client = NewKubeClient(*config);
  REQUIRE(client.ok());
  return std::move(client).value();
}

std::string Pod(const std::string& ns, const std::string& name, const json& labels) {
  return json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels}}},
              {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "web:1"}}})}}}}
      .dump();
}

void Seed(KubeClient* client, const std::string& pod_json) {
  auto r = client->Request("POST", "/_standin/objects", pod_json);
  REQUIRE(r.ok());
  REQUIRE(r->status_code < 300);
}

// Waits (bounded) until `done` holds; the watch thread applies events asynchronously.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 200; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return done();
}

const PodLabelMap kWebLabels = {{"app.kubernetes.io/name", "web"},
                                {"app.kubernetes.io/instance", "shop"},
                                {"pod-template-hash", "7d4b9c"}};

TEST_CASE("The stand-in serves pods as PartialObjectMetadata when asked") {
  StandinProcess standin;
  auto client = ClientFor(standin);
  Seed(client.get(), Pod("shop", "web-1", kWebLabels));
  auto r = client->Request("GET", "/api/v1/pods", "", "application/json",
                           kPartialObjectMetadataListAccept);
  REQUIRE(r.ok());
  REQUIRE(r->status_code == 200);
  json list = json::parse(r->body);
  CHECK(list["kind"] == "PartialObjectMetadataList");
  CHECK(list["apiVersion"] == "meta.k8s.io/v1");
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["kind"] == "PartialObjectMetadata");
  CHECK_FALSE(list["items"][0].contains("spec"));  // Metadata only.
  // A list asked for as a single PartialObjectMetadata (and nothing else) is not acceptable.
  auto bad = client->Request("GET", "/api/v1/pods", "", "application/json",
                             "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
  REQUIRE(bad.ok());
  CHECK(bad->status_code == 406);
}

TEST_CASE("Pod labels come from a metadata-only list and watch of pods") {
  StandinProcess standin;
  auto client = ClientFor(standin);
  Seed(client.get(), Pod("shop", "web-1", kWebLabels));
  Seed(client.get(), Pod("shop", "db-0", {{"app.kubernetes.io/name", "db"}}));
  FakeClock clock;
  KubePodMetadataSource source(client.get(), &clock);
  REQUIRE(source.List().ok());
  CHECK(source.synced());
  CHECK(source.pods() == 2);
  auto web = source.Labels("shop", "web-1");
  REQUIRE(web);
  CHECK(*web == kWebLabels);
  CHECK(source.Labels("shop", "nope") == nullptr);

  std::atomic<bool> stop{false};
  std::thread watcher([&] { source.Run(stop, 2); });
  // A new pod and a relabelled one arrive through the watch.
  Seed(client.get(), Pod("shop", "web-2", kWebLabels));
  auto relabel = client->Request("GET", "/api/v1/namespaces/shop/pods/db-0");
  REQUIRE(relabel.ok());
  json db = json::parse(relabel->body);
  db["metadata"]["labels"]["tier"] = "data";
  auto put = client->Request("PUT", "/api/v1/namespaces/shop/pods/db-0", db.dump());
  REQUIRE(put.ok());
  CHECK(put->status_code == 200);
  CHECK(Eventually([&] { return source.Labels("shop", "web-2") != nullptr; }));
  CHECK(Eventually([&] {
    auto l = source.Labels("shop", "db-0");
    return l && l->count("tier") == 1;
  }));
  // Unchanged labels keep their map (forecasts share it).
  CHECK(source.Labels("shop", "web-1") == web);
  // Compaction: the watch's resourceVersion is gone (410), the source relists and goes on.
  auto compact = client->Request("POST", "/_standin/compact", "{}");
  REQUIRE(compact.ok());
  Seed(client.get(), Pod("shop", "web-3", kWebLabels));
  CHECK(Eventually([&] { return source.Labels("shop", "web-3") != nullptr; }));
  stop = true;
  watcher.join();
}

TEST_CASE("A selector on app.kubernetes.io/name matches without kube-state-metrics") {
  StandinProcess standin;
  auto client = ClientFor(standin);
  Seed(client.get(), Pod("shop", "web-1", kWebLabels));
  Seed(client.get(), Pod("shop", "db-0", {{"app.kubernetes.io/name", "db"}}));
  FakeClock clock(1767225600 + 1200);
  KubePodMetadataSource source(client.get(), &clock);
  REQUIRE(source.List().ok());

  // The TSDB has the containers' memory and limits, and no kube_pod_labels series at all (a
  // kube-state-metrics without --metric-labels-allowlist exports none worth reading).
  FakePrometheusClient prom;
  const std::string memory = QueryConfig{}.memory_query;  // The default series.
  for (const std::string pod : {"web-1", "db-0"}) {
    std::vector<double> ts, vs;
    for (double t = 1767225600; t <= 1767225600 + 1200; t += 15) {
      ts.push_back(t);
      vs.push_back(100e6 + 1024 * (t - 1767225600));
    }
    prom.AddSamples(memory, {{"namespace", "shop"}, {"pod", pod}, {"container", "app"}}, ts, vs);
  }
  EngineConfig config;
  config.queries.pod_labels_query = "kube_pod_labels";
  Engine engine(config, &prom, &clock);
  engine.set_pod_label_source(&source);
  REQUIRE(engine.RunCycle().ok());
  for (const auto& call : prom.calls()) CHECK(call.query != "kube_pod_labels");  // Not asked.

  auto selector = LabelSelector::Parse("app.kubernetes.io/name=web");
  REQUIRE(selector.ok());
  std::vector<std::string> matched;
  auto snap = engine.Snapshot();
  REQUIRE(snap.forecasts->size() == 2);
  for (const auto& f : *snap.forecasts) {
    if (selector->Matches(f.PodLabels())) matched.push_back(f.key.pod);
  }
  CHECK(matched == std::vector<std::string>{"web-1"});
  // And as the HPA reads it, through the adapter's external metrics API.
  metrics_adapter::MetricsApi api(&engine, &clock);
  auto r =
      api.ListMetric("shop", "memory_oom_risk", "labelSelector=app.kubernetes.io%2Fname%3Dweb");
  REQUIRE(r.code == 200);
  json items = json::parse(r.body)["items"];
  REQUIRE(items.size() == 1);
  CHECK(items[0]["metricLabels"]["pod"] == "web-1");
  CHECK(items[0]["metricLabels"]["app.kubernetes.io/name"] == "web");
}

// The memory series of containers `pods` in namespace shop: 20 minutes of a slow leak.
void AddContainers(FakePrometheusClient* prom, const std::vector<std::string>& pods) {
  const std::string memory = QueryConfig{}.memory_query;  // The default series.
  for (const std::string& pod : pods) {
    std::vector<double> ts, vs;
    for (double t = 1767225600; t <= 1767225600 + 1200; t += 15) {
      ts.push_back(t);
      vs.push_back(100e6 + 1024 * (t - 1767225600));
    }
    prom->AddSamples(memory, {{"namespace", "shop"}, {"pod", pod}, {"container", "app"}}, ts, vs);
  }
}

int Items(const metrics_adapter::ApiResponse& r) {
  REQUIRE(r.code == 200);
  return static_cast<int>(json::parse(r.body)["items"].size());
}

TEST_CASE("With kube_pod_labels, a selector on the real name matches the sanitized label") {
  // kube-state-metrics with --metric-labels-allowlist=pods=[app.kubernetes.io/name] exports
  // label_app_kubernetes_io_name; users write the selector as in an HPA.
  FakeClock clock(1767225600 + 1200);
  FakePrometheusClient prom;
  AddContainers(&prom, {"web-1", "db-0"});
  prom.AddSamples(
      "kube_pod_labels",
      {{"namespace", "shop"}, {"pod", "web-1"}, {"label_app_kubernetes_io_name", "web"}},
      {1767225600 + 1200}, {1});
  prom.AddSamples("kube_pod_labels",
                  {{"namespace", "shop"}, {"pod", "db-0"}, {"label_app_kubernetes_io_name", "db"}},
                  {1767225600 + 1200}, {1});
  EngineConfig config;
  config.queries.pod_labels_query = "kube_pod_labels";
  Engine engine(config, &prom, &clock);
  REQUIRE(engine.RunCycle().ok());
  metrics_adapter::MetricsApi api(&engine, &clock);
  auto r = api.ListMetric("shop", "memory_growth_rate_bytes_per_second",
                          "labelSelector=app.kubernetes.io%2Fname%3Dweb");
  REQUIRE(Items(r) == 1);
  CHECK(json::parse(r.body)["items"][0]["metricLabels"]["pod"] == "web-1");
  CHECK(Items(api.ListMetric("shop", "memory_growth_rate_bytes_per_second",
                             "labelSelector=app.kubernetes.io%2Fname+in+%28web%2Cdb%29")) == 2);
  CHECK(Items(api.ListMetric("shop", "memory_growth_rate_bytes_per_second",
                             "labelSelector=%21app.kubernetes.io%2Fname")) == 0);
  CHECK(Items(api.ListMetric("shop", "memory_growth_rate_bytes_per_second",
                             "labelSelector=app_kubernetes_io_name%3Ddb")) == 1);  // As exported.
}

TEST_CASE("A selector matching no container while forecasts are fresh is counted") {
  // kube-state-metrics without an allowlist: kube_pod_labels carries no label_* at all.
  FakeClock clock(1767225600 + 1200);
  FakePrometheusClient prom;
  AddContainers(&prom, {"web-1"});
  prom.AddSamples("kube_pod_labels", {{"namespace", "shop"}, {"pod", "web-1"}}, {1767225600 + 1200},
                  {1});
  EngineConfig config;
  config.queries.pod_labels_query = "kube_pod_labels";
  Engine engine(config, &prom, &clock);
  REQUIRE(engine.RunCycle().ok());
  metrics_adapter::MetricsApi api(&engine, &clock);
  CHECK(Items(api.ListMetric("shop", "memory_oom_risk", "labelSelector=app%3Dweb")) == 0);
  CHECK(Items(api.ListMetric("shop", "memory_oom_risk", "labelSelector=app%3Dweb")) == 0);
  CHECK(api.selector_no_matches() == 2);
  // No selector, or a match: not counted.
  CHECK(Items(api.ListMetric("shop", "memory_oom_risk", "")) == 1);
  CHECK(Items(api.ListMetric("shop", "memory_oom_risk", "labelSelector=pod%3Dweb-1")) == 1);
  CHECK(api.selector_no_matches() == 2);
  // Stale forecasts are a 503, not a miss.
  clock.Advance(3600);
  CHECK(api.ListMetric("shop", "memory_oom_risk", "labelSelector=app%3Dweb").code == 503);
  CHECK(api.selector_no_matches() == 2);
}

}  // namespace
}  // namespace oomcast::predictor
