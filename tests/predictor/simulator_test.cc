#include "oomcast/predictor/simulator.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
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

// A curve of `hours` at `step_s`, at `level` (fraction of the limit).
RealCurve FlatCurve(const std::string& id, double level, double hours, double step_s = 57) {
  RealCurve c;
  c.id = id;
  for (double t = 1798761600; t <= 1798761600 + hours * 3600; t += step_s) {
    c.t.push_back(t);
    c.value.push_back(level);
  }
  return c;
}

TEST_CASE("real curves: leaks kill at the limit and restart at the curve's level", "[simulator]") {
  const RealCurve curve = FlatCurve("c1", 0.5, 20);
  for (const char* kind : {"linear", "exp", "step", "fast"}) {
    for (double step : {15.0, 30.0, 60.0}) {
      INFO(kind << " at " << step << " s");
      RealCurveOptions o;
      o.step_s = step;
      o.leak_fraction = 1;
      o.leak_kind = kind;
      o.variants_per_curve = 2;
      std::ostringstream om;
      auto truth = SimulateRealCurves({curve}, o, om);
      REQUIRE(truth.ok());
      REQUIRE(truth->size() == 2);
      auto data = ParseOpenMetrics(om.str());
      REQUIRE(data.ok());
      HistoryMap ws = HistoryFromOpenMetrics(*data, "container_memory_working_set_bytes",
                                             "container_spec_memory_limit_bytes");
      HistoryMap rss = HistoryFromOpenMetrics(*data, "container_memory_rss",
                                              "container_spec_memory_limit_bytes");
      for (const TruthSeries& t : *truth) {
        CHECK(t.family == std::string("real_") + kind);
        const ContainerHistory& h = ws.at(t.key);
        const ContainerHistory& r = rss.at(t.key);
        REQUIRE(h.t.size() == r.t.size());
        const double base = 0.5 * t.limit_bytes;
        // Hours of the curve alone before the leak starts.
        for (size_t i = 0; i < h.t.size() && h.t[i] < t.start + 2 * 3600; ++i)
          CHECK(h.bytes[i] == Approx(base).margin(1));
        REQUIRE(!t.oom_times.empty());  // 20 h: every leak of these kinds reaches the limit.
        CHECK(t.oom_times.front() >= t.start + 2 * 3600);
        for (size_t i = 0; i < h.t.size(); ++i) {
          CHECK(h.bytes[i] < t.limit_bytes);  // A scrape never sees the kill itself.
          CHECK(r.bytes[i] < h.bytes[i]);     // RSS is the usage less the page cache.
          CHECK(h.t[i] - t.start == Approx(step * std::round((h.t[i] - t.start) / step)));
        }
        // A kill is predictable when its leak began at least 20 minutes before it (the last
        // scrape at the curve's level is within a scrape before the onset).
        REQUIRE(t.predictable_each.size() == t.oom_times.size());
        for (size_t e = 0; e < t.oom_times.size(); ++e) {
          const double k = t.oom_times[e];
          double calm = t.start;
          for (size_t i = 0; i < h.t.size() && h.t[i] < k; ++i)
            if (h.bytes[i] <= base + 1) calm = h.t[i];
          if (k - calm >= 1200 + step) CHECK(t.predictable_each[e]);
          if (k - calm < 1200 - step) CHECK_FALSE(t.predictable_each[e]);
        }
        for (double k : t.oom_times) {
          // The memory before the kill is near the limit (within one scrape of the leak's
          // growth), the next scrape at least 10 s later is the fresh instance at the curve's
          // level.
          auto it = std::upper_bound(h.t.begin(), h.t.end(), k);
          REQUIRE(it != h.t.begin());
          const size_t before = static_cast<size_t>(it - h.t.begin()) - 1;
          CHECK(h.bytes[before] > base);
          if (it == h.t.end()) continue;
          CHECK(*it - k >= 10);
          CHECK(h.bytes[before + 1] == Approx(base).margin(1));
        }
      }
    }
  }
}

TEST_CASE("real curves: un-leaked curves are the curve x the limit, gaps stay gaps",
          "[simulator]") {
  RealCurve curve = FlatCurve("c2", 0.92, 10, 60);
  // A ramp to interpolate, then a 30-minute gap in the recording.
  for (size_t i = 0; i < curve.t.size(); ++i)
    curve.value[i] = 0.9 + 0.02 * static_cast<double>(i % 2);
  curve.t.erase(curve.t.begin() + 300, curve.t.begin() + 330);
  curve.value.erase(curve.value.begin() + 300, curve.value.begin() + 330);
  RealCurveOptions o;
  o.step_s = 15;
  o.leak_fraction = 0;
  std::ostringstream om;
  auto truth = SimulateRealCurves({curve}, o, om);
  REQUIRE(truth.ok());
  REQUIRE(truth->size() == 1);
  const TruthSeries& t = (*truth)[0];
  CHECK(t.family == "real_none");
  CHECK(t.oom_times.empty());  // 92 % for 10 hours does not die.
  auto data = ParseOpenMetrics(om.str());
  REQUIRE(data.ok());
  HistoryMap ws = HistoryFromOpenMetrics(*data, "container_memory_working_set_bytes",
                                         "container_spec_memory_limit_bytes");
  const ContainerHistory& h = ws.at(t.key);
  const double gap_from = curve.t[299], gap_to = curve.t[300];
  for (size_t i = 0; i < h.t.size(); ++i) {
    CHECK(!(h.t[i] > gap_from && h.t[i] < gap_to));
    // Between two curve samples a minute apart, 15 s scrapes interpolate.
    const double u = std::fmod(h.t[i] - curve.t[0], 120.0) / 60.0;
    const double want = u <= 1 ? 0.9 + 0.02 * u : 0.92 - 0.02 * (u - 1);
    CHECK(h.bytes[i] / t.limit_bytes == Approx(want).margin(1e-6));
  }
}

TEST_CASE("real curves: a drop from near the limit in the curve is a real kill", "[simulator]") {
  RealCurve curve = FlatCurve("c3", 0.8, 6, 60);
  for (size_t i = 200; i < 210; ++i) curve.value[i] = 0.8 + 0.018 * static_cast<double>(i - 199);
  for (size_t i = 210; i < curve.t.size(); ++i) curve.value[i] = 0.07;
  RealCurveOptions o;
  o.leak_fraction = 0;
  std::ostringstream om;
  auto truth = SimulateRealCurves({curve}, o, om);
  REQUIRE(truth.ok());
  REQUIRE((*truth)[0].oom_times.size() == 1);
  const double k = (*truth)[0].oom_times[0];
  CHECK(k > curve.t[209]);
  CHECK(k < curve.t[210]);
  CHECK((*truth)[0].predictable_each == std::vector<bool>{true});
}

TEST_CASE("real curves: the CSV is parsed by container, bad lines are rejected", "[simulator]") {
  auto curves =
      ParseRealCurvesCsv("value,timestamp,container\n0.5,120,b\n0.25,60,a\n0.5,0,a\n0.75,60,b\n");
  REQUIRE(curves.ok());
  REQUIRE(curves->size() == 2);
  CHECK((*curves)[0].id == "a");
  CHECK((*curves)[0].t == std::vector<double>{0, 60});
  CHECK((*curves)[0].value == std::vector<double>{0.5, 0.25});
  CHECK((*curves)[1].t == std::vector<double>{60, 120});
  CHECK(ParseRealCurvesCsv("value,timestamp,container\n0.5,x,a\n").status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(ParseRealCurvesCsv("value,timestamp,container\n0.5;1;a\n").status().code() ==
        StatusCode::kInvalidArgument);
  RealCurveOptions o;
  o.leak_kind = "nope";
  std::ostringstream om;
  CHECK(SimulateRealCurves(*curves, o, om).status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace oomcast::predictor
