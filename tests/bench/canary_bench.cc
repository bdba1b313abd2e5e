// Benchmark of the canary comparison on simulated rollouts (predictor/src/canary_sim.cc):
// A/A runs, a slow leak, a higher plateau, a wider GC sawtooth, and A/A runs where one baseline
// pod restarts. Each run replays the scenario (data up to t only, 30 s evaluation step) over a
// 3-hour watch from the rollout and records whether and when the verdict first became `fail`.
//
// Usage: canary_bench [--runs N] [--baseline-pods N] [--canary-pods N] [--lead-in-s S] [--json]
//                     [--scenario NAME]  (only that scenario)
//        canary_bench --write-openmetrics FILE [--scenario NAME] [--seed N]  (one scenario as
//        OpenMetrics, for `oomcast-predictor canary` and the end-to-end test)
// Prints per scenario: runs, share failed, median / p90 time from the rollout (the start of the
// regression) to the first failing verdict, and the aspect that failed most often.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "oomcast/predictor/canary_replay.h"
#include "oomcast/predictor/canary_sim.h"
#include "oomcast/predictor/engine.h"

using namespace oomcast::predictor;

namespace {

struct Scenario {
  const char* name;
  CanaryRegression regression;
  bool bad;  // A regression the comparison should fail.
};

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 100, baseline_pods = 4, canary_pods = 2;
  double step_seconds = 15;  // The live predictor's cycle (engine interval_seconds).
  // The replay starts this long before the rollout (at most the scenario's baseline history):
  // the predictor was already watching the baseline pods. 0: from the rollout.
  int lead_in_seconds = 3600;
  bool json = false;
  std::string write_path, only_scenario;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (!std::strcmp(argv[i], "--write-openmetrics") && i + 1 < argc)
      write_path = argv[++i];
    else if (!std::strcmp(argv[i], "--scenario") && i + 1 < argc)
      only_scenario = argv[++i];
    else if (!std::strcmp(argv[i], "--seed"))
      seed = static_cast<uint64_t>(next());
    else if (!std::strcmp(argv[i], "--runs"))
      runs = next();
    else if (!std::strcmp(argv[i], "--baseline-pods"))
      baseline_pods = next();
    else if (!std::strcmp(argv[i], "--canary-pods"))
      canary_pods = next();
    else if (!std::strcmp(argv[i], "--lead-in-s"))
      lead_in_seconds = next();
    else if (!std::strcmp(argv[i], "--json"))
      json = true;
    else {
      std::fprintf(
          stderr,
          "usage: canary_bench [--runs N] [--baseline-pods N] [--canary-pods N] [--lead-in-s S] "
          "[--json] [--scenario NAME]\n");
      return 2;
    }
  }
  if (runs <= 0 || baseline_pods <= 0 || canary_pods <= 0 || lead_in_seconds < 0) return 2;
  const Scenario scenarios[] = {
      {"aa", CanaryRegression::kNone, false},
      {"aa_baseline_restart", CanaryRegression::kBaselineRestart, false},
      {"leak_50kBps", CanaryRegression::kLeak, true},
      {"plateau_15pct", CanaryRegression::kPlateau, true},
      {"wider_sawtooth_2x", CanaryRegression::kWiderSawtooth, true},
  };
  if (!write_path.empty()) {
    const std::string write_scenario = only_scenario.empty() ? "aa" : only_scenario;
    for (const Scenario& s : scenarios) {
      if (write_scenario != s.name) continue;
      CanaryScenarioOptions o;
      o.seed = seed;
      o.regression = s.regression;
      o.baseline_pods = baseline_pods;
      o.canary_pods = canary_pods;
      auto sc = MakeCanaryScenario(o);
      if (!sc.ok()) return 2;
      std::ofstream f(write_path);
      WriteCanaryScenarioOpenMetrics(*sc, f);
      std::printf("wrote %s: rollout at %.0f, end %.0f\n", write_path.c_str(), sc->rollout_t,
                  sc->end_t);
      return f ? 0 : 1;
    }
    std::fprintf(stderr, "unknown scenario %s\n", write_scenario.c_str());
    return 2;
  }
  CanaryComparisonConfig comparison;
  comparison.name = "bench";
  comparison.namespace_name = "shop";
  comparison.baseline_selector = "app=cart,track=stable";
  comparison.canary_selector = "app=cart,track=canary";
  if (!json) {
    std::printf("%-22s %5s %8s %12s %12s  %s\n", "scenario", "runs", "failed", "median_s", "p90_s",
                "aspects failed");
  }
  int exit_code = 0;
  for (const Scenario& s : scenarios) {
    if (!only_scenario.empty() && only_scenario != s.name) continue;
    int failed = 0;
    std::vector<double> latency;
    std::map<std::string, int> aspects;
    for (int r = 0; r < runs; ++r) {
      CanaryScenarioOptions o;
      o.seed = 1000 + static_cast<uint64_t>(r) * 7919 + static_cast<uint64_t>(s.regression);
      o.regression = s.regression;
      o.baseline_pods = baseline_pods;
      o.canary_pods = canary_pods;
      auto sc = MakeCanaryScenario(o);
      if (!sc.ok()) {
        std::fprintf(stderr, "%s\n", sc.status().ToString().c_str());
        return 1;
      }
      BacktestOptions bo;
      bo.step_seconds = step_seconds;
      bo.start_s = sc->rollout_t - std::min<double>(lead_in_seconds, o.history_s);
      bo.end_s = sc->end_t;
      double fail_t = 0;
      int aspect = -1;
      ReplayClock clock;
      HistoryPrometheusClient client(std::move(sc->series), &clock, PredictorLabels());
      auto st = ReplayCanary(&client, &clock, comparison, bo, [&](const CanaryVerdict& v) {
        if (fail_t == 0 && v.verdict == CanaryVerdictKind::kFail) {
          fail_t = v.t;
          aspect = v.failed_aspect;
        }
      });
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", st.ToString().c_str());
        return 1;
      }
      if (fail_t > 0) {
        ++failed;
        latency.push_back(fail_t - sc->rollout_t);
        aspects[CanaryAspectName(aspect)]++;
      }
    }
    std::string by;
    for (const auto& [a, n] : aspects) by += a + "=" + std::to_string(n) + " ";
    const double share = static_cast<double>(failed) / runs;
    if (json) {
      std::printf(
          "{\"scenario\":\"%s\",\"runs\":%d,\"failed_share\":%.4f,\"median_s\":%.0f,"
          "\"p90_s\":%.0f,\"aspects\":\"%s\"}\n",
          s.name, runs, share, Quantile(latency, 0.5), Quantile(latency, 0.9), by.c_str());
    } else {
      std::printf("%-22s %5d %7.1f%% %12.0f %12.0f  %s\n", s.name, runs, 100 * share,
                  Quantile(latency, 0.5), Quantile(latency, 0.9), by.c_str());
    }
    std::fflush(stdout);
  }
  return exit_code;
}
