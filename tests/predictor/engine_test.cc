#include "oomcast/predictor/engine.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <regex>

#include "support/fake_clock.h"
#include "support/fake_prometheus_client.h"

namespace oomcast::predictor {
namespace {

using testing::FakeClock;
using testing::FakePrometheusClient;

// The default memory series (EngineConfig's memory_query).
const std::string kRss = R"(container_memory_working_set_bytes{container!="",container!="POD"})";
// The engine asks for one limit series per container.
const std::string kLimit =
    R"(max by (namespace, pod, container) (container_spec_memory_limit_bytes{container!="",container!="POD"}))";
constexpr double kT0 = 1767225600;
constexpr double kMiB = 1024.0 * 1024.0;

// The engine's incremental ingest asks for raw samples with an instant query of a range
// selector (`sel[120s]`), answered by a TSDB as a matrix of the raw samples in that range.
class RangeAwareFake final : public PrometheusClient {
 public:
  explicit RangeAwareFake(FakePrometheusClient* inner) : inner_(inner) {}
  StatusOr<QueryResult> QueryRange(const std::string& q, double s, double e, double step) override {
    return inner_->QueryRange(q, s, e, step);
  }
  StatusOr<QueryResult> Query(const std::string& q, double t) override {
    static const std::regex kRange(R"(^(.*)\[(\d+)s\]$)");
    std::smatch m;
    if (std::regex_match(q, m, kRange)) {
      ranged_queries.push_back(q);
      auto r = inner_->QueryRange(m[1], t - std::stod(m[2]), t, 0);
      if (r.ok()) r->result_type = "matrix";
      return r;
    }
    return inner_->Query(q, t);
  }
  StatusOr<std::vector<Labels>> Series(const std::string& m, double s, double e) override {
    return inner_->Series(m, s, e);
  }
  std::vector<std::string> ranged_queries;

 private:
  FakePrometheusClient* inner_;
};

Labels Container(const std::string& pod) {
  return {{"namespace", "shop"}, {"pod", pod}, {"container", "app"}, {"instance", "node1"}};
}

// Linear leak: 100 MiB + rate * (t - kT0) every 15 s over [from, to].
void AddLeak(FakePrometheusClient* prom, const std::string& pod, double from, double to,
             double rate_bytes_per_s) {
  std::vector<double> ts, vs;
  for (double t = from; t <= to; t += 15) {
    ts.push_back(t);
    vs.push_back(100 * kMiB + rate_bytes_per_s * (t - kT0));
  }
  prom->AddSamples(kRss, Container(pod), ts, vs);
}

EngineConfig TestConfig() {
  EngineConfig c;
  c.queries.pod_labels_query = "kube_pod_labels";
  c.window_seconds = 3600;
  c.step_seconds = 15;
  c.stale_after_seconds = 120;
  c.drop_after_seconds = 1800;
  return c;
}

const Forecast* Find(const ForecastSnapshot& s, const std::string& pod) {
  for (const auto& f : *s.forecasts) {
    if (f.key.pod == pod) return &f;
  }
  return nullptr;
}

TEST_CASE("Engine backfills once with query_range, then fetches only new raw samples") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 3600);
  AddLeak(&prom, "leaky", kT0, kT0 + 3600, 50 * 1024);  // 50 KiB/s.
  prom.AddSamples(kLimit, Container("leaky"), {kT0 + 3600}, {1024 * kMiB});
  Engine engine(TestConfig(), &client, &clock);

  REQUIRE(engine.RunCycle().ok());
  auto calls = prom.calls();
  REQUIRE(calls.size() >= 2);
  CHECK(calls[0].kind == "query_range");
  CHECK(calls[0].start_s == kT0);
  CHECK(calls[0].end_s == kT0 + 3600);
  CHECK(engine.stats().samples_ingested == 241);

  // 15 s later two new samples exist; the second cycle asks only for a short raw range.
  AddLeak(&prom, "leaky", kT0 + 3615, kT0 + 3630, 50 * 1024);
  clock.Advance(30);
  REQUIRE(engine.RunCycle().ok());
  REQUIRE(client.ranged_queries.size() == 1);
  CHECK(client.ranged_queries[0] == kRss + "[60s]");  // 30 s since last fetch + 2 steps overlap.
  int range_calls = 0;
  for (const auto& c : prom.calls()) range_calls += c.kind == "query_range";
  CHECK(range_calls == 1 + 1);  // The backfill, and the fake's answer to the ranged query.
  CHECK(engine.stats().samples_ingested == 243);  // Overlap samples are not ingested twice.

  auto snap = engine.Snapshot();
  REQUIRE(snap.forecasts->size() == 1);
  const Forecast* f = Find(snap, "leaky");
  REQUIRE(f);
  CHECK(f->key.namespace_name == "shop");
  CHECK(f->key.container == "app");
  CHECK(f->limit_bytes == 1024 * kMiB);
  CHECK(f->last_sample_t == kT0 + 3630);
  CHECK(f->growth_rate_bytes_per_second == Approx(50 * 1024).epsilon(0.05));
  // 1 GiB - (100 MiB + 50 KiB/s * 3630 s) = ~746.8 MiB left at 50 KiB/s: ~4.2 h.
  CHECK(f->eta_seconds > 3 * 3600);
  CHECK(f->eta_seconds < 6 * 3600);
  CHECK_FALSE(snap.Stale(clock.NowUnixSeconds()));
}

TEST_CASE("A TSDB failure keeps the last forecasts but marks them stale, and recovers") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 1800);
  AddLeak(&prom, "a", kT0, kT0 + 1800, 10 * 1024);
  prom.AddSamples(kLimit, Container("a"), {kT0 + 1800}, {512 * kMiB});
  Engine engine(TestConfig(), &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  REQUIRE_FALSE(engine.Snapshot().Stale(clock.NowUnixSeconds()));

  prom.SetError(kRss, UnavailableError("backend prometheus: HTTP 503"));
  clock.Advance(30);
  Status st = engine.RunCycle();
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK(st.message().find("incremental ingest") != std::string::npos);
  auto snap = engine.Snapshot();
  CHECK(snap.last_error.code() == StatusCode::kUnavailable);
  CHECK(snap.forecasts->size() == 1);               // Kept...
  CHECK_FALSE(snap.Stale(clock.NowUnixSeconds()));  // ...and still fresh for stale_after.
  clock.Advance(200);
  CHECK(engine.Snapshot().Stale(clock.NowUnixSeconds()));  // Never served as current.
  CHECK(engine.stats().query_errors.at("unavailable") == 1);

  prom.ClearError(kRss);
  AddLeak(&prom, "a", kT0 + 1815, kT0 + 2030, 10 * 1024);
  REQUIRE(engine.RunCycle().ok());
  // After the outage the range covers the whole gap since the last good fetch.
  CHECK(client.ranged_queries.back() == kRss + "[260s]");
  snap = engine.Snapshot();
  CHECK(snap.last_error.ok());
  CHECK_FALSE(snap.Stale(clock.NowUnixSeconds()));
}

TEST_CASE("A failed backfill is retried and nothing is reported before it succeeds") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 600);
  AddLeak(&prom, "a", kT0, kT0 + 600, 1024);
  prom.SetError(kRss, DeadlineExceededError("timeout after 30s"));
  Engine engine(TestConfig(), &client, &clock);
  CHECK(engine.RunCycle().code() == StatusCode::kDeadlineExceeded);
  CHECK(engine.Snapshot().Stale(clock.NowUnixSeconds()));
  CHECK(engine.Snapshot().forecasts->empty());
  prom.ClearError(kRss);
  REQUIRE(engine.RunCycle().ok());
  CHECK(prom.calls().back().kind == "query");  // Limits/labels after a second query_range.
  int range_calls = 0;
  for (const auto& c : prom.calls()) range_calls += c.kind == "query_range";
  CHECK(range_calls == 2);
}

TEST_CASE("A backfill over the response size cap is split into time-ordered halves") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 3600);
  AddLeak(&prom, "big", kT0, kT0 + 3600, 1024);
  // The first two attempts (the whole hour, then its first half) are "too large".
  int attempts = 0;
  prom.SetErrorFunc([&](const FakePrometheusClient::Call& c) {
    if (c.kind == "query_range" && ++attempts <= 2) {
      return ResourceExhaustedError("response over 256 MiB");
    }
    return Status::Ok();
  });
  Engine engine(TestConfig(), &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  std::vector<std::pair<double, double>> ranges;
  for (const auto& c : prom.calls()) {
    if (c.kind == "query_range") ranges.emplace_back(c.start_s, c.end_s);
  }
  REQUIRE(ranges.size() == 5);
  CHECK(ranges[2] == std::make_pair(kT0, kT0 + 900));          // First quarter...
  CHECK(ranges[3] == std::make_pair(kT0 + 915, kT0 + 1800));   // ...second...
  CHECK(ranges[4] == std::make_pair(kT0 + 1815, kT0 + 3600));  // ...then the second half.
  CHECK(engine.stats().samples_ingested == 241);               // Every sample once.
}

TEST_CASE("A container still warming up is unknown, not safe, unless it already alarms") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 300);
  AddLeak(&prom, "young", kT0, kT0 + 300, 1024);  // 5 minutes of data: no trustworthy fit.
  prom.AddSamples(kLimit, Container("young"), {kT0 + 300}, {1024 * kMiB});
  Engine engine(TestConfig(), &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  CHECK(engine.Snapshot().forecasts->empty());  // Absent: no growth 0, no risk 0 to act on.
  CHECK(engine.stats().series_tracked == 1);

  auto shown = TestConfig();
  shown.publish_warming_up = true;  // What `once` does for its table.
  FakeClock clock2(kT0 + 300);
  Engine once(shown, &client, &clock2);
  REQUIRE(once.RunCycle().ok());
  REQUIRE(once.Snapshot().forecasts->size() == 1);
  CHECK(once.Snapshot().forecasts->at(0).warming_up);
}

TEST_CASE("Containers without a limit are tracked with rate but no ETA") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 1800);
  AddLeak(&prom, "nolimit", kT0, kT0 + 1800, 20 * 1024);
  AddLeak(&prom, "zerolimit", kT0, kT0 + 1800, 20 * 1024);
  prom.AddSamples(kLimit, Container("zerolimit"), {kT0 + 1800}, {0});  // cAdvisor: unlimited.
  Engine engine(TestConfig(), &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  for (const char* pod : {"nolimit", "zerolimit"}) {
    const Forecast* f = Find(engine.Snapshot(), pod);
    REQUIRE(f);
    CHECK(std::isnan(f->limit_bytes));
    CHECK(std::isinf(f->eta_seconds));
    CHECK(f->risk == 0);
    CHECK_FALSE(f->oom_predicted);
    CHECK(f->growth_rate_bytes_per_second == Approx(20 * 1024).epsilon(0.05));
  }
}

TEST_CASE("Namespace filters are added to every selector") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 600);
  auto config = TestConfig();
  config.queries.namespaces = {"shop", "pay.v2"};
  Engine engine(config, &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  auto calls = prom.calls();
  REQUIRE_FALSE(calls.empty());
  CHECK(
      calls[0].query ==
      R"(container_memory_working_set_bytes{container!="",container!="POD",namespace=~"shop|pay\\.v2"})");
  CHECK(calls[2].query == R"(kube_pod_labels{namespace=~"shop|pay\\.v2"})");
}

TEST_CASE("Pod labels come from kube-state-metrics' label_ labels") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 1200);
  AddLeak(&prom, "a", kT0, kT0 + 1200, 1024);
  prom.AddSamples("kube_pod_labels",
                  {{"namespace", "shop"},
                   {"pod", "a"},
                   {"label_app", "backend"},
                   {"label_tier", "web"},
                   {"job", "kube-state-metrics"}},
                  {kT0 + 1200}, {1});
  Engine engine(TestConfig(), &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  const Forecast* f = Find(engine.Snapshot(), "a");
  REQUIRE(f);
  CHECK(f->PodLabels() == std::map<std::string, std::string>{{"app", "backend"}, {"tier", "web"}});
  auto labels_calls = [&] {
    int n = 0;
    for (const auto& c : prom.calls()) n += c.query == "kube_pod_labels";
    return n;
  };
  CHECK(labels_calls() == 1);
  clock.Advance(15);
  REQUIRE(engine.RunCycle().ok());
  CHECK(labels_calls() == 1);  // Refreshed once a minute, not every cycle...
  clock.Advance(60);
  REQUIRE(engine.RunCycle().ok());
  CHECK(labels_calls() == 2);  // ...or at once for a new container.
}

TEST_CASE("Pod labels: replicas merge, containers of a pod share them, changes replace them") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 1200);
  AddLeak(&prom, "a", kT0, kT0 + 1200, 1024);
  Labels sidecar = Container("a");
  sidecar["container"] = "sidecar";
  std::vector<double> ts, vs;
  for (double t = kT0; t <= kT0 + 1200; t += 15) ts.push_back(t), vs.push_back(50 * kMiB);
  prom.AddSamples(kRss, sidecar, ts, vs);
  auto pod_labels = [&](const std::string& tier) {
    // Two kube-state-metrics replicas, each with part of the labels.
    prom.SetSeriesData(
        "kube_pod_labels",
        {{{{"namespace", "shop"}, {"pod", "a"}, {"label_app", "backend"}, {"instance", "ksm-0"}},
          {clock.NowUnixSeconds()},
          {1}},
         {{{"namespace", "shop"}, {"pod", "a"}, {"label_tier", tier}, {"instance", "ksm-1"}},
          {clock.NowUnixSeconds()},
          {1}}});
  };
  pod_labels("web");
  Engine engine(TestConfig(), &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  auto find = [&](const std::string& container) -> Forecast {
    for (const auto& f : *engine.Snapshot().forecasts) {
      if (f.key.container == container) return f;
    }
    FAIL("no forecast for " << container);
    return {};
  };
  Forecast app = find("app"), side = find("sidecar");
  CHECK(app.PodLabels() == std::map<std::string, std::string>{{"app", "backend"}, {"tier", "web"}});
  CHECK(app.pod_labels == side.pod_labels);  // One map for the pod, not a copy per container.
  clock.Advance(75);
  AddLeak(&prom, "a", kT0 + 1215, kT0 + 1275, 1024);
  pod_labels("web");
  REQUIRE(engine.RunCycle().ok());
  CHECK(find("app").pod_labels == app.pod_labels);  // Unchanged labels: the same map.
  clock.Advance(75);
  AddLeak(&prom, "a", kT0 + 1290, kT0 + 1350, 1024);
  pod_labels("api");
  REQUIRE(engine.RunCycle().ok());
  CHECK(find("app").PodLabels().at("tier") == "api");
  CHECK(app.PodLabels().at("tier") == "web");  // Published maps are never changed in place.
}

TEST_CASE("Silent containers turn stale, then are dropped; bad samples are counted") {
  FakePrometheusClient prom;
  RangeAwareFake client(&prom);
  FakeClock clock(kT0 + 1200);
  AddLeak(&prom, "gone", kT0, kT0 + 1200, 1024);
  prom.AddSamples(kRss, Container("bad"), {kT0 + 1170, kT0 + 1185, kT0 + 1200},
                  {std::nan(""), -5, INFINITY});
  Engine engine(TestConfig(), &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  CHECK(engine.stats().samples_rejected == 3);
  CHECK(Find(engine.Snapshot(), "gone"));
  clock.Advance(300);  // No new samples: older than stale_after (120 s).
  REQUIRE(engine.RunCycle().ok());
  CHECK_FALSE(Find(engine.Snapshot(), "gone"));
  CHECK(engine.stats().series_tracked == 2);
  clock.Advance(1800);  // Past drop_after.
  REQUIRE(engine.RunCycle().ok());
  CHECK(engine.stats().series_tracked == 0);
  CHECK(engine.stats().series_dropped == 2);
}

}  // namespace
}  // namespace oomcast::predictor
