#include "oomcast/predictor/simulator.h"

#include <catch2/catch.hpp>
#include <sstream>

#include "oomcast/predictor/openmetrics.h"

namespace oomcast::predictor {
namespace {

TEST_CASE("simulation is deterministic and seeded", "[simulator]") {
  SimulatorOptions o;
  o.duration_s = 3600;
  o.containers_per_family = 1;
  std::ostringstream a, b, c;
  REQUIRE(Simulate(o, a).ok());
  REQUIRE(Simulate(o, b).ok());
  CHECK(a.str() == b.str());
  o.seed = 2;
  REQUIRE(Simulate(o, c).ok());
  CHECK(a.str() != c.str());
}

TEST_CASE("output is OpenMetrics with three gauges per container and a matching truth",
          "[simulator]") {
  SimulatorOptions o;
  o.duration_s = 4 * 3600;
  o.containers_per_family = 2;
  std::ostringstream om;
  auto truth = Simulate(o, om);
  REQUIRE(truth.ok());
  REQUIRE(truth->size() == 2 * SimulatorFamilies().size());
  auto data = ParseOpenMetrics(om.str());
  REQUIRE(data.ok());
  CHECK(data->series.size() == 3 * truth->size());
  HistoryMap history = HistoryFromOpenMetrics(*data);
  CHECK(history.size() == truth->size());
  size_t kills = 0;
  for (const TruthSeries& t : *truth) {
    INFO(t.key.ToString());
    const ContainerHistory& h = history.at(t.key);
    CHECK(t.start == o.start_s);
    CHECK(t.end == o.start_s + o.duration_s);
    CHECK(t.predictable == (t.family != "spike"));
    for (size_t i = 0; i < h.t.size(); ++i) {
      CHECK(h.bytes[i] <= t.limit_bytes);  // RSS never exceeds the limit.
      CHECK(h.t[i] < t.end);
    }
    // Every kill is a sample at the limit, followed by a back-off without samples (>= 10 s).
    for (double k : t.oom_times) {
      auto it = std::lower_bound(h.t.begin(), h.t.end(), k);
      REQUIRE(it != h.t.end());
      CHECK(*it == k);
      CHECK(h.bytes[static_cast<size_t>(it - h.t.begin())] == t.limit_bytes);
      if (it + 1 != h.t.end()) CHECK(*(it + 1) - k >= 10);
      ++kills;
    }
    if (t.family == "flat" || t.family == "gc_stable" || t.family == "diurnal_stable" ||
        t.family == "warmup_plateau" || t.family == "batch") {
      CHECK(t.oom_times.empty());
    }
    if (t.family == "spike") CHECK(t.oom_times.size() == 1);
  }
  CHECK(kills > 0);
  std::ostringstream json;
  WriteTruthJson(*truth, o.step_s, json);
  auto parsed = ParseTruthJson(json.str());
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == truth->size());
  CHECK((*parsed)[3].oom_times == (*truth)[3].oom_times);
}

TEST_CASE("bad simulation options are rejected", "[simulator]") {
  SimulatorOptions o;
  o.families = {"nope"};
  std::ostringstream out;
  CHECK(Simulate(o, out).status().code() == StatusCode::kInvalidArgument);
  o.families = {};
  o.step_s = 0;
  CHECK(Simulate(o, out).status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace oomcast::predictor
