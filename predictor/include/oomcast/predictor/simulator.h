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
#include <string_view>
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

// Real curves as background (SimulateRealCurves): memory of real containers as a fraction of
// their limit, with leaks injected on top.
struct RealCurveOptions {
  uint64_t seed = 1;
  double step_s = 60;  // Scrape interval (seconds).
  // Variants per curve: each a different limit and (or not) a different leak.
  int variants_per_curve = 1;
  // Share of the variants that get a leak (the rest are the curve alone: most real pods never
  // approach their limit).
  double leak_fraction = 0.5;
  // The kind of every leak (RealCurveLeakKinds()); empty: drawn at random among the leaks.
  std::string leak_kind;
  // Curves to use (ids of the CSV's container column); empty: all of them.
  std::vector<std::string> curves;
  std::string namespace_name = "real";
  std::string container_name = "app";
};

// One real curve: times (Unix seconds, increasing) and values (fraction of the limit).
struct RealCurve {
  std::string id;
  std::vector<double> t;
  std::vector<double> value;
};

// Parses the CSV of ../shared/data/real-curves (header "value,timestamp,container", then one
// sample a line, in any order); the curves come back sorted by id, samples by time.
// InvalidArgument on a malformed line.
StatusOr<std::vector<RealCurve>> ParseRealCurvesCsv(std::string_view text);
// The same from a file, gzip-compressed or not.
StatusOr<std::vector<RealCurve>> ReadRealCurvesFile(const std::string& path);

// Leaks injected on real curves (family "real_<kind>"): none, linear, exp (exponential),
// step (staircase), stop (a linear leak that stops below the limit and holds), fast (a climb
// to the limit in 6 to 20 minutes). A leak starts after hours of the curve alone; it restarts
// from zero in each new instance (the same bug), after a fresh delay.
std::vector<std::string> RealCurveLeakKinds();

// Writes the same OpenMetrics + truth as Simulate(), from real curves. Physics, on a tick of at
// most 5 s: usage = (curve(t) + leak(t)) x limit, the curve interpolated linearly between its
// samples (a drop of more than 25 % is a step midway between them, not a ramp; a gap of
// more than 3 of its own steps is not bridged: no samples there). The kernel kills when usage
// reaches the limit, at that tick (oom_times); a scrape only sees the memory before and the new
// instance after it: after a kubelet back-off (10 s doubling to 5 min) the container comes back at
// the curve's own level with the leak reset. A drop in the curve itself from >= 0.95 to less than
// half is a real kill of the recorded pod and is in the truth too. The working set is the usage
// (what the kernel counts); RSS is the usage less a page cache of 2-8 % of the limit.
StatusOr<std::vector<TruthSeries>> SimulateRealCurves(const std::vector<RealCurve>& curves,
                                                      const RealCurveOptions& options,
                                                      std::ostream& openmetrics);

// SimulateRealCurves() from a CSV file into files (OpenMetrics gzip-compressed when the path
// ends in ".gz").
Status SimulateRealCurvesToFiles(const std::string& csv_path, const RealCurveOptions& options,
                                 const std::string& openmetrics_path,
                                 const std::string& truth_path);

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
