// The live canary comparisons of `serve` and their /metrics families (DESIGN.md "Canary drift"):
//   memory_canary_verdict{namespace, canary, verdict="pass"|"fail"|"inconclusive"}: 1 for the
//     current verdict, 0 for the other two.
//   memory_canary_p_value{namespace, canary}: smallest sequentially adjusted p-value of the last
//     look (compare with the comparison's alpha); absent before the first look.
//   memory_canary_effect{namespace, canary, aspect="level"|"growth"|"spread"}: level and spread
//     as canary / baseline - 1, growth in bytes per second; absent until tested.
//   memory_canary_failed{namespace, canary, aspect}: 1 for the aspect that failed the watch;
//     present only while the verdict is fail (what the controller reports).
// `canary` is the comparison's name.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "oomcast/predictor/canary.h"
#include "oomcast/predictor/forecast.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

// Thread-safe: Update() from the engine's cycle thread, Render() and Verdicts() from any.
class CanaryMonitor {
 public:
  // InvalidArgument naming the comparison when one does not validate.
  static StatusOr<std::unique_ptr<CanaryMonitor>> Create(
      const std::vector<CanaryComparisonConfig>& comparisons);

  // One evaluation of every comparison at `now` from the engine's current forecasts and the
  // ones it withholds while warming up (snapshot.withheld_warming_up: the growth test does not
  // wait for the forecaster's warm-up). A stale snapshot (no successful cycle within its
  // staleness) is not evaluated: the verdicts keep their last value.
  void Update(double now, const ForecastSnapshot& snapshot);

  // Text exposition format 0.0.4 of the three families (empty without comparisons).
  std::string Render() const;

  std::vector<CanaryVerdict> Verdicts() const;

 private:
  CanaryMonitor() = default;
  mutable std::mutex mu_;
  std::vector<CanaryComparator> comparators_;  // Guarded by mu_.
};

}  // namespace oomcast::predictor
