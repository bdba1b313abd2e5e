// A table-driven PrometheusClient for tests: stored raw samples per query string, answered the
// way a TSDB would, plus injectable errors; every call is recorded.
//
//   FakePrometheusClient prom;
//   prom.AddSamples(kRssQuery, {{"namespace", "a"}, {"pod", "p"}, {"container", "c"}},
//                   {t0, t0 + 15}, {1e8, 1.1e8});
//   prom.QueryRange(kRssQuery, t0, t0 + 60, 15);   // matrix: samples with start <= t <= end
//   prom.SetError(kRssQuery, UnavailableError("down"));  // until ClearError(kRssQuery)
//
// Semantics (kept simple on purpose):
//  - QueryRange returns, per stored series, the raw samples with start_s <= t <= end_s, in
//    timestamp order (not resampled at step_s); series with none are omitted. "matrix".
//  - Query returns, per series, the latest sample with time_s - lookback_seconds < t <= time_s
//    (lookback 300 s like Prometheus' default). "vector".
//  - Series returns the label sets set with SetSeriesResult for `match`, else the labels of the
//    stored series of the query string `match` that have a sample in [start_s, end_s].
//  - Unknown queries answer an empty result, as a TSDB does for a selector with no match.
//  - Errors: SetError(query, status) fails every call for that query; SetErrorFunc(fn) is asked
//    first on every call and fails it when it returns non-OK (e.g. "fail the 3rd call").
// Thread-safe.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "oomcast/prometheus_client.h"

namespace oomcast::testing {

class FakePrometheusClient final : public PrometheusClient {
 public:
  struct Call {
    std::string kind;  // "query_range", "query" or "series".
    std::string query;
    double start_s = 0;  // query: the evaluation time.
    double end_s = 0;
    double step_s = 0;
  };

  double lookback_seconds = 300;

  // Appends samples (any order; kept sorted by timestamp) to the series `labels` of `query`.
  void AddSamples(const std::string& query, const Labels& labels,
                  const std::vector<double>& timestamps_s, const std::vector<double>& values) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& series = data_[query][labels];
    for (size_t i = 0; i < timestamps_s.size() && i < values.size(); ++i) {
      series.emplace_back(timestamps_s[i], values[i]);
    }
    std::stable_sort(series.begin(), series.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }

  // Replaces everything stored for `query`.
  void SetSeriesData(const std::string& query, const std::vector<SeriesData>& series) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      data_.erase(query);
    }
    for (const SeriesData& s : series) AddSamples(query, s.labels, s.timestamps_s, s.values);
  }

  void SetSeriesResult(const std::string& match, std::vector<Labels> labels) {
    std::lock_guard<std::mutex> lock(mu_);
    series_results_[match] = std::move(labels);
  }

  void SetError(const std::string& query, Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.insert_or_assign(query, std::move(error));
  }
  void ClearError(const std::string& query) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.erase(query);
  }
  void SetErrorFunc(std::function<Status(const Call&)> fn) {
    std::lock_guard<std::mutex> lock(mu_);
    error_func_ = std::move(fn);
  }

  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  StatusOr<QueryResult> QueryRange(const std::string& query, double start_s, double end_s,
                                   double step_s) override {
    Call call{"query_range", query, start_s, end_s, step_s};
    if (Status st = Record(call); !st.ok()) return st;
    std::lock_guard<std::mutex> lock(mu_);
    QueryResult r;
    r.result_type = "matrix";
    if (auto it = data_.find(query); it != data_.end()) {
      for (const auto& [labels, samples] : it->second) {
        SeriesData sd;
        sd.labels = labels;
        for (const auto& [t, v] : samples) {
          if (t >= start_s && t <= end_s) {
            sd.timestamps_s.push_back(t);
            sd.values.push_back(v);
          }
        }
        if (sd.timestamps_s.empty()) continue;
        r.samples += sd.timestamps_s.size();
        r.series.push_back(std::move(sd));
      }
    }
    return r;
  }

  StatusOr<QueryResult> Query(const std::string& query, double time_s) override {
    Call call{"query", query, time_s, time_s, 0};
    if (Status st = Record(call); !st.ok()) return st;
    std::lock_guard<std::mutex> lock(mu_);
    QueryResult r;
    r.result_type = "vector";
    if (auto it = data_.find(query); it != data_.end()) {
      for (const auto& [labels, samples] : it->second) {
        for (auto s = samples.rbegin(); s != samples.rend(); ++s) {
          if (s->first > time_s) continue;
          if (s->first > time_s - lookback_seconds) {
            r.series.push_back(SeriesData{labels, {s->first}, {s->second}});
            ++r.samples;
          }
          break;
        }
      }
    }
    return r;
  }

  StatusOr<std::vector<Labels>> Series(const std::string& match, double start_s,
                                       double end_s) override {
    Call call{"series", match, start_s, end_s, 0};
    if (Status st = Record(call); !st.ok()) return st;
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = series_results_.find(match); it != series_results_.end()) return it->second;
    std::vector<Labels> out;
    if (auto it = data_.find(match); it != data_.end()) {
      for (const auto& [labels, samples] : it->second) {
        bool any = std::any_of(samples.begin(), samples.end(), [&](const auto& s) {
          return s.first >= start_s && s.first <= end_s;
        });
        if (any) out.push_back(labels);
      }
    }
    return out;
  }

 private:
  Status Record(const Call& call) {
    std::function<Status(const Call&)> fn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(call);
      if (auto it = errors_.find(call.query); it != errors_.end()) return it->second;
      fn = error_func_;
    }
    return fn ? fn(call) : Status::Ok();
  }

  mutable std::mutex mu_;
  // query -> labels -> (timestamp_s, value), sorted by timestamp.
  std::map<std::string, std::map<Labels, std::vector<std::pair<double, double>>>> data_;
  std::map<std::string, std::vector<Labels>> series_results_;
  std::map<std::string, Status> errors_;
  std::function<Status(const Call&)> error_func_;
  std::vector<Call> calls_;
};

}  // namespace oomcast::testing
