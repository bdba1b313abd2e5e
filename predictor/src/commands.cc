#include "oomcast/predictor/commands.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <ostream>

#include "oomcast/http_server.h"
#include "oomcast/log.h"
#include "oomcast/predictor/backtest.h"
#include "oomcast/predictor/canary_metrics.h"
#include "oomcast/predictor/engine.h"
#include "oomcast/predictor/exporter.h"
#include "oomcast/predictor/openmetrics.h"
#include "oomcast/predictor/report.h"
#include "oomcast/units.h"

namespace oomcast::predictor {

int RunServe(const PredictorConfig& config, PrometheusClient* client, Clock* clock,
             const std::atomic<bool>& stop, std::ostream& err) {
  Engine engine(config.engine, client, clock);
  engine.set_backend_name(config.backend.name);
  MetricsExporter exporter(&engine, clock);
  auto canary = CanaryMonitor::Create(config.canary);  // Validated with the config already.
  if (!canary.ok()) {
    err << "oomcast-predictor serve: " << canary.status().ToString() << "\n";
    return 2;
  }
  auto server = StartHttpServer(config.listen_address, [&](const HttpServerRequest& r) {
    HttpServerResponse res;
    if (r.path == "/metrics") {
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      res.body = exporter.Render() + (*canary)->Render();
    } else if (r.path == "/healthz" || r.path == "/livez") {
      res.body = "ok\n";
    } else if (r.path == "/readyz") {
      auto snap = engine.Snapshot();
      if (snap.Stale(clock->NowUnixSeconds())) {
        res.status = 503;
        res.body = "not ready: " +
                   (snap.last_error.ok() ? std::string("no successful cycle yet")
                                         : snap.last_error.ToString()) +
                   "\n";
      } else {
        res.body = "ok\n";
      }
    } else {
      res.status = 404;
      res.body = "not found; try /metrics, /healthz, /readyz\n";
    }
    return res;
  });
  if (!server.ok()) {
    err << "oomcast-predictor serve: " << server.status().ToString() << "\n";
    return 2;
  }
  LogInfo("serving", {{"address", config.listen_address},
                      {"port", std::to_string((*server)->port())},
                      {"backend", config.backend.base_url}});
  engine.Run(stop, [&](double seconds, const Status& st) {
    exporter.ObserveCycle(seconds, st);
    (*canary)->Update(clock->NowUnixSeconds(), engine.Snapshot());
  });
  (*server)->Stop();
  LogInfo("stopped");
  return 0;
}

}  // namespace oomcast::predictor

namespace oomcast::predictor {
namespace {

Forecast ToForecast(const BacktestRecord& r) {
  Forecast f;
  f.key = *r.key;
  f.t = r.t;
  f.last_sample_t = r.t;
  f.rss_bytes = r.rss_bytes;
  f.limit_bytes = r.limit_bytes;
  f.growth_rate_bytes_per_second = r.growth_rate_bytes_per_second;
  f.acceleration_bytes_per_second2 = r.acceleration_bytes_per_second2;
  f.eta_seconds = r.eta_seconds;
  f.risk = r.risk;
  f.oom_predicted = r.oom_predicted;
  f.warming_up = r.warming_up;
  return f;
}

void PrintForecasts(std::vector<Forecast> forecasts, OutputFormat format, double horizon_s,
                    std::ostream& out) {
  std::sort(forecasts.begin(), forecasts.end(), [](const Forecast& a, const Forecast& b) {
    if (a.eta_seconds != b.eta_seconds) return a.eta_seconds < b.eta_seconds;
    return a.key < b.key;
  });
  if (format == OutputFormat::kJson) {
    for (const auto& f : forecasts) out << FormatForecastJsonLine(f) << "\n";
    return;
  }
  out << FormatForecastTable(forecasts);
  size_t alarms = 0;
  for (const auto& f : forecasts) alarms += f.oom_predicted ? 1 : 0;
  out << "\n"
      << forecasts.size() << " containers, " << alarms << " forecast to reach their limit within "
      << FormatDurationHuman(horizon_s) << " (ETA * = warming up: too little data since start)\n";
}

// Raw samples of `selector` in (start, end], fetched with instant queries of a range selector
// (`sel[7200s]` at the end of each chunk) so that the replay sees the samples themselves, as the
// live predictor's incremental ingest does, not query_range's step-aligned lookback copies.
StatusOr<std::vector<SeriesData>> RawInChunks(PrometheusClient* client, const std::string& selector,
                                              double start, double end) {
  constexpr double kChunkSeconds = 7200;
  std::map<Labels, SeriesData> merged;
  for (double from = start; from < end; from += kChunkSeconds) {
    double to = std::min(end, from + kChunkSeconds);
    auto r = client->Query(
        selector + "[" + std::to_string(static_cast<long long>(std::ceil(to - from))) + "s]", to);
    if (!r.ok()) return r.status();
    for (auto& s : r->series) {
      auto& m = merged[s.labels];
      m.labels = s.labels;
      for (size_t i = 0; i < s.timestamps_s.size(); ++i) {
        // Chunks share their boundary instant: keep each timestamp once, in order.
        if (!m.timestamps_s.empty() && s.timestamps_s[i] <= m.timestamps_s.back()) continue;
        m.timestamps_s.push_back(s.timestamps_s[i]);
        m.values.push_back(s.values[i]);
      }
    }
  }
  std::vector<SeriesData> out;
  for (auto& [labels, s] : merged) out.push_back(std::move(s));
  return out;
}

std::string MetricName(const std::string& selector) {
  size_t end = selector.find_first_of("{[ ");
  return selector.substr(0, end);
}

}  // namespace

int RunOnceOpenMetrics(const PredictorConfig& config, const std::string& path, double at_unix_s,
                       OutputFormat format, std::ostream& out, std::ostream& err) {
  auto data = ReadOpenMetricsFile(path);
  if (!data.ok()) {
    err << "oomcast-predictor once: " << data.status().ToString() << "\n";
    return 2;
  }
  HistoryMap history = HistoryFromOpenMetrics(*data, MetricName(config.engine.queries.memory_query),
                                              MetricName(config.engine.queries.limit_query));
  if (history.empty()) {
    err << "oomcast-predictor once: " << path << ": no memory series with namespace, pod and "
        << "container labels\n";
    return 1;
  }
  double newest = 0;
  for (const auto& [key, h] : history) {
    if (!h.t.empty()) newest = std::max(newest, h.t.back());
  }
  BacktestOptions options;
  options.model = config.engine.model;
  options.end_s = std::isnan(at_unix_s) ? newest : at_unix_s;
  options.start_s = options.end_s;
  std::vector<Forecast> forecasts;
  Status st = ReplayHistory(history, options, [&](const BacktestRecord& r) {
    // Like the live engine, containers silent for longer than staleAfter are not current.
    auto it = history.find(*r.key);
    double last = 0;
    for (double t : it->second.t) {
      if (t <= r.t) last = t;
    }
    if (r.t - last <= config.engine.stale_after_seconds) forecasts.push_back(ToForecast(r));
  });
  if (!st.ok()) {
    err << "oomcast-predictor once: " << st.ToString() << "\n";
    return 1;
  }
  if (format == OutputFormat::kTable) {
    out << "Forecast at " << FormatRfc3339(options.end_s) << " from " << path << " ("
        << data->samples << " samples)\n\n";
  }
  PrintForecasts(std::move(forecasts), format, config.engine.model.horizon_seconds, out);
  return 0;
}

int RunBacktest(const PredictorConfig& config, const BacktestRequest& req, PrometheusClient* client,
                std::ostream& out, std::ostream& err) {
  HistoryMap history;
  BacktestOptions options;
  options.model = config.engine.model;
  options.step_seconds = req.eval_step_seconds;
  if (!req.openmetrics_path.empty()) {
    auto data = ReadOpenMetricsFile(req.openmetrics_path);
    if (!data.ok()) {
      err << "oomcast-predictor backtest: " << data.status().ToString() << "\n";
      return 2;
    }
    history = HistoryFromOpenMetrics(*data, MetricName(config.engine.queries.memory_query),
                                     MetricName(config.engine.queries.limit_query));
    options.start_s = req.start_s;
    options.end_s = req.end_s;
  } else {
    // The model needs its window of history before the first evaluation.
    double from = req.start_s - config.engine.window_seconds;
    auto mem = RawInChunks(client, config.engine.queries.memory_query, from, req.end_s);
    if (!mem.ok()) {
      err << "oomcast-predictor backtest: " << mem.status().ToString() << "\n";
      return 1;
    }
    auto lim = RawInChunks(client, config.engine.queries.limit_query, from, req.end_s);
    if (!lim.ok()) {
      err << "oomcast-predictor backtest: " << lim.status().ToString() << "\n";
      return 1;
    }
    history = HistoryFromSeries(*mem, *lim);
    options.start_s = req.start_s;
    options.end_s = req.end_s;
  }
  if (history.empty()) {
    err << "oomcast-predictor backtest: no memory series with namespace, pod and container "
           "labels\n";
    return 1;
  }
  std::vector<TruthSeries> truth;
  const std::vector<TruthSeries>* truth_ptr = nullptr;
  if (!req.truth_path.empty()) {
    auto t = ReadTruthFile(req.truth_path);
    if (!t.ok()) {
      err << "oomcast-predictor backtest: " << t.status().ToString() << "\n";
      return 2;
    }
    truth = std::move(*t);
    truth_ptr = &truth;
  }
  std::ofstream file;
  std::ostream* records = nullptr;
  if (req.records_path == "-") {
    records = &out;
  } else if (!req.records_path.empty()) {
    file.open(req.records_path);
    if (!file) {
      err << "oomcast-predictor backtest: cannot write " << req.records_path << "\n";
      return 2;
    }
    records = &file;
  }
  auto summary = predictor::RunBacktest(history, options, truth_ptr, records);
  if (!summary.ok()) {
    err << "oomcast-predictor backtest: " << summary.status().ToString() << "\n";
    return 1;
  }
  // With records on stdout the summary goes to stderr so the stream stays JSON lines.
  std::ostream& sout = records == &out ? err : out;
  if (req.summary_json)
    WriteSummaryJson(*summary, sout);
  else
    WriteSummaryText(*summary, sout);
  return 0;
}

int RunOnce(const PredictorConfig& config, OutputFormat format, PrometheusClient* client,
            Clock* clock, std::ostream& out, std::ostream& err) {
  EngineConfig engine_config = config.engine;
  engine_config.publish_warming_up = true;  // Shown, marked "*": a person reads the table.
  Engine engine(engine_config, client, clock);
  engine.set_backend_name(config.backend.name);
  Status st = engine.RunCycle();
  if (!st.ok()) {
    err << "oomcast-predictor once: " << st.ToString() << "\n";
    return 1;
  }
  PrintForecasts(*engine.Snapshot().forecasts, format, config.engine.model.horizon_seconds, out);
  return 0;
}

}  // namespace oomcast::predictor
