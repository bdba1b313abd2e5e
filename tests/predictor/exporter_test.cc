#include "oomcast/predictor/exporter.h"

#include <catch2/catch.hpp>

#include "support/fake_clock.h"
#include "support/fake_prometheus_client.h"

namespace oomcast::predictor {
namespace {

const std::string kRss = R"(container_memory_working_set_bytes{container!="",container!="POD"})";
// The engine asks for one limit series per container.
const std::string kLimit =
    R"(max by (namespace, pod, container) (container_spec_memory_limit_bytes{container!="",container!="POD"}))";
constexpr double kT0 = 1767225600;

TEST_CASE("/metrics exposes forecasts with their labels and self-metrics, and hides stale data") {
  testing::FakePrometheusClient prom;
  testing::FakeClock clock(kT0 + 900);
  std::vector<double> ts, vs;
  for (double t = kT0; t <= kT0 + 900; t += 15) {
    ts.push_back(t);
    vs.push_back(1e8 + 1e5 * (t - kT0));
  }
  Labels l = {{"namespace", "shop"}, {"pod", "api"}, {"container", "app"}};
  prom.AddSamples(kRss, l, ts, vs);
  prom.AddSamples(kLimit, l, {kT0 + 900}, {1e9});
  EngineConfig config;
  Engine engine(config, &prom, &clock);
  engine.set_backend_name("vm");
  MetricsExporter exporter(&engine, &clock);

  std::string before = exporter.Render();
  CHECK(before.find("memory_oom_risk{") == std::string::npos);
  CHECK(before.find("oomcast_forecast_age_seconds +Inf") != std::string::npos);

  REQUIRE(engine.RunCycle().ok());
  exporter.ObserveCycle(0.25, Status::Ok());
  std::string text = exporter.Render();
  CHECK(text.find("# TYPE memory_growth_rate_bytes_per_second gauge") != std::string::npos);
  CHECK(text.find("memory_growth_rate_bytes_per_second{namespace=\"shop\",pod=\"api\","
                  "container=\"app\"}") != std::string::npos);
  CHECK(text.find("memory_growth_acceleration_bytes_per_second2{") != std::string::npos);
  CHECK(text.find("memory_oom_eta_seconds{namespace=\"shop\"") != std::string::npos);
  CHECK(text.find("memory_oom_risk{namespace=\"shop\"") != std::string::npos);
  CHECK(text.find("oomcast_series_tracked 1") != std::string::npos);
  CHECK(text.find("oomcast_samples_ingested_total 61") != std::string::npos);
  CHECK(text.find("oomcast_cycle_duration_seconds_count{result=\"success\"} 1") !=
        std::string::npos);
  CHECK(text.find("oomcast_last_successful_cycle_timestamp_seconds 1767226500") !=
        std::string::npos);

  prom.SetErrorFunc(
      [](const testing::FakePrometheusClient::Call&) { return UnavailableError("down"); });
  clock.Advance(600);
  CHECK_FALSE(engine.RunCycle().ok());
  text = exporter.Render();
  CHECK(text.find("memory_oom_risk{") == std::string::npos);  // Stale: absent, not zero.
  CHECK(text.find("oomcast_query_errors_total{backend=\"vm\",reason=\"unavailable\"} 1") !=
        std::string::npos);
  CHECK(text.find("oomcast_forecast_age_seconds 600") != std::string::npos);
}

}  // namespace
}  // namespace oomcast::predictor
