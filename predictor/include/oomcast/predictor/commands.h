// The oomcast-predictor subcommands as library functions, so tests can drive them; main.cc only
// parses argv and wires the real clock and clients. Each returns a process exit code:
// 0 success, 1 run-time failure (TSDB down...), 2 usage or configuration error.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/predictor/config.h"
#include "oomcast/predictor/forecast.h"
#include "oomcast/prometheus_client.h"

namespace oomcast::predictor {

enum class OutputFormat { kTable, kJson };

// One forecast pass against a TSDB: backfills the window, forecasts, prints.
int RunOnce(const PredictorConfig& config, OutputFormat format, PrometheusClient* client,
            Clock* clock, std::ostream& out, std::ostream& err);

// The forecast at the end of (or at `at_unix_s` within) a recorded history in an OpenMetrics
// file (the format of the dev corpus and of data/sample/), replayed as the live predictor
// would have seen it. No TSDB needed.
int RunOnceOpenMetrics(const PredictorConfig& config, const std::string& path, double at_unix_s,
                       OutputFormat format, std::ostream& out, std::ostream& err);

struct BacktestRequest {
  std::string openmetrics_path;  // Either this...
  double start_s = kNaN;         // ...or a TSDB range (with a client): evaluation start/end.
  double end_s = kNaN;
  std::string truth_path;  // Optional truth.json; without it kills are inferred.
  double eval_step_seconds = 30;
  std::string records_path;   // JSON lines of every forecast; "-" = stdout; "" = none.
  bool summary_json = false;  // Summary as one JSON object instead of text.
  std::string report_path;    // Non-empty: write the HTML report there (html_report.h).
};

// Replays history (file or TSDB) through the model and scores it (see backtest.h).
int RunBacktest(const PredictorConfig& config, const BacktestRequest& request,
                PrometheusClient* client, std::ostream& out, std::ostream& err);

// The polling loop with /metrics, /healthz, /readyz on config.listen_address until `stop`.
int RunServe(const PredictorConfig& config, PrometheusClient* client, Clock* clock,
             const std::atomic<bool>& stop, std::ostream& err);

}  // namespace oomcast::predictor
