// The project's workload simulator: container memory that does, and does not, run out, in the
// format of the dev scenario corpus (OpenMetrics with timestamps + truth.json). Deterministic:
// the same options (seed included) give byte-identical output on every platform.
//
// Physics: each container has a memory demand shaped by its family; a sample at or above the
// limit is the kernel's OOM kill (written at the limit); the container then restarts at its
// baseline after a kubelet-style back-off (10 s doubling to 5 min, reset after 10 min running),
// with no samples while it is down.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "oomcast/predictor/backtest.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

struct SimulatorOptions {
  uint64_t seed = 1;
  double start_s = 1767225600;  // 2026-01-01T00:00:00Z.
  double duration_s = 3 * 3600;
  double step_s = 15;  // Scrape interval.
  int containers_per_family = 2;
  // Families to simulate (SimulatorFamilies() names); empty: all of them.
  std::vector<std::string> families;
  std::string namespace_name = "sample";
  std::string container_name = "app";
};

// Names of the families, in output order: flat, leak_linear, leak_accel, leak_step, gc_stable,
// gc_leak, diurnal_stable, diurnal_oom, warmup_plateau, spike, batch, leak_gappy.
std::vector<std::string> SimulatorFamilies();

// Runs the simulation; writes OpenMetrics text (three gauges per container:
// container_memory_rss, container_memory_working_set_bytes, container_spec_memory_limit_bytes;
// labels namespace, pod, container; timestamps in seconds; "# EOF" at the end) to `openmetrics`
// and returns the truth (pods are named "<family with - for _>-NN"). InvalidArgument for an
// unknown family or non-positive duration/step/count.
StatusOr<std::vector<TruthSeries>> Simulate(const SimulatorOptions& options,
                                            std::ostream& openmetrics);

// Writes the truth as JSON in the schema of the dev corpus' truth.json.
void WriteTruthJson(const std::vector<TruthSeries>& truth, double step_s, std::ostream& out);

// Simulate() into files: `openmetrics_path` is gzip-compressed when it ends in ".gz".
Status SimulateToFiles(const SimulatorOptions& options, const std::string& openmetrics_path,
                       const std::string& truth_path);

}  // namespace oomcast::predictor
