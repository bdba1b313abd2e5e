// Backtest: replays memory history through ContainerModel exactly as the live predictor would
// have seen it (at each evaluation time t only samples <= t have been fed), writes one record per
// container per evaluation step, and scores the alarms against known or inferred OOM kills with
// the definitions of tools/score.py (horizon 900 s, tolerance 300 s, kills < 900 s apart form
// one episode).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/predictor/forecast.h"
#include "oomcast/predictor/model.h"
#include "oomcast/predictor/openmetrics.h"
#include "oomcast/prometheus_client.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

// The history of one container: memory samples and limit samples (both sorted by time).
struct ContainerHistory {
  std::vector<double> t;        // Unix seconds.
  std::vector<double> bytes;    // Memory metric (RSS or working set), bytes.
  std::vector<double> limit_t;  // Unix seconds.
  std::vector<double> limit_bytes;
  // Limit in force at `t`: the newest limit sample <= t, NaN when none (or 0/negative: none).
  double LimitAt(double t) const;
};
using HistoryMap = std::map<ContainerKey, ContainerHistory>;

// Builds the history from OpenMetrics data: series of `memory_metric` and `limit_metric`,
// keyed by their namespace, pod and container labels (series lacking them are skipped).
HistoryMap HistoryFromOpenMetrics(
    const OpenMetricsData& data, std::string_view memory_metric = "container_memory_rss",
    std::string_view limit_metric = "container_spec_memory_limit_bytes");

// Builds the history from Prometheus query_range results (memory and limit queries).
HistoryMap HistoryFromSeries(const std::vector<SeriesData>& memory,
                             const std::vector<SeriesData>& limits);

struct BacktestOptions {
  double step_seconds = 30;  // Evaluation step.
  double start_s = kNaN;     // First evaluation time; NaN: the first sample, rounded up to step.
  double end_s = kNaN;       // Last evaluation time; NaN: the newest sample.
  ModelConfig model;
  // Scoring windows (tools/score.py defaults).
  double score_horizon_seconds = 900;
  double score_tolerance_seconds = 300;
};

// One forecast of the replay.
struct BacktestRecord {
  const ContainerKey* key = nullptr;  // Valid during the sink call.
  double t = 0;
  double rss_bytes = kNaN;
  double limit_bytes = kNaN;
  double growth_rate_bytes_per_second = 0;
  double acceleration_bytes_per_second2 = 0;
  double eta_seconds = kInf;
  double risk = 0;
  bool oom_predicted = false;
  bool warming_up = true;
};

// Writes `record` as one JSON line: {"namespace","pod","container","t","rss","limit",
// "growth_rate","acceleration","eta_seconds","risk","oom_predicted","warming_up"}; non-finite
// numbers (+Inf ETA, NaN limit) are written as null.
void WriteRecordJson(const BacktestRecord& record, std::ostream& out);

// Replays `history`: for every evaluation time, feeds each container the samples <= t it has not
// seen, then calls `sink` with its forecast (containers with no sample yet are skipped).
// InvalidArgument for a non-positive step or an empty time range.
Status ReplayHistory(const HistoryMap& history, const BacktestOptions& options,
                     const std::function<void(const BacktestRecord&)>& sink);

// Ground truth of one container, as in the dev corpus' truth.json.
struct TruthSeries {
  ContainerKey key;
  std::string family;
  double limit_bytes = kNaN;
  std::vector<double> oom_times;  // Unix seconds of every kill.
  bool predictable = true;
  std::vector<bool> predictable_each;  // Optional, per kill.
  double start = 0;
  double end = 0;
};

// Parses truth.json (an array of objects as in the dev corpus). InvalidArgument naming the entry
// on a malformed document.
StatusOr<std::vector<TruthSeries>> ParseTruthJson(std::string_view text);
StatusOr<std::vector<TruthSeries>> ReadTruthFile(const std::string& path);

// Kills inferred from the data when there is no truth file: a memory sample at or above
// `kill_fraction` x the limit followed by a drop (the next sample below 75% of it) or by a gap
// (a restart back-off, longer than 1.5x the usual sample interval). Family "inferred".
std::vector<TruthSeries> InferKills(const HistoryMap& history, double kill_fraction = 0.98);

// Alarm stream of one container: (t, oom_predicted) in time order.
using AlarmSeries = std::vector<std::pair<double, bool>>;

struct ScoreCounts {
  size_t series = 0;
  size_t points = 0;
  size_t true_alarm_points = 0;
  size_t early_alarm_points = 0;
  size_t false_alarm_points = 0;
  size_t false_alarm_episodes = 0;
  size_t episodes_predictable = 0;
  size_t episodes_unpredictable = 0;
  size_t unpredictable_warned = 0;
  size_t recall_300 = 0;
  size_t recall_600 = 0;
  size_t recall_870 = 0;
  double lead_sum = 0;
  double series_hours = 0;
};

struct ScoreSummary {
  size_t episodes_predictable = 0;
  double recall_5m = 0;
  double recall_10m = 0;
  double recall_15m = 0;
  double median_lead_s = 0;
  double precision_points = 1;  // true / (true + false) alarm points; early ones excluded.
  size_t false_alarm_episodes = 0;
  double false_alarm_episodes_per_series_day = 0;
  size_t early_alarm_points = 0;
  size_t forecast_points = 0;
  size_t series_without_forecasts = 0;
  std::map<std::string, ScoreCounts> by_family;
  bool truth_inferred = false;  // Kills were inferred from the data (no truth file).
};

// Scores alarm streams against the truth exactly as tools/score.py does.
ScoreSummary ScoreAlarms(const std::vector<TruthSeries>& truth,
                         const std::map<ContainerKey, AlarmSeries>& alarms,
                         double horizon_seconds = 900, double tolerance_seconds = 300);

// The summary as one JSON object (the keys of score.py --json, plus "by_family").
void WriteSummaryJson(const ScoreSummary& summary, std::ostream& out);
// The summary as text, like score.py --by-family.
void WriteSummaryText(const ScoreSummary& summary, std::ostream& out);

// Replay + score in one call, for the CLI. Writes the records as JSON lines to `records_out`
// when not null. `truth` null: kills are inferred from the history (InferKills).
StatusOr<ScoreSummary> RunBacktest(const HistoryMap& history, const BacktestOptions& options,
                                   const std::vector<TruthSeries>* truth,
                                   std::ostream* records_out);

}  // namespace oomcast::predictor
