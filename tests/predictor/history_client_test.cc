#include "oomcast/predictor/history_client.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "oomcast/predictor/engine.h"
#include "oomcast/predictor/openmetrics.h"

namespace oomcast::predictor {
namespace {

constexpr double kT0 = 1767225600;

// Two containers of one pod and a sidecar "POD" series, every 15 s for 10 minutes; a limit
// series for each; kube_pod_labels for the pod.
std::vector<RecordedSeries> Fixture() {
  std::vector<RecordedSeries> out;
  auto series = [&](std::string metric, Labels labels, double base, double slope) {
    RecordedSeries s{std::move(metric), std::move(labels), {}, {}};
    for (double t = kT0; t <= kT0 + 600; t += 15) {
      s.timestamps_s.push_back(t);
      s.values.push_back(base + slope * (t - kT0));
    }
    out.push_back(std::move(s));
  };
  const Labels a{{"namespace", "web"}, {"pod", "p-1"}, {"container", "app"}, {"job", "kubelet"}};
  const Labels b{{"namespace", "web"}, {"pod", "p-1"}, {"container", "side"}, {"job", "kubelet"}};
  const Labels pause{{"namespace", "web"}, {"pod", "p-1"}, {"container", "POD"}};
  const Labels other{{"namespace", "batch"}, {"pod", "q-1"}, {"container", "app"}};
  series("container_memory_working_set_bytes", a, 1e8, 1e5);
  series("container_memory_working_set_bytes", b, 5e7, 0);
  series("container_memory_working_set_bytes", pause, 1e6, 0);
  series("container_memory_working_set_bytes", other, 2e8, 0);
  series("container_spec_memory_limit_bytes", a, 5e8, 0);
  series("container_spec_memory_limit_bytes", b, 1e8, 0);
  // A duplicate limit series of `a` (a second cAdvisor target) with a larger value.
  Labels a2 = a;
  a2["job"] = "cadvisor";
  series("container_spec_memory_limit_bytes", a2, 6e8, 0);
  series("kube_pod_labels",
         {{"namespace", "web"}, {"pod", "p-1"}, {"label_app_kubernetes_io_name", "web"}}, 1, 0);
  return out;
}

// The series of `r` of container `c` in namespace `ns`.
const SeriesData& Find(const QueryResult& r, const std::string& ns, const std::string& c) {
  for (const auto& s : r.series) {
    if (s.labels.at("namespace") == ns && s.labels.at("container") == c) return s;
  }
  FAIL("no series " << ns << "/" << c);
  return r.series.front();
}

const std::string kWs = R"(container_memory_working_set_bytes{container!="",container!="POD"})";

TEST_CASE("instant selectors: matchers, lookback, never past the clock", "[history]") {
  ReplayClock clock(kT0 + 300);
  HistoryPrometheusClient client(Fixture(), &clock);
  auto r = client.Query(kWs, kT0 + 300);
  REQUIRE(r.ok());
  CHECK(r->result_type == "vector");
  REQUIRE(r->series.size() == 3);  // The "POD" series is excluded.
  // Sorted by label sets, as Prometheus sorts them.
  for (size_t i = 1; i < r->series.size(); ++i) {
    CHECK(r->series[i - 1].labels < r->series[i].labels);
  }
  const SeriesData& app = Find(*r, "web", "app");
  CHECK(app.labels.at("__name__") == "container_memory_working_set_bytes");
  CHECK(app.timestamps_s == std::vector<double>{kT0 + 300});
  CHECK(app.values == std::vector<double>{1e8 + 1e5 * 300});

  // A time after the clock's now is answered as of now: no future sample leaks.
  auto later = client.Query(kWs, kT0 + 600);
  REQUIRE(later.ok());
  CHECK(Find(*later, "web", "app").timestamps_s == std::vector<double>{kT0 + 300});
  CHECK(Find(*later, "web", "app").values == std::vector<double>{1e8 + 1e5 * 300});

  // Regex matchers are anchored; != and !~ exclude.
  auto re = client.Query(
      R"(container_memory_working_set_bytes{namespace=~"we|web",container!~"s.*"})", kT0 + 300);
  REQUIRE(re.ok());
  REQUIRE(re->series.size() == 2);  // web/p-1/app and web/p-1/POD.
  auto partial = client.Query(R"(container_memory_working_set_bytes{namespace=~"we"})", kT0 + 300);
  REQUIRE(partial.ok());
  CHECK(partial->series.empty());
  auto by_name = client.Query(R"({__name__="kube_pod_labels"})", kT0 + 300);
  REQUIRE(by_name.ok());
  CHECK(by_name->series.size() == 1);

  // Lookback: 5 minutes after the last sample the series has gone.
  clock.Set(kT0 + 2000);
  auto gone = client.Query(kWs, kT0 + 600 + 299);
  REQUIRE(gone.ok());
  CHECK(gone->series.size() == 3);
  gone = client.Query(kWs, kT0 + 600 + 300);
  REQUIRE(gone.ok());
  CHECK(gone->series.empty());
}

TEST_CASE("range selectors return the raw samples up to now", "[history]") {
  ReplayClock clock(kT0 + 100);
  HistoryPrometheusClient client(Fixture(), &clock);
  auto r = client.Query(kWs + "[60s]", kT0 + 1000);  // Answered as of kT0 + 100.
  REQUIRE(r.ok());
  CHECK(r->result_type == "matrix");
  REQUIRE(r->series.size() == 3);
  // (40, 100]: samples at 45, 60, 75, 90.
  CHECK(Find(*r, "web", "app").timestamps_s ==
        std::vector<double>{kT0 + 45, kT0 + 60, kT0 + 75, kT0 + 90});
  CHECK(r->samples == 12);
  CHECK(Find(*client.Query(kWs + "[1m]", kT0 + 100), "web", "app").timestamps_s.size() == 4);
}

TEST_CASE("query_range evaluates at each step with the lookback", "[history]") {
  ReplayClock clock(kT0 + 10000);
  HistoryPrometheusClient client(Fixture(), &clock);
  auto r = client.QueryRange(kWs, kT0 - 20, kT0 + 40, 20);
  REQUIRE(r.ok());
  CHECK(r->result_type == "matrix");
  REQUIRE(r->series.size() == 3);
  // Steps -20, 0, 20, 40: none before the first sample; at 20 and 40 the newest sample <= t.
  CHECK(Find(*r, "web", "app").timestamps_s == std::vector<double>{kT0, kT0 + 20, kT0 + 40});
  CHECK(Find(*r, "web", "app").values == std::vector<double>{1e8, 1e8 + 1e5 * 15, 1e8 + 1e5 * 30});
  // The range ends at the clock's now.
  clock.Set(kT0 + 20);
  r = client.QueryRange(kWs, kT0 - 20, kT0 + 40, 20);
  REQUIRE(r.ok());
  CHECK(Find(*r, "web", "app").timestamps_s == std::vector<double>{kT0, kT0 + 20});
}

TEST_CASE("max by aggregates duplicate series", "[history]") {
  ReplayClock clock(kT0 + 60);
  HistoryPrometheusClient client(Fixture(), &clock);
  auto r = client.Query(
      "max by (namespace, pod, container) (container_spec_memory_limit_bytes{container!=\"\"})",
      kT0 + 60);
  REQUIRE(r.ok());
  REQUIRE(r->series.size() == 2);
  CHECK(r->series[0].labels == Labels{{"namespace", "web"}, {"pod", "p-1"}, {"container", "app"}});
  CHECK(r->series[0].values == std::vector<double>{6e8});
  CHECK(r->series[1].values == std::vector<double>{1e8});
  auto sum = client.Query("sum(container_spec_memory_limit_bytes)", kT0 + 60);
  REQUIRE(sum.ok());
  REQUIRE(sum->series.size() == 1);
  CHECK(sum->series[0].labels.empty());
  CHECK(sum->series[0].values == std::vector<double>{5e8 + 1e8 + 6e8});
}

TEST_CASE("unsupported queries are errors naming the query", "[history]") {
  ReplayClock clock(kT0);
  HistoryPrometheusClient client(Fixture(), &clock);
  for (const char* q :
       {"rate(x[5m])", "x{a=b}", "x[5q]", "x{a=\"b\"", "max by (a) (x[5m])", "x + y", ""}) {
    auto r = client.Query(q, kT0);
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("history") != std::string::npos);
  }
  CHECK(client.QueryRange(kWs + "[5m]", kT0, kT0 + 60, 15).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("series and time range", "[history]") {
  ReplayClock clock(kT0 + 100);
  HistoryPrometheusClient client(Fixture(), &clock);
  auto s = client.Series(kWs, kT0, kT0 + 1000);
  REQUIRE(s.ok());
  CHECK(s->size() == 3);
  CHECK(client.Series(kWs, kT0 + 200, kT0 + 1000)->empty());  // Nothing up to now after 200.
  auto range = client.TimeRange(kWs);
  REQUIRE(range.ok());
  CHECK(range->first == kT0);
  CHECK(range->second == kT0 + 600);  // TimeRange ignores the clock.
  CHECK(client.TimeRange("nothing_here").status().code() == StatusCode::kNotFound);
}

TEST_CASE("the engine reads memory, limits and pod labels through it", "[history]") {
  auto om = ParseOpenMetrics(
      "container_memory_working_set_bytes{namespace=\"web\",pod=\"p-1\",container=\"app\"} 100 "
      "1767225600\n"
      "container_memory_working_set_bytes{namespace=\"web\",pod=\"p-1\",container=\"app\"} 110 "
      "1767225615\n"
      "container_spec_memory_limit_bytes{namespace=\"web\",pod=\"p-1\",container=\"app\"} 1000 "
      "1767225615\n"
      "kube_pod_labels{namespace=\"web\",pod=\"p-1\",label_app_kubernetes_io_name=\"web\"} 1 "
      "1767225615\n");
  REQUIRE(om.ok());
  ReplayClock clock(kT0 + 30);
  HistoryPrometheusClient client(RecordedFromOpenMetrics(std::move(*om)), &clock,
                                 PredictorLabels());
  EngineConfig config;
  config.queries.memory_query = kWs;
  config.publish_warming_up = true;
  Engine engine(config, &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  auto snap = engine.Snapshot();
  REQUIRE(snap.forecasts->size() == 1);
  const Forecast& f = snap.forecasts->front();
  CHECK(f.key.ToString() == "web/p-1/app");
  CHECK(f.rss_bytes == 110);
  CHECK(f.limit_bytes == 1000);
  CHECK(f.t == kT0 + 30);
  CHECK(f.PodLabels() == std::map<std::string, std::string>{{"app_kubernetes_io_name", "web"}});
}

}  // namespace
}  // namespace oomcast::predictor
