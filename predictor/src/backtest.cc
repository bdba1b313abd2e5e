#include "oomcast/predictor/backtest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "oomcast/log.h"
#include "oomcast/predictor/report.h"
#include "oomcast/units.h"

namespace oomcast::predictor {
namespace {

constexpr double kMergeSeconds = 900;  // Kills closer than this form one episode (score.py).

bool KeyFromLabels(const Labels& labels, ContainerKey* key) {
  auto ns = labels.find("namespace");
  auto pod = labels.find("pod");
  auto container = labels.find("container");
  if (ns == labels.end() || pod == labels.end()) return false;
  key->namespace_name = ns->second;
  key->pod = pod->second;
  key->container = container == labels.end() ? "" : container->second;
  return true;
}

// Appends samples, then sorts by time when they were not in order. Samples of equal timestamps
// are all kept, in the order they arrived.
void AppendSorted(std::vector<double>* ts, std::vector<double>* vs, const std::vector<double>& t,
                  const std::vector<double>& v) {
  ts->insert(ts->end(), t.begin(), t.end());
  vs->insert(vs->end(), v.begin(), v.end());
  SortSamplesByTime(ts, vs, /*keep_last_of_equal=*/false);
}

}  // namespace

ScoreCounts& ScoreCounts::operator+=(const ScoreCounts& o) {
  series += o.series;
  points += o.points;
  true_alarm_points += o.true_alarm_points;
  early_alarm_points += o.early_alarm_points;
  censored_alarm_points += o.censored_alarm_points;
  lingering_alarm_points += o.lingering_alarm_points;
  false_alarm_points += o.false_alarm_points;
  false_alarm_episodes += o.false_alarm_episodes;
  episodes_predictable += o.episodes_predictable;
  episodes_unpredictable += o.episodes_unpredictable;
  unpredictable_warned += o.unpredictable_warned;
  recall_300 += o.recall_300;
  recall_600 += o.recall_600;
  recall_870 += o.recall_870;
  lead_sum += o.lead_sum;
  series_hours += o.series_hours;
  return *this;
}

double ContainerHistory::LimitAt(double when) const {
  auto it = std::upper_bound(limit_t.begin(), limit_t.end(), when);
  if (it == limit_t.begin()) return kNaN;
  const double v = limit_bytes[static_cast<size_t>(it - limit_t.begin()) - 1];
  return std::isfinite(v) && v > 0 ? v : kNaN;
}

HistoryMap HistoryFromOpenMetrics(const OpenMetricsData& data, std::string_view memory_metric,
                                  std::string_view limit_metric) {
  HistoryMap out;
  for (const OpenMetricsSeries& s : data.series) {
    const bool memory = s.metric == memory_metric;
    const bool limit = s.metric == limit_metric;
    if (!memory && !limit) continue;
    ContainerKey key;
    if (!KeyFromLabels(s.labels, &key)) continue;
    ContainerHistory& h = out[key];
    if (memory) {
      AppendSorted(&h.t, &h.bytes, s.timestamps_s, s.values);
    } else {
      AppendSorted(&h.limit_t, &h.limit_bytes, s.timestamps_s, s.values);
    }
  }
  // Containers with only a limit series have nothing to forecast.
  for (auto it = out.begin(); it != out.end();) {
    it = it->second.t.empty() ? out.erase(it) : std::next(it);
  }
  return out;
}

HistoryMap HistoryFromSeries(const std::vector<SeriesData>& memory,
                             const std::vector<SeriesData>& limits) {
  HistoryMap out;
  for (const SeriesData& s : memory) {
    ContainerKey key;
    if (!KeyFromLabels(s.labels, &key)) continue;
    ContainerHistory& h = out[key];
    AppendSorted(&h.t, &h.bytes, s.timestamps_s, s.values);
  }
  for (const SeriesData& s : limits) {
    ContainerKey key;
    if (!KeyFromLabels(s.labels, &key)) continue;
    auto it = out.find(key);
    if (it == out.end()) continue;
    AppendSorted(&it->second.limit_t, &it->second.limit_bytes, s.timestamps_s, s.values);
  }
  return out;
}

Status ReplayHistory(HistoryPrometheusClient* client, ReplayClock* clock,
                     const BacktestOptions& options,
                     const std::function<void(const Forecast&)>& sink) {
  const double step = options.step_seconds;
  if (!(step > 0)) return InvalidArgumentError("backtest: step must be > 0 seconds");
  double start = options.start_s;
  double end = options.end_s;
  if (std::isnan(start) || std::isnan(end)) {
    auto range = client->TimeRange(
        ScopeToNamespaces(options.engine.queries.memory_query, options.engine.queries.namespaces));
    if (!range.ok()) {
      if (range.status().code() == StatusCode::kNotFound) {
        return FailedPreconditionError("backtest: no memory samples");
      }
      return range.status().WithContext("backtest");
    }
    if (std::isnan(start)) start = std::ceil(range->first / step) * step;
    if (std::isnan(end)) end = range->second;
  }
  if (end < start) return InvalidArgumentError("backtest: end is before start");
  EngineConfig config = options.engine;
  config.publish_warming_up = true;  // Recorded, marked: the scorer sees every evaluation.
  Engine engine(config, client, clock);
  const long steps = static_cast<long>(std::floor((end - start) / step + 1e-9)) + 1;
  // The engine starts one step before the first evaluation, unrecorded: its first cycle
  // backfills the window with query_range (step-aligned values, as for a live predictor
  // starting then), and from the first evaluation on it ingests raw samples like a running one.
  // From the data's start (the default) that backfill is empty: every sample arrives raw.
  for (long k = -1; k < steps; ++k) {
    const double t = start + static_cast<double>(k) * step;
    clock->Set(t);
    Status st = engine.RunCycle();
    if (!st.ok()) return st.WithContext("backtest cycle at " + FormatRfc3339(t));
    if (k < 0) continue;
    const ForecastSnapshot snapshot = engine.Snapshot();
    for (const Forecast& f : *snapshot.forecasts) sink(f);
  }
  return Status::Ok();
}

namespace {

std::vector<RecordedSeries> RecordedFromHistory(const HistoryMap& history,
                                                const QueryConfig& queries) {
  const std::string memory = MetricNameOf(queries.memory_query);
  const std::string limit = MetricNameOf(queries.limit_query);
  std::vector<RecordedSeries> out;
  out.reserve(2 * history.size());
  for (const auto& [key, h] : history) {
    Labels labels{
        {"namespace", key.namespace_name}, {"pod", key.pod}, {"container", key.container}};
    out.push_back({memory, labels, h.t, h.bytes});
    if (!h.limit_t.empty()) out.push_back({limit, labels, h.limit_t, h.limit_bytes});
  }
  return out;
}

// Raw samples of `selector` in (start, end], fetched with instant queries of a range selector at
// the end of each chunk of at most chunk_seconds; series merged by labels.
StatusOr<std::vector<SeriesData>> RawInChunks(PrometheusClient* client, const std::string& selector,
                                              double start, double end, double chunk_seconds,
                                              const std::function<void()>& on_chunk) {
  std::map<Labels, SeriesData> merged;
  for (double from = start; from < end; from += chunk_seconds) {
    const double to = std::min(end, from + chunk_seconds);
    auto r = client->Query(
        selector + "[" + std::to_string(static_cast<long long>(std::ceil(to - from))) + "s]", to);
    if (!r.ok()) return r.status();
    for (auto& s : r->series) {
      auto& m = merged[s.labels];
      if (m.labels.empty()) m.labels = s.labels;
      for (size_t i = 0; i < s.timestamps_s.size(); ++i) {
        // Chunks may share their boundary instant: keep each timestamp once, in order.
        if (!m.timestamps_s.empty() && s.timestamps_s[i] <= m.timestamps_s.back()) continue;
        m.timestamps_s.push_back(s.timestamps_s[i]);
        m.values.push_back(s.values[i]);
      }
    }
    if (on_chunk) on_chunk();
  }
  std::vector<SeriesData> out;
  out.reserve(merged.size());
  for (auto& [labels, s] : merged) out.push_back(std::move(s));
  return out;
}

}  // namespace

std::string MetricNameOf(std::string_view selector) {
  const size_t end = selector.find_first_of("{[ ");
  return std::string(selector.substr(0, end));
}

Status ReplayHistory(const HistoryMap& history, const BacktestOptions& options,
                     const std::function<void(const Forecast&)>& sink) {
  ReplayClock clock;
  HistoryPrometheusClient client(RecordedFromHistory(history, options.engine.queries), &clock,
                                 PredictorLabels());
  return ReplayHistory(&client, &clock, options, sink);
}

StatusOr<std::vector<RecordedSeries>> FetchRecorded(
    PrometheusClient* client, const QueryConfig& queries, double start_s, double end_s,
    double chunk_seconds, const std::function<void(size_t, size_t)>& progress) {
  if (!(chunk_seconds > 0)) return InvalidArgumentError("history pull: chunk must be > 0 s");
  struct Pull {
    std::string selector;
    bool optional;
  };
  std::vector<Pull> pulls = {{queries.memory_query, false}, {queries.limit_query, false}};
  if (!queries.pod_labels_query.empty()) pulls.push_back({queries.pod_labels_query, true});
  const size_t chunks =
      end_s > start_s ? static_cast<size_t>(std::ceil((end_s - start_s) / chunk_seconds)) : 0;
  const size_t total = chunks * pulls.size();
  size_t done = 0;
  std::vector<RecordedSeries> out;
  for (const Pull& pull : pulls) {
    const std::string selector = ScopeToNamespaces(pull.selector, queries.namespaces);
    auto raw = RawInChunks(client, selector, start_s, end_s, chunk_seconds, [&] {
      ++done;
      if (progress) progress(done, total);
    });
    if (!raw.ok()) {
      if (pull.optional) {
        LogWarn("pod labels pull failed; replaying without pod labels",
                {{"err", raw.status().ToString()}});
        continue;
      }
      return raw.status().WithContext("history of " + selector);
    }
    const std::string metric = MetricNameOf(pull.selector);
    for (SeriesData& s : *raw) {
      s.labels.erase("__name__");
      out.push_back({metric, std::move(s.labels), std::move(s.timestamps_s), std::move(s.values)});
    }
  }
  return out;
}

StatusOr<HistoryMap> HistoryFromClient(HistoryPrometheusClient* client,
                                       const QueryConfig& queries) {
  QueryConfig scoped = queries;
  scoped.pod_labels_query.clear();
  double first = kInf;
  for (const std::string* q : {&queries.memory_query, &queries.limit_query}) {
    auto range = client->TimeRange(ScopeToNamespaces(*q, queries.namespaces));
    if (range.ok()) first = std::min(first, range->first);
  }
  if (!std::isfinite(first)) return HistoryMap{};
  const double now = client->Now();
  if (now < first) return HistoryMap{};
  auto recorded = FetchRecorded(client, scoped, first - 1, now, now - first + 1);
  if (!recorded.ok()) return recorded.status();
  const std::string memory = MetricNameOf(queries.memory_query);
  std::vector<SeriesData> mem, lim;
  for (RecordedSeries& r : *recorded) {
    SeriesData d{std::move(r.labels), std::move(r.timestamps_s), std::move(r.values)};
    (r.metric == memory ? mem : lim).push_back(std::move(d));
  }
  return HistoryFromSeries(mem, lim);
}

StatusOr<std::vector<TruthSeries>> ParseTruthJson(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError("truth: not valid JSON");
  if (!doc.is_array()) return InvalidArgumentError("truth: expected a JSON array of series");
  std::vector<TruthSeries> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const nlohmann::json& o = doc[i];
    const std::string where = "truth: entry " + std::to_string(i);
    try {
      if (!o.is_object()) return InvalidArgumentError(where + ": not an object");
      TruthSeries s;
      s.key.namespace_name = o.at("namespace").get<std::string>();
      s.key.pod = o.at("pod").get<std::string>();
      s.key.container = o.value("container", std::string());
      s.family = o.value("family", std::string("unknown"));
      if (o.contains("limit_bytes") && o["limit_bytes"].is_number())
        s.limit_bytes = o["limit_bytes"].get<double>();
      for (const auto& v : o.at("oom_times")) s.oom_times.push_back(v.get<double>());
      std::sort(s.oom_times.begin(), s.oom_times.end());
      s.predictable = o.value("predictable", true);
      s.expected_kill = o.value("expected_kill", false);
      if (o.contains("predictable_each") && o["predictable_each"].is_array()) {
        for (const auto& v : o["predictable_each"]) s.predictable_each.push_back(v.get<bool>());
      }
      s.start = o.at("start").get<double>();
      s.end = o.at("end").get<double>();
      out.push_back(std::move(s));
    } catch (const nlohmann::json::exception& e) {
      return InvalidArgumentError(where + ": " + e.what());
    }
  }
  return out;
}

StatusOr<std::vector<TruthSeries>> ReadTruthFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open truth file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto truth = ParseTruthJson(ss.str());
  if (!truth.ok()) return truth.status().WithContext(path);
  return truth;
}

std::vector<TruthSeries> InferKills(const HistoryMap& history, double kill_fraction) {
  std::vector<TruthSeries> out;
  for (const auto& [key, h] : history) {
    TruthSeries s;
    s.key = key;
    s.family = "inferred";
    s.start = h.t.empty() ? 0 : h.t.front();
    s.end = h.t.empty() ? 0 : h.t.back();
    // Usual sample interval: the median spacing.
    std::vector<double> dt;
    for (size_t i = 1; i < h.t.size(); ++i) dt.push_back(h.t[i] - h.t[i - 1]);
    double usual = 0;
    if (!dt.empty()) {
      std::nth_element(dt.begin(), dt.begin() + dt.size() / 2, dt.end());
      usual = dt[dt.size() / 2];
    }
    for (size_t i = 0; i + 1 < h.t.size(); ++i) {
      const double v = h.bytes[i];
      const double limit = h.LimitAt(h.t[i]);
      if (!std::isfinite(v) || !std::isfinite(limit) || v < kill_fraction * limit) continue;
      const double nv = h.bytes[i + 1];
      const bool dropped = std::isfinite(nv) && nv < 0.75 * v;
      const bool gap = h.t[i + 1] - h.t[i] > 1.5 * usual;
      if (dropped || gap) s.oom_times.push_back(h.t[i]);
    }
    s.limit_bytes = h.limit_bytes.empty() ? kNaN : h.limit_bytes.back();
    out.push_back(std::move(s));
  }
  return out;
}

ScoreSummary ScoreAlarms(const std::vector<TruthSeries>& truth,
                         const std::map<ContainerKey, AlarmSeries>& alarms, double horizon,
                         double tol, double grace) {
  ScoreSummary summary;
  std::vector<std::string> family_order;  // First appearance: score.py sums in this order.
  std::vector<double> leads;
  static const AlarmSeries kEmpty;
  for (const TruthSeries& s : truth) {
    auto found = alarms.find(s.key);
    if (found == alarms.end()) ++summary.series_without_forecasts;
    AlarmSeries pts = found == alarms.end() ? kEmpty : found->second;
    std::sort(pts.begin(), pts.end());
    if (summary.by_family.find(s.family) == summary.by_family.end()) {
      family_order.push_back(s.family);
    }
    ScoreCounts& st = summary.by_family[s.family];
    const std::vector<double>& ooms = s.oom_times;  // Sorted by ParseTruthJson / InferKills.
    std::vector<double> episodes;
    for (size_t i = 0; i < ooms.size(); ++i) {
      if (i == 0 || ooms[i] - ooms[i - 1] > kMergeSeconds) episodes.push_back(ooms[i]);
    }
    bool prev_false = false;
    for (const auto& [t, alarm] : pts) {
      if (t < s.start || t > s.end) continue;
      ++st.points;
      if (!alarm) {
        prev_false = false;
        continue;
      }
      const auto j = std::upper_bound(ooms.begin(), ooms.end(), t);
      const bool true_alarm = j != ooms.end() && *j <= t + horizon + tol;
      const bool early = j != ooms.end() && *j <= t + 2 * horizon;
      const bool censored = t + horizon + tol > s.end && (!ooms.empty() || s.expected_kill);
      const bool lingering = j != ooms.begin() && t - *(j - 1) <= grace;
      if (true_alarm) {
        ++st.true_alarm_points;
        prev_false = false;
      } else if (early) {
        ++st.early_alarm_points;
        prev_false = false;
      } else if (censored) {
        ++st.censored_alarm_points;
      } else if (lingering) {
        ++st.lingering_alarm_points;
      } else {
        ++st.false_alarm_points;
        if (!prev_false) ++st.false_alarm_episodes;
        prev_false = true;
      }
    }
    st.series_hours += (s.end - s.start) / 3600.0;
    ++st.series;
    const bool per_kill = !s.predictable_each.empty() && s.predictable_each.size() == ooms.size() &&
                          episodes.size() == ooms.size();
    for (size_t ei = 0; ei < episodes.size(); ++ei) {
      const double T = episodes[ei];
      auto lo = std::lower_bound(pts.begin(), pts.end(), T - horizon - tol,
                                 [](const auto& p, double v) { return p.first < v; });
      auto hi = std::lower_bound(pts.begin(), pts.end(), T,
                                 [](const auto& p, double v) { return p.first < v; });
      double lead = 0;
      bool have_first = false;
      double first = 0;
      for (auto it = hi; it != lo;) {
        --it;
        if (!it->second) break;
        first = it->first;
        have_first = true;
      }
      if (have_first) lead = T - first;
      const bool predictable = per_kill ? s.predictable_each[ei] : s.predictable;
      if (predictable) {
        ++st.episodes_predictable;
        leads.push_back(lead);
        st.lead_sum += lead;
        if (lead >= 300) ++st.recall_300;
        if (lead >= 600) ++st.recall_600;
        if (lead >= 870) ++st.recall_870;
      } else {
        ++st.episodes_unpredictable;
        if (lead > 0) ++st.unpredictable_warned;
      }
    }
  }
  ScoreCounts& tot = summary.totals;
  for (const std::string& family : family_order) tot += summary.by_family.at(family);
  const double ep = static_cast<double>(std::max<size_t>(tot.episodes_predictable, 1));
  const size_t alarm_pts = tot.true_alarm_points + tot.false_alarm_points;
  std::sort(leads.begin(), leads.end());
  summary.recall_5m = tot.recall_300 / ep;
  summary.recall_10m = tot.recall_600 / ep;
  summary.recall_15m = tot.recall_870 / ep;
  summary.median_lead_s = leads.empty() ? 0.0 : leads[leads.size() / 2];
  summary.precision_points =
      alarm_pts ? static_cast<double>(tot.true_alarm_points) / static_cast<double>(alarm_pts) : 1.0;
  summary.false_alarm_episodes_per_series_day =
      static_cast<double>(tot.false_alarm_episodes) / std::max(tot.series_hours / 24.0, 1e-9);
  return summary;
}

void WriteSummaryJson(const ScoreSummary& s, std::ostream& out) {
  nlohmann::json j;
  j["episodes_predictable"] = s.totals.episodes_predictable;
  j["recall_5m"] = s.recall_5m;
  j["recall_10m"] = s.recall_10m;
  j["recall_15m"] = s.recall_15m;
  j["median_lead_s"] = s.median_lead_s;
  j["precision_points"] = s.precision_points;
  j["false_alarm_episodes"] = s.totals.false_alarm_episodes;
  j["false_alarm_episodes_per_series_day"] = s.false_alarm_episodes_per_series_day;
  j["early_alarm_points"] = s.totals.early_alarm_points;
  j["censored_alarm_points"] = s.totals.censored_alarm_points;
  j["lingering_alarm_points"] = s.totals.lingering_alarm_points;
  j["forecast_points"] = s.totals.points;
  j["series_without_forecasts"] = s.series_without_forecasts;
  j["truth_inferred"] = s.truth_inferred;
  nlohmann::json fam = nlohmann::json::object();
  for (const auto& [name, c] : s.by_family) {
    fam[name] = {
        {"series", c.series},
        {"episodes_predictable", c.episodes_predictable},
        {"recall_15m",
         c.episodes_predictable ? static_cast<double>(c.recall_870) / c.episodes_predictable : 0.0},
        {"false_alarm_episodes", c.false_alarm_episodes},
        {"true_alarm_points", c.true_alarm_points},
        {"false_alarm_points", c.false_alarm_points}};
  }
  j["by_family"] = fam;
  out << j.dump() << "\n";
}

void WriteSummaryText(const ScoreSummary& s, std::ostream& out) {
  char buf[1024];
  for (const auto& [name, c] : s.by_family) {
    char recall[16] = "-";
    if (c.episodes_predictable) {
      std::snprintf(recall, sizeof(recall), "%.2f",
                    static_cast<double>(c.recall_870) / c.episodes_predictable);
    }
    std::snprintf(buf, sizeof(buf),
                  "%-16s series=%-3zu episodes=%-3zu recall15=%-5s false_eps=%-4zu "
                  "alarm_pts(t/f)=%zu/%zu\n",
                  name.c_str(), c.series, c.episodes_predictable, recall, c.false_alarm_episodes,
                  c.true_alarm_points, c.false_alarm_points);
    out << buf;
  }
  std::snprintf(buf, sizeof(buf),
                "episodes_predictable: %zu\nrecall_5m: %.3f\nrecall_10m: %.3f\nrecall_15m: %.3f\n"
                "median_lead_s: %.3f\nprecision_points: %.3f\nfalse_alarm_episodes: %zu\n"
                "false_alarm_episodes_per_series_day: %.3f\nearly_alarm_points: %zu\n"
                "censored_alarm_points: %zu\nlingering_alarm_points: %zu\n"
                "forecast_points: %zu\nseries_without_forecasts: %zu\n",
                s.totals.episodes_predictable, s.recall_5m, s.recall_10m, s.recall_15m,
                s.median_lead_s, s.precision_points, s.totals.false_alarm_episodes,
                s.false_alarm_episodes_per_series_day, s.totals.early_alarm_points,
                s.totals.censored_alarm_points, s.totals.lingering_alarm_points, s.totals.points,
                s.series_without_forecasts);
  out << buf;
  if (s.truth_inferred) out << "(kills inferred from the data: no truth file)\n";
}

StatusOr<BacktestRun> RunBacktest(HistoryPrometheusClient* client, ReplayClock* clock,
                                  const BacktestOptions& options,
                                  const std::vector<TruthSeries>* truth, std::ostream* records_out,
                                  bool keep_forecasts) {
  BacktestRun run;
  std::map<ContainerKey, AlarmSeries> alarms;
  Status st = ReplayHistory(client, clock, options, [&](const Forecast& f) {
    if (records_out != nullptr) *records_out << FormatForecastJsonLine(f) << '\n';
    alarms[f.key].emplace_back(f.t, f.oom_predicted);
    if (keep_forecasts) {
      Forecast& kept = run.forecasts[f.key].emplace_back(f);
      kept.pod_labels = nullptr;
    }
  });
  if (!st.ok()) return st;
  auto history = HistoryFromClient(client, options.engine.queries);
  if (!history.ok()) return history.status().WithContext("backtest");
  run.history = std::move(*history);
  run.truth = truth != nullptr ? *truth : InferKills(run.history);
  run.summary = ScoreAlarms(run.truth, alarms, options.score_horizon_seconds,
                            options.score_tolerance_seconds, options.score_grace_seconds);
  run.summary.truth_inferred = truth == nullptr;
  return run;
}

StatusOr<ScoreSummary> RunBacktest(const HistoryMap& history, const BacktestOptions& options,
                                   const std::vector<TruthSeries>* truth,
                                   std::ostream* records_out) {
  ReplayClock clock;
  HistoryPrometheusClient client(RecordedFromHistory(history, options.engine.queries), &clock,
                                 PredictorLabels());
  auto run = RunBacktest(&client, &clock, options, truth, records_out);
  if (!run.ok()) return run.status();
  return std::move(run->summary);
}

}  // namespace oomcast::predictor
