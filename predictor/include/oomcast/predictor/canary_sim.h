// Canary scenarios for the canary comparison's benchmark and tests: one application's pods, a
// baseline group running since before the rollout and a canary group started at the rollout,
// with the memory physics of the project's simulator (a GC sawtooth over a floor, scrape noise,
// a kernel-style restart) and an optional regression of the canary version. Deterministic: the
// same options give the same samples on every platform.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "oomcast/predictor/history_client.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

enum class CanaryRegression {
  kNone,             // A/A: the canary runs the baseline's version.
  kLeak,             // The canary's floor grows by leak_bytes_per_second from its start.
  kPlateau,          // The canary holds plateau_factor x the baseline's memory.
  kWiderSawtooth,    // The canary's GC sawtooth is sawtooth_factor x as tall.
  kBaselineRestart,  // A/A, and one baseline pod restarts during the watch.
};

struct CanaryScenarioOptions {
  uint64_t seed = 1;
  double start_s = 1767225600;  // 2026-01-01T00:00:00Z: the baseline pods' history begins.
  double history_s = 3600;      // Baseline history before the rollout, seconds.
  double watch_s = 3 * 3600;    // From the rollout (canary pods start) to the end, seconds.
  double step_s = 15;           // Scrape interval.
  int baseline_pods = 4;
  int canary_pods = 2;
  CanaryRegression regression = CanaryRegression::kNone;
  double leak_bytes_per_second = 50e3;
  double plateau_factor = 1.15;
  double sawtooth_factor = 2.0;
  std::string namespace_name = "shop";
  std::string app = "cart";
};

struct CanaryScenario {
  // Per pod (container "app"): container_memory_working_set_bytes and container_memory_rss (the
  // same values), container_spec_memory_limit_bytes, and kube_pod_labels{namespace, pod,
  // label_app, label_track="stable"|"canary"} (value 1 at every scrape while the pod runs).
  std::vector<RecordedSeries> series;
  double rollout_t = 0;  // Canary pods start; the regression (if any) starts here.
  double end_t = 0;
};

// Generates a scenario. InvalidArgument for non-positive durations, step or pod counts.
StatusOr<CanaryScenario> MakeCanaryScenario(const CanaryScenarioOptions& options);

// Writes the scenario's series as OpenMetrics with timestamps, then "# EOF".
void WriteCanaryScenarioOpenMetrics(const CanaryScenario& scenario, std::ostream& out);

}  // namespace oomcast::predictor
