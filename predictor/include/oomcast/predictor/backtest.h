// Backtest: replays memory history through the live predictor's Engine (a
// HistoryPrometheusClient answers its queries with the data up to each evaluation time only),
// writes one record per published forecast, and scores the alarms against known or inferred OOM
// kills with the definitions of tools/score.py (horizon 900 s, tolerance 300 s, grace 60 s,
// kills < 900 s apart form one episode).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/predictor/engine.h"
#include "oomcast/predictor/forecast.h"
#include "oomcast/predictor/history_client.h"
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

// The metric name of a selector: "container_memory_rss" for `container_memory_rss{a="b"}`.
std::string MetricNameOf(std::string_view selector);

// Builds the history from OpenMetrics data: series of `memory_metric` and `limit_metric`,
// keyed by their namespace, pod and container labels (series lacking them are skipped). The
// default memory metric is RSS, what the simulator's corpora kill on (the engine's default
// series is the working set: pass MetricNameOf(queries.memory_query) to follow the config).
HistoryMap HistoryFromOpenMetrics(
    const OpenMetricsData& data, std::string_view memory_metric = "container_memory_rss",
    std::string_view limit_metric = "container_spec_memory_limit_bytes");

// Builds the history from Prometheus query_range results (memory and limit queries).
HistoryMap HistoryFromSeries(const std::vector<SeriesData>& memory,
                             const std::vector<SeriesData>& limits);

struct BacktestOptions {
  double step_seconds = 30;  // Evaluation step: one engine cycle per step.
  double start_s = kNaN;     // First evaluation time; NaN: the first sample, rounded up to step.
  double end_s = kNaN;       // Last evaluation time; NaN: the newest sample.
  // The live engine's settings the replay runs with: queries (memory series, limits, pod labels,
  // namespaces), model, backfill window, query step, staleness and drop-after. The replay records
  // warming-up forecasts too (marked warming_up), whatever publish_warming_up says.
  EngineConfig engine;
  // Scoring windows (tools/score.py defaults).
  double score_horizon_seconds = 900;
  double score_tolerance_seconds = 300;
  double score_grace_seconds = 60;
};

// Replays the history `client` holds through the real Engine, as the live predictor configured
// with options.engine would have run: for every evaluation time t (start, start + step, ...,
// <= end) the clock is set to t, the engine runs one cycle against `client` (which answers with
// data up to t only: raw samples of a range selector, limits and pod labels as instant
// queries), and `sink` gets every forecast the engine published at t. The engine starts one
// step before `start` (unrecorded), where its first cycle backfills its window with query_range
// as a live predictor starting then would; from the data's first sample (the default start)
// that backfill is empty and every sample arrives raw. `client` must answer as of `clock`
// (HistoryPrometheusClient(..., clock)). InvalidArgument for a non-positive step or an empty time
// range; FailedPrecondition when the history has no memory samples; a failed cycle's error (a
// replay has no TSDB to be down).
Status ReplayHistory(HistoryPrometheusClient* client, ReplayClock* clock,
                     const BacktestOptions& options,
                     const std::function<void(const Forecast&)>& sink);

// As above over a HistoryMap: its containers become series of the engine's memory and limit
// metrics (the metric names of options.engine.queries) labelled namespace, pod and container.
Status ReplayHistory(const HistoryMap& history, const BacktestOptions& options,
                     const std::function<void(const Forecast&)>& sink);

// The series the engine configured with `queries` reads from `client` (namespaces applied):
// the memory and limit metrics and, when queries.pod_labels_query is set, the pod labels (a
// failed pod labels pull is logged and skipped: they are optional). Raw samples in
// (start_s, end_s], fetched with instant queries of range selectors (`sel[7200s]` at the end of
// each chunk) so that the replay sees the samples themselves, as the live engine's incremental
// ingest does. `progress`, when set, is called after each query with (done, total) queries.
StatusOr<std::vector<RecordedSeries>> FetchRecorded(
    PrometheusClient* client, const QueryConfig& queries, double start_s, double end_s,
    double chunk_seconds = 7200, const std::function<void(size_t, size_t)>& progress = nullptr);

// The memory and limit history of the containers the engine configured with `queries` reads
// from `client`, every sample up to the client's now.
StatusOr<HistoryMap> HistoryFromClient(HistoryPrometheusClient* client, const QueryConfig& queries);

// Ground truth of one container, as in the dev corpus' truth.json.
struct TruthSeries {
  ContainerKey key;
  std::string family;
  double limit_bytes = kNaN;
  std::vector<double> oom_times;  // Unix seconds of every kill.
  bool predictable = true;
  std::vector<bool> predictable_each;  // Optional, per kill.
  // A kill is expected after the data ends (score.py's optional "expected_kill"): alarms whose
  // future the data does not show are censored even on a series never killed.
  bool expected_kill = false;
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
  size_t censored_alarm_points = 0;
  size_t lingering_alarm_points = 0;
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

  // Adds every count of `o` (the totals over families).
  ScoreCounts& operator+=(const ScoreCounts& o);
};

struct ScoreSummary {
  // The counts summed over the families (totals.points: forecast points scored).
  ScoreCounts totals;
  double recall_5m = 0;
  double recall_10m = 0;
  double recall_15m = 0;
  double median_lead_s = 0;
  double precision_points = 1;  // true / (true + false) alarm points; early ones excluded.
  double false_alarm_episodes_per_series_day = 0;
  size_t series_without_forecasts = 0;
  std::map<std::string, ScoreCounts> by_family;
  bool truth_inferred = false;  // Kills were inferred from the data (no truth file).
};

// Scores alarm streams against the truth exactly as tools/score.py does (same figures, same
// floating-point sums). An alarm at t is true when a kill follows in (t, t + horizon +
// tolerance]; early (neither way) when the next kill comes later but within 2 x horizon;
// censored (neither way) when the data ends before t + horizon + tolerance on a series killed
// before (or expecting a kill); lingering (neither way) within grace_seconds after a kill;
// false otherwise. Censored and lingering points neither start nor end a false-alarm episode.
ScoreSummary ScoreAlarms(const std::vector<TruthSeries>& truth,
                         const std::map<ContainerKey, AlarmSeries>& alarms,
                         double horizon_seconds = 900, double tolerance_seconds = 300,
                         double grace_seconds = 60);

// The summary as one JSON object (the keys of score.py --json, plus "by_family" and
// "truth_inferred").
void WriteSummaryJson(const ScoreSummary& summary, std::ostream& out);
// The summary as text, line for line what score.py --by-family prints (then a note when the
// kills were inferred).
void WriteSummaryText(const ScoreSummary& summary, std::ostream& out);

// What a backtest replayed and found.
struct BacktestRun {
  ScoreSummary summary;
  HistoryMap history;              // Memory and limit samples of every container replayed.
  std::vector<TruthSeries> truth;  // As given, or inferred (summary.truth_inferred).
  // Every forecast recorded, per container in time order; filled when asked for (the report).
  std::map<ContainerKey, std::vector<Forecast>> forecasts;
};

// Replay + score in one call, for the CLI: replays `client`'s history (see ReplayHistory),
// writes every forecast as a JSON line (FormatForecastJsonLine) to `records_out` when not null, and
// scores the alarms against `truth` (null: kills inferred from the history with InferKills).
StatusOr<BacktestRun> RunBacktest(HistoryPrometheusClient* client, ReplayClock* clock,
                                  const BacktestOptions& options,
                                  const std::vector<TruthSeries>* truth, std::ostream* records_out,
                                  bool keep_forecasts = false);

// As above over a HistoryMap (see the HistoryMap ReplayHistory); returns the summary.
StatusOr<ScoreSummary> RunBacktest(const HistoryMap& history, const BacktestOptions& options,
                                   const std::vector<TruthSeries>* truth,
                                   std::ostream* records_out);

}  // namespace oomcast::predictor
