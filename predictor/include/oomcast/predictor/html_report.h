// The backtest as one self-contained HTML page: how an operator (or a developer) sees why a
// forecast was wrong. No network: data, styles and the drawing script are inline; it opens from
// disk in any browser.
#pragma once

#include <ostream>
#include <string>

#include "oomcast/predictor/backtest.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

struct HtmlReportOptions {
  std::string title = "oomcast backtest";
  std::string source;            // What was replayed (a file, a TSDB URL), shown under the title.
  double horizon_seconds = 900;  // The forecast trend is drawn at now + horizon.
  // Points drawn per container and series at most (memory is reduced to per-bucket min and
  // max, so peaks survive); keeps a page of thousands of containers a few MB.
  size_t max_points = 600;
  // Per-container scores (the windows of BacktestOptions / score.py).
  double score_horizon_seconds = 900;
  double score_tolerance_seconds = 300;
  double score_grace_seconds = 60;
};

// Writes the page: the summary scores (the figures of WriteSummaryJson) and, per container of
// run.history, an inline SVG plot of memory, limit, forecast trend (memory + growth rate x
// horizon at each forecast), alarm periods and kills, with that container's scores (missed
// kills: predictable episodes not warned 15 minutes ahead; false-alarm episodes). Containers
// are sorted worst first: most missed kills, then most false-alarm episodes, then by name.
// run.forecasts must be filled (RunBacktest(..., keep_forecasts = true)).
// Each plot is an <svg class="plot" data-container="ns/pod/container"> with <path> elements of
// classes memory, limit, trend and <rect class="alarm">, <line class="kill">, drawn by the
// inline script when the page loads.
Status WriteHtmlReport(const BacktestRun& run, const HtmlReportOptions& options, std::ostream& out);

}  // namespace oomcast::predictor
