// A PrometheusClient that answers from recorded history (an OpenMetrics file, or history pulled
// from a TSDB) as of an injected clock's now: what `backtest`, `once --openmetrics` and canary
// replays drive the real Engine through, so that a replayed forecast is the live one by
// construction.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/predictor/openmetrics.h"
#include "oomcast/prometheus_client.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

// Orders the parallel sample arrays `ts` (timestamps) and `vs` by timestamp; a stable sort, so
// samples of equal timestamps keep their order. With `keep_last_of_equal`, of equal timestamps
// only the last sample is kept. Does nothing when they are already in order (and, with
// `keep_last_of_equal`, free of equal timestamps).
void SortSamplesByTime(std::vector<double>* ts, std::vector<double>* vs, bool keep_last_of_equal);

// One recorded series: metric name, labels (without __name__), samples sorted by time
// (timestamps_s Unix seconds, pairing with values).
struct RecordedSeries {
  std::string metric;
  Labels labels;
  std::vector<double> timestamps_s;
  std::vector<double> values;
};

// The series of an OpenMetrics file (e.g. container_memory_working_set_bytes,
// container_spec_memory_limit_bytes, kube_pod_labels), sorted by time (of duplicate timestamps
// the last one written is kept). Consumes `data`.
std::vector<RecordedSeries> RecordedFromOpenMetrics(OpenMetricsData&& data);

// A clock set by the replay: NowUnixSeconds() returns what Set() stored; SleepFor advances it
// (a client's back-off never waits in a replay). Thread-safe.
class ReplayClock final : public Clock {
 public:
  explicit ReplayClock(double now_unix_s = 0);
  double NowUnixSeconds() const override;
  void SleepFor(double seconds) override;
  void Set(double now_unix_s);

 private:
  std::atomic<double> now_;
};

// Answers as a Prometheus holding exactly `series` would, never with a sample newer than
// clock->NowUnixSeconds(): a query for a later time is answered as of now (query_range ends at
// now). Supported PromQL, which covers every query the Engine issues:
//   - vector selectors `name{l="v", l!="v", l=~"re", l!~"re"}` (also `{__name__="name", ...}`;
//     regexes fully anchored, ECMAScript syntax, which agrees with RE2 on the usual
//     alternations and classes). Instant query: per series the newest sample in
//     (t - lookback, t], reported at t; query_range: the same at start, start + step, ... <= end.
//   - range selectors `sel[60s]` in instant queries: the raw samples in (t - range, t] ("matrix").
//   - `max|min|sum [by (l, ...)] (sel)` over a vector selector, grouping by the listed labels.
// Anything else: InvalidArgument naming the query. Series with no answer are omitted; labels of
// the answer are filtered by `keep` (empty keeps all, including __name__ for plain selectors).
// Thread-compatible (queries are parsed once and cached).
class HistoryPrometheusClient final : public PrometheusClient {
 public:
  // `clock` must outlive the client.
  HistoryPrometheusClient(std::vector<RecordedSeries> series, const Clock* clock,
                          LabelAllowlist keep = {}, double lookback_seconds = 300);
  ~HistoryPrometheusClient() override;

  StatusOr<QueryResult> QueryRange(const std::string& query, double start_s, double end_s,
                                   double step_s) override;
  StatusOr<QueryResult> Query(const std::string& query, double time_s) override;
  StatusOr<std::vector<Labels>> Series(const std::string& match, double start_s,
                                       double end_s) override;

  // Time of the first and the newest sample of the series `selector` matches (ignoring the
  // clock). InvalidArgument for an unsupported selector, NotFound when it matches no sample.
  StatusOr<std::pair<double, double>> TimeRange(const std::string& selector);

  const std::vector<RecordedSeries>& series() const { return series_; }
  // The clock's now: the newest time the client answers for, Unix seconds.
  double Now() const { return clock_->NowUnixSeconds(); }

 private:
  struct Parsed;
  StatusOr<const Parsed*> Parse(const std::string& query);
  // Per matching series with a sample in the lookback before t: (series index, value).
  void InstantAt(const Parsed& p, double t, std::vector<std::pair<size_t, double>>* out) const;
  // Appends the answer at t of a vector selector or aggregation to `out`.
  void EvalInstant(const Parsed& p, double t, QueryResult* out) const;

  std::vector<RecordedSeries> series_;
  std::vector<Labels> out_labels_;  // Per series: the labels answers carry (`keep` applied).
  const Clock* clock_;
  LabelAllowlist keep_;
  double lookback_seconds_;
  std::map<std::string, std::unique_ptr<Parsed>, std::less<>> parsed_;
};

}  // namespace oomcast::predictor
