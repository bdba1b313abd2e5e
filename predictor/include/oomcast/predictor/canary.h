// The canary memory comparison (DESIGN.md "Canary drift"): a baseline and a canary group of pods
// (label selectors over pod labels, one namespace), compared on memory level, growth and spread
// from per-pod summaries, with a verdict that stays valid however often it is looked at.
// Pure computation: fed the forecasts of each evaluation (the engine's snapshot live, the replay
// of recorded history in the CLI and the benchmark), no I/O, no clock. docs/canary.md.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "oomcast/label_selector.h"
#include "oomcast/predictor/forecast.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

enum class CanaryTest { kStudentT, kMannWhitney };

// How much worse the canary may be before it fails, and how sure the test must be.
// The defaults follow Kayenta's habit of a 10 % allowed increase on the level.
struct CanaryTolerances {
  // Level: canary per-pod level (midpoint of the 10th and 90th percentiles of the samples of the
  // recent window) above the baseline's by more than this fraction (0.10: +10 %), geometric
  // means of the groups.
  double level_increase = 0.10;
  // Growth: canary mean growth rate (per-pod resistant-line trend, fitted over the same span for
  // every pod) above the baseline's by more than this, bytes per second.
  double growth_bytes_per_second = 10 * 1024;
  // The growth span: the history of the youngest canary pod past its start-up ramp
  // (warmup_seconds; the growth aspect does not wait for the forecaster's warm-up), at most this
  // many seconds. No growth test while it is shorter than the measured minimum span (the shortest
  // span over which the baseline pods' own resistant-line slopes scatter by at most
  // growth_bytes_per_second, canary::MinGrowthSpan), nor shorter than min_growth_span_seconds.
  double growth_window_seconds = 3600;
  double min_growth_span_seconds = 120;
  // Spread: canary per-pod sawtooth amplitude (detrended mean absolute deviation) above the
  // baseline's by more than this fraction (0.5: +50 %), geometric means.
  double spread_increase = 0.5;
  // Probability of a false `fail` over the whole watch, all looks and all three aspects
  // together (split 1/2 level, 1/3 growth, 1/6 spread; each share spent over the aspect's tests
  // by canary::AlphaAtLook, 3/4 of it at the first test).
  double alpha = 0.05;
  CanaryTest test = CanaryTest::kStudentT;
  // A pod (instance) counts for the level and the spread once the forecaster trusts its fit (not
  // warming up) and this much longer, seconds; for the growth this long after its first current
  // sample: start-up and restart ramps are not the level.
  double warmup_seconds = 120;
  // The level and the spread are summaries of the pod's samples of the last this many seconds.
  double window_seconds = 900;
  // The level and the spread are tested once the canary pods' common window (their history past
  // warm-up) is at least this long (at most window_seconds), seconds.
  double min_window_seconds = 600;
  // Looks (tests) happen every this many seconds from the start of the watch; the verdict
  // between looks is the last look's.
  double look_interval_seconds = 300;
  // Fewer usable pods than this in either group: inconclusive.
  int min_baseline_pods = 2;
  int min_canary_pods = 1;
  // A pod with fewer window samples than this is not usable yet.
  int min_samples = 10;
  // The watch (looks, a latched fail) starts over when the canary group has been empty this long
  // (the rollout ended or was aborted), seconds.
  double reset_after_seconds = 600;
};

// One comparison, as configured in the predictor's YAML `canary:` list.
struct CanaryComparisonConfig {
  std::string name;
  std::string namespace_name;
  std::string baseline_selector;  // Label selector over pod labels (lib/label_selector.h).
  std::string canary_selector;
  CanaryTolerances tolerances;
};

// Checks a comparison: name and namespace set, selectors parse, tolerances in range, and the
// two selectors not the same text. InvalidArgument naming the field (prefixed with `path`).
Status ValidateCanaryComparison(const CanaryComparisonConfig& config, const std::string& path);

enum class CanaryVerdictKind { kInconclusive, kPass, kFail };
const char* CanaryVerdictName(CanaryVerdictKind v);  // "inconclusive", "pass", "fail".

enum CanaryAspect { kLevel = 0, kGrowth = 1, kSpread = 2 };
constexpr size_t kCanaryAspects = 3;
const char* CanaryAspectName(size_t aspect);  // "level", "growth", "spread".

struct CanaryAspectResult {
  bool tested = false;      // False: too few usable pods for this aspect at the last look.
  size_t tests = 0;         // Looks of this watch at which the aspect was tested.
  double effect = kNaN;     // Level, spread: canary / baseline - 1; growth: bytes per second.
  double tolerance = kNaN;  // The effect allowed (same unit).
  double p_value = kNaN;    // Raw one-sided p-value of the last look's test.
  double alpha = kNaN;      // The level this test's p-value had to reach (AlphaAtLook(tests)).
  // p_value scaled to the whole watch (p / alpha_at_look x alpha, capped at 1): compare with
  // CanaryTolerances::alpha.
  double adjusted_p_value = kNaN;
  bool failed = false;  // Significant and beyond the tolerance.
};

struct CanaryVerdict {
  double t = 0;  // Evaluation time, Unix seconds.
  CanaryVerdictKind verdict = CanaryVerdictKind::kInconclusive;
  std::string reason;       // Why inconclusive / which aspect failed and by how much.
  int baseline_pods = 0;    // Pods matching the baseline selector with a current forecast.
  int canary_pods = 0;      // ... the canary selector.
  int baseline_usable = 0;  // ... past warm-up with enough samples (tested).
  int canary_usable = 0;
  size_t looks = 0;          // Looks taken in this watch.
  double watch_start_t = 0;  // 0: no watch.
  double failed_at_t = 0;    // Look at which the watch failed; 0: not failed.
  int failed_aspect = -1;    // CanaryAspect that failed first; -1: none.
  // Smallest adjusted p-value over the aspects of the last look (NaN before the first look) and
  // the effect of the failed aspect, else of the aspect closest to its tolerance.
  double p_value = kNaN;
  double effect = kNaN;
  int effect_aspect = -1;
  // The growth test's minimum span measured at the last look (canary::MinGrowthSpan), seconds;
  // NaN: not measurable yet.
  double growth_min_span = kNaN;
  std::array<CanaryAspectResult, kCanaryAspects> aspects;
};

// One JSON object (one line, no newline): {"t","verdict","p_value","effect","baseline_pods",
// "canary_pods", "name", "namespace", "reason", "aspect", "looks", "aspects": {level:{...},...}};
// non-finite numbers are null.
std::string CanaryVerdictJson(const CanaryComparisonConfig& config, const CanaryVerdict& v);

// State of one comparison. Not thread-safe: the owner serializes calls.
class CanaryComparator {
 public:
  // InvalidArgument when the config does not validate.
  static StatusOr<CanaryComparator> Create(CanaryComparisonConfig config);

  // One evaluation at `now` (Unix seconds, non-decreasing) from the current forecasts of every
  // container (any namespace; the comparison picks its own). A pod is the sum of its
  // containers. Forecasts marked warming_up, or older than 120 s, leave their pod out of this
  // evaluation; a pod that comes back after that (a restart) starts its warm-up again.
  const CanaryVerdict& Update(double now, const std::vector<Forecast>& forecasts);

  const CanaryVerdict& verdict() const { return verdict_; }
  const CanaryComparisonConfig& config() const { return config_; }

 private:
  struct Pod {
    double instance_start_t = 0;  // First evaluation of this instance with a current sample.
    double trusted_t = 0;         // First evaluation past the model's warm-up; 0: not yet.
    double last_seen_t = 0;       // Last evaluation the pod was usable in.
    double last_sample_t = 0;     // Newest sample time taken into the window.
    // (sample time s, pod bytes) of the last max(window, growth window) seconds past
    // instance_start_t + warmup_seconds.
    std::deque<std::pair<double, double>> window;
  };
  int RecentSamples(const Pod& p, double now) const;  // Window samples of the last window_s.
  // Start of the samples counted for the level and the spread: the model's warm-up +
  // warmup_seconds.
  double LevelFrom(const Pod& p) const { return p.trusted_t + config_.tolerances.warmup_seconds; }
  // The spans (seconds) of one look, the same for every pod of both groups.
  struct LookSpans {
    double window = 0;           // Level and spread: min(window_seconds, youngest canary history).
    double growth_span = 0;      // Growth: min(growth_window_seconds, youngest canary history).
    double growth_min_span = 0;  // Shortest span with slope noise in tolerance; NaN: unknown.
    bool growth_ready = false;   // growth_span reaches growth_min_span and min_growth_span_seconds.
  };
  LookSpans Spans(double now, const std::vector<const Pod*>& canary,
                  const std::vector<const Pod*>& baseline_growth,
                  const std::vector<const Pod*>& canary_growth) const;
  // Per-pod summaries of `aspect` over the look's spans: log level and log spread (ratios),
  // growth in bytes per second (none until spans.growth_ready). Pods with less history than the
  // span or fewer than min_samples samples in it are left out.
  std::vector<double> Summaries(double now, const LookSpans& spans,
                                const std::vector<const Pod*>& pods, size_t aspect) const;
  CanaryComparator(CanaryComparisonConfig config, LabelSelector baseline, LabelSelector canary);
  // `baseline`/`canary`: pods past the model's warm-up (level, spread); `*_growth`: pods past
  // their start-up ramp (a superset).
  void Look(double now, const std::vector<const Pod*>& baseline,
            const std::vector<const Pod*>& canary, const std::vector<const Pod*>& baseline_growth,
            const std::vector<const Pod*>& canary_growth);
  void ResetWatch();

  CanaryComparisonConfig config_;
  LabelSelector baseline_;
  LabelSelector canary_;
  std::map<std::string, Pod> pods_;  // By pod name, both groups.
  CanaryVerdict verdict_;
  double canary_absent_since_ = 0;  // 0: canary pods present (or never seen).
};

}  // namespace oomcast::predictor
