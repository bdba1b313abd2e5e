#include "oomcast/predictor/canary.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "oomcast/predictor/canary_config.h"
#include "oomcast/predictor/canary_metrics.h"
#include "oomcast/predictor/canary_replay.h"
#include "oomcast/predictor/canary_sim.h"
#include "oomcast/predictor/config.h"
#include "oomcast/predictor/engine.h"
#include "oomcast/predictor/history_client.h"

using namespace oomcast::predictor;

namespace {

CanaryComparisonConfig Comparison() {
  CanaryComparisonConfig c;
  c.name = "cart";
  c.namespace_name = "shop";
  c.baseline_selector = "app=cart,track=stable";
  c.canary_selector = "app=cart,track=canary";
  return c;
}

std::shared_ptr<const std::map<std::string, std::string>> Labels(const std::string& track) {
  return std::make_shared<std::map<std::string, std::string>>(
      std::map<std::string, std::string>{{"app", "cart"}, {"track", track}});
}

// A pod of the synthetic fleet: memory = level x (1 + small deterministic wiggle) + slope x age.
struct FakePod {
  std::string name;
  std::string track;
  double level;
  double slope = 0;  // Bytes per second.
  double start = 0;  // Instance start (Unix s).
  double wiggle = 0.01;
};

std::vector<Forecast> At(double t, const std::vector<FakePod>& pods) {
  std::vector<Forecast> out;
  int i = 0;
  for (const FakePod& p : pods) {
    ++i;
    if (t < p.start) continue;
    Forecast f;
    f.key = {"shop", p.name, "app"};
    f.pod_labels = Labels(p.track);
    f.t = t;
    f.last_sample_t = t;
    f.rss_bytes = p.level * (1 + p.wiggle * std::sin(t / 37.0 + i)) + p.slope * (t - p.start);
    f.warming_up = t - p.start < 600;  // The model's warm-up.
    out.push_back(f);
  }
  return out;
}

// Runs the comparator every 30 s from 0 to `end` s; returns the last verdict.
CanaryVerdict Run(CanaryComparator& c, std::vector<FakePod>& pods, double end,
                  double* first_fail = nullptr) {
  CanaryVerdict last;
  for (double t = 0; t <= end; t += 30) {
    last = c.Update(t, At(t, pods));
    if (first_fail && *first_fail == 0 && last.verdict == CanaryVerdictKind::kFail) {
      *first_fail = t;
    }
  }
  return last;
}

std::vector<FakePod> Fleet(double canary_factor, double canary_slope) {
  std::vector<FakePod> pods;
  const double levels[] = {400e6, 410e6, 395e6, 405e6};
  for (int i = 0; i < 4; ++i) {
    pods.push_back({"cart-stable-" + std::to_string(i), "stable", levels[i], 0, -7200});
  }
  pods.push_back({"cart-canary-0", "canary", 402e6 * canary_factor, canary_slope, 0});
  pods.push_back({"cart-canary-1", "canary", 398e6 * canary_factor, canary_slope, 0});
  return pods;
}

}  // namespace

TEST_CASE("identical versions pass once both groups are past warm-up") {
  auto c = CanaryComparator::Create(Comparison());
  REQUIRE(c.ok());
  auto pods = Fleet(1.0, 0);
  // Before the canary pods are past the model's warm-up: inconclusive.
  CanaryVerdict early = Run(*c, pods, 300);
  CHECK(early.verdict == CanaryVerdictKind::kInconclusive);
  CHECK(early.canary_pods == 2);
  CHECK(early.baseline_pods == 4);
  CanaryVerdict v = Run(*c, pods, 3 * 3600);
  CHECK(v.verdict == CanaryVerdictKind::kPass);
  CHECK(v.looks > 30);
  CHECK(v.failed_aspect == -1);
  CHECK(v.aspects[kLevel].tested);
  CHECK(v.aspects[kGrowth].tested);
  CHECK(v.aspects[kSpread].tested);
}

TEST_CASE("a canary holding 30 % more memory fails on level") {
  auto c = CanaryComparator::Create(Comparison());
  REQUIRE(c.ok());
  auto pods = Fleet(1.3, 0);
  CanaryVerdict v = Run(*c, pods, 3600);
  REQUIRE(v.verdict == CanaryVerdictKind::kFail);
  CHECK(v.failed_aspect == kLevel);
  CHECK(v.effect == Approx(0.3).margin(0.03));
  CHECK(v.p_value <= Comparison().tolerances.alpha);
  CHECK(v.reason.find("level") == 0);
}

TEST_CASE("a canary leaking 200 kB/s fails on growth") {
  CanaryComparisonConfig cfg = Comparison();
  cfg.tolerances.level_increase = 10;  // The level the leak raises is not what is tested here.
  auto c = CanaryComparator::Create(cfg);
  REQUIRE(c.ok());
  auto pods = Fleet(1.0, 200e3);
  double first_fail = 0;
  CanaryVerdict v = Run(*c, pods, 3 * 3600, &first_fail);
  REQUIRE(v.verdict == CanaryVerdictKind::kFail);
  CHECK(first_fail > 600);
  CHECK(v.failed_aspect == kGrowth);
  CHECK(v.effect == Approx(200e3).epsilon(0.1));
  CHECK(v.reason.find("growth: canary +") == 0);
}

TEST_CASE("a more modest level within tolerance passes") {
  auto c = CanaryComparator::Create(Comparison());
  REQUIRE(c.ok());
  auto pods = Fleet(1.05, 0);  // +5 %, tolerance 10 %.
  CHECK(Run(*c, pods, 3 * 3600).verdict == CanaryVerdictKind::kPass);
}

TEST_CASE("a baseline pod that restarts does not fail an A/A comparison") {
  auto c = CanaryComparator::Create(Comparison());
  REQUIRE(c.ok());
  auto pods = Fleet(1.0, 0);
  CanaryVerdict v;
  for (double t = 0; t <= 3 * 3600; t += 30) {
    // At 1 h the first baseline pod restarts: low, warming up, then back to its level.
    pods[0].start = t >= 3600 ? 3600 : -7200;
    auto f = At(t, pods);
    for (auto& x : f) {
      if (x.key.pod == "cart-stable-0" && t >= 3600 && t < 3660) x.rss_bytes *= 0.3;
    }
    v = c->Update(t, f);
    REQUIRE(v.verdict != CanaryVerdictKind::kFail);
  }
  CHECK(v.verdict == CanaryVerdictKind::kPass);
}

TEST_CASE("too few pods is inconclusive, and a canary group gone resets the watch") {
  CanaryComparisonConfig cfg = Comparison();
  auto c = CanaryComparator::Create(cfg);
  REQUIRE(c.ok());
  auto pods = Fleet(1.3, 0);
  pods.erase(pods.begin() + 1, pods.begin() + 4);  // One baseline pod left.
  CanaryVerdict v = Run(*c, pods, 3600);
  CHECK(v.verdict == CanaryVerdictKind::kInconclusive);
  CHECK(v.reason.find("baseline 1 (need 2)") != std::string::npos);

  auto c2 = CanaryComparator::Create(cfg);
  auto bad = Fleet(1.3, 0);
  REQUIRE(Run(*c2, bad, 3600).verdict == CanaryVerdictKind::kFail);
  // The rollout is aborted: canary pods gone for reset_after_seconds: the watch starts over.
  std::vector<FakePod> stable(bad.begin(), bad.begin() + 4);
  CanaryVerdict after;
  for (double t = 3630; t <= 3630 + cfg.tolerances.reset_after_seconds + 60; t += 30) {
    after = c2->Update(t, At(t, stable));
  }
  CHECK(after.verdict == CanaryVerdictKind::kInconclusive);
  CHECK(after.looks == 0);
  CHECK(after.canary_pods == 0);
}

TEST_CASE("pods of another namespace or both selectors are left out") {
  CanaryComparisonConfig cfg = Comparison();
  cfg.canary_selector = "app=cart";  // Overlaps the baseline: stable pods match both.
  auto c = CanaryComparator::Create(cfg);
  REQUIRE(c.ok());
  auto pods = Fleet(1.0, 0);
  auto f = At(1000, pods);
  Forecast other = f[0];
  other.key.namespace_name = "elsewhere";
  f.push_back(other);
  CanaryVerdict v = c->Update(1000, f);
  CHECK(v.baseline_pods == 0);  // Stable pods match both selectors: ambiguous.
  CHECK(v.canary_pods == 2);
}

TEST_CASE("comparison validation names the field") {
  CanaryComparisonConfig c = Comparison();
  c.baseline_selector = "app in (";
  auto r = CanaryComparator::Create(c);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find(".baseline") != std::string::npos);
  c = Comparison();
  c.canary_selector = c.baseline_selector;
  CHECK_FALSE(CanaryComparator::Create(c).ok());
  c = Comparison();
  c.tolerances.alpha = 1.5;
  CHECK(ValidateCanaryComparison(c, "x").message().find("x.tolerances.alpha") == 0);
}

TEST_CASE("canary YAML is parsed and every key checked") {
  auto cfg = ParseConfigYaml(R"(
canary:
  - name: cart
    namespace: shop
    baseline: "app=cart,track=stable"
    canary: "app=cart,track=canary"
    tolerances:
      levelIncrease: 0.2
      growth: 20480
      spreadIncrease: 1
      alpha: 0.01
      test: mann-whitney
      warmup: 5m
      window: 20m
      minWindow: 12m
      growthWindow: 2h
      minGrowthSpan: 3m
      lookInterval: 10m
      minBaselinePods: 3
      minCanaryPods: 2
      minSamples: 20
      resetAfter: 30m
)");
  REQUIRE(cfg.ok());
  REQUIRE(cfg->canary.size() == 1);
  const auto& c = cfg->canary[0];
  CHECK(c.name == "cart");
  CHECK(c.tolerances.level_increase == 0.2);
  CHECK(c.tolerances.growth_bytes_per_second == 20480);
  CHECK(c.tolerances.alpha == 0.01);
  CHECK(c.tolerances.test == CanaryTest::kMannWhitney);
  CHECK(c.tolerances.warmup_seconds == 300);
  CHECK(c.tolerances.look_interval_seconds == 600);
  CHECK(c.tolerances.min_baseline_pods == 3);
  CHECK(c.tolerances.spread_increase == 1);
  CHECK(c.tolerances.window_seconds == 1200);
  CHECK(c.tolerances.min_window_seconds == 720);
  CHECK(c.tolerances.growth_window_seconds == 7200);
  CHECK(c.tolerances.min_growth_span_seconds == 180);
  CHECK(c.tolerances.min_canary_pods == 2);
  CHECK(c.tolerances.min_samples == 20);
  CHECK(c.tolerances.reset_after_seconds == 1800);
  CHECK(c.baseline_selector == "app=cart,track=stable");
  CHECK(c.canary_selector == "app=cart,track=canary");
  CHECK(c.namespace_name == "shop");

  auto unknown = ParseConfigYaml(
      "canary:\n  - name: a\n    namespace: n\n    baseline: a=1\n"
      "    canary: a=2\n    tolerances: {levelIncrese: 0.1}\n");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("canary[0].tolerances.levelIncrese: unknown key") !=
        std::string::npos);
  auto missing = ParseConfigYaml("canary:\n  - name: a\n    baseline: a=1\n    canary: a=2\n");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("canary[0].namespace: must be set") != std::string::npos);
  auto dup = ParseConfigYaml(
      "canary:\n  - {name: a, namespace: n, baseline: a=1, canary: a=2}\n"
      "  - {name: a, namespace: n, baseline: a=3, canary: a=4}\n");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().message().find("duplicate") != std::string::npos);
  CHECK_FALSE(ParseConfigYaml("canary: {name: a}\n").ok());
  auto bad_window = ParseConfigYaml(
      "canary:\n  - {name: a, namespace: n, baseline: a=1, canary: a=2, "
      "tolerances: {minWindow: soon}}\n");
  REQUIRE_FALSE(bad_window.ok());
  CHECK(bad_window.status().message().find("canary[0].tolerances.minWindow") != std::string::npos);
}

TEST_CASE("verdict JSON has the CLI's keys, with null for unknown numbers") {
  CanaryVerdict v;
  v.t = 1767225600;
  v.baseline_pods = 4;
  const std::string j = CanaryVerdictJson(Comparison(), v);
  CHECK(j.find("\"verdict\":\"inconclusive\"") != std::string::npos);
  CHECK(j.find("\"p_value\":null") != std::string::npos);
  CHECK(j.find("\"effect\":null") != std::string::npos);
  CHECK(j.find("\"baseline_pods\":4") != std::string::npos);
  CHECK(j.find("\"canary_pods\":0") != std::string::npos);
  CHECK(j.find("\"t\":1767225600") != std::string::npos);
}

TEST_CASE("the CLI replays an OpenMetrics file with kube_pod_labels") {
  CanaryScenarioOptions o;
  o.seed = 3;
  o.regression = CanaryRegression::kPlateau;
  o.plateau_factor = 1.4;  // Far beyond the 10 % tolerance and the pods' spread.
  o.history_s = 1800;
  o.watch_s = 3600;
  auto sc = MakeCanaryScenario(o);
  REQUIRE(sc.ok());
  const std::string path = "canary_cli_test.om";
  {
    std::ofstream f(path);
    WriteCanaryScenarioOpenMetrics(*sc, f);
  }
  std::ostringstream out, err;
  int rc =
      RunCanaryCommand({"--openmetrics", path, "--namespace", "shop", "--baseline", "track=stable",
                        "--canary", "track=canary", "--eval-step", "60s", "-o", "json"},
                       out, err);
  REQUIRE(rc == 0);
  std::istringstream lines(out.str());
  std::string line, last;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    last = line;
  }
  CHECK(n == static_cast<int>((sc->end_t - o.start_s) / 60) + 1);
  CHECK(last.find("\"verdict\":\"fail\"") != std::string::npos);
  CHECK(last.find("\"aspect\":\"level\"") != std::string::npos);
  CHECK(last.find("\"baseline_pods\":4") != std::string::npos);
  CHECK(last.find("\"canary_pods\":2") != std::string::npos);
  std::remove(path.c_str());

  std::ostringstream out2, err2;
  CHECK(RunCanaryCommand({"--openmetrics", path}, out2, err2) == 2);
  CHECK(RunCanaryCommand({"--bogus", "1"}, out2, err2) == 2);
  CHECK(err2.str().find("unknown flag --bogus") != std::string::npos);
}

TEST_CASE("serve's canary monitor publishes the three families") {
  auto m = CanaryMonitor::Create({Comparison()});
  REQUIRE(m.ok());
  auto pods = Fleet(1.3, 0);
  ForecastSnapshot snap;
  for (double t = 0; t <= 3600; t += 30) {
    snap.forecasts = std::make_shared<const std::vector<Forecast>>(At(t, pods));
    snap.last_success_unix_s = t;
    (*m)->Update(t, snap);
  }
  const std::string text = (*m)->Render();
  CHECK(text.find("memory_canary_verdict{namespace=\"shop\",canary=\"cart\",verdict=\"fail\"} 1") !=
        std::string::npos);
  CHECK(text.find("memory_canary_verdict{namespace=\"shop\",canary=\"cart\",verdict=\"pass\"} 0") !=
        std::string::npos);
  CHECK(text.find("memory_canary_p_value{namespace=\"shop\",canary=\"cart\"}") !=
        std::string::npos);
  CHECK(text.find("memory_canary_effect{namespace=\"shop\",canary=\"cart\",aspect=\"level\"} 0.") !=
        std::string::npos);
  CHECK(text.find("memory_canary_failed{namespace=\"shop\",canary=\"cart\",aspect=\"level\"} 1") !=
        std::string::npos);
  // A stale snapshot is not evaluated: the verdict stays.
  snap.last_success_unix_s = 0;
  (*m)->Update(7200, snap);
  CHECK((*m)->Verdicts()[0].t == 3600);
  // Without comparisons there is nothing to publish.
  auto none = CanaryMonitor::Create({});
  REQUIRE(none.ok());
  CHECK((*none)->Render().empty());
}

TEST_CASE("the engine hands containers it withholds while warming up to the canary monitor") {
  CanaryScenarioOptions o;
  o.seed = 3;
  o.history_s = 1800;
  o.watch_s = 1800;
  auto sc = MakeCanaryScenario(o);
  REQUIRE(sc.ok());
  ReplayClock clock(sc->rollout_t + 180);
  HistoryPrometheusClient client(std::move(sc->series), &clock, PredictorLabels());
  EngineConfig config;  // As `serve` runs it: publish_warming_up off.
  Engine engine(config, &client, &clock);
  REQUIRE(engine.RunCycle().ok());
  const ForecastSnapshot snap = engine.Snapshot();
  // The canary pods started 3 minutes ago: warming up, so not served as forecasts...
  for (const Forecast& f : *snap.forecasts) CHECK(f.key.pod.find("canary") == std::string::npos);
  // ...but their current samples are in the snapshot, marked.
  REQUIRE(snap.withheld_warming_up != nullptr);
  int canary = 0;
  for (const Forecast& f : *snap.withheld_warming_up) {
    CHECK(f.warming_up);
    CHECK(std::isfinite(f.rss_bytes));
    canary += f.key.pod.find("canary") != std::string::npos ? 1 : 0;
  }
  CHECK(canary == 2);
}

TEST_CASE("serve's canary monitor tests the growth before the forecaster's warm-up ends") {
  // A snapshot as the engine publishes it: warming-up containers withheld from `forecasts`.
  auto run = [](bool hand_withheld) {
    CanaryComparisonConfig cfg = Comparison();
    cfg.tolerances.level_increase = 10;
    cfg.tolerances.min_samples = 5;  // Growth spans from 3 x 5 x 15 s.
    auto m = CanaryMonitor::Create({cfg});
    REQUIRE(m.ok());
    auto pods = Fleet(1.0, 500e3);
    const double t0 = 1767225600;  // The rollout (canary pods start).
    for (FakePod& p : pods) {
      p.wiggle = 0.001;  // Slopes precise over the shortest span.
      p.start += t0;
    }
    double first_growth_test = 0;
    // The predictor watched the baseline for an hour before the rollout, every 15 s.
    for (double t = -3600; t <= 1200; t += 15) {
      auto published = std::make_shared<std::vector<Forecast>>();
      auto withheld = std::make_shared<std::vector<Forecast>>();
      for (const Forecast& f : At(t0 + t, pods)) {
        (f.warming_up ? withheld : published)->push_back(f);
      }
      ForecastSnapshot snap;
      snap.forecasts = published;
      if (hand_withheld) snap.withheld_warming_up = withheld;
      snap.last_success_unix_s = t0 + t;
      (*m)->Update(t0 + t, snap);
      if (first_growth_test == 0 && (*m)->Verdicts()[0].aspects[kGrowth].tests > 0) {
        first_growth_test = t;
      }
    }
    return first_growth_test;
  };
  const double with = run(true), without = run(false);
  // The canary pods start at 0 and the model trusts them from 600 s: without the withheld
  // containers the comparison sees them only from then on, and their growth samples from 720 s.
  INFO("first growth test with the withheld containers at " << with << " s, without at " << without
                                                            << " s");
  CHECK(with > 0);
  CHECK(with < 720);
  CHECK(without > 720);
}
