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
#include "oomcast/predictor/history_client.h"
#include "oomcast/predictor/html_report.h"
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

// The metrics of a history file the engine reads (memory, limits, pod labels): the others are
// skipped while reading.
OpenMetricsOptions HistoryFileOptions(const QueryConfig& queries) {
  OpenMetricsOptions options;
  options.metrics = {MetricNameOf(queries.memory_query), MetricNameOf(queries.limit_query)};
  if (!queries.pod_labels_query.empty()) {
    options.metrics.push_back(MetricNameOf(queries.pod_labels_query));
  }
  return options;
}

}  // namespace

int RunOnceOpenMetrics(const PredictorConfig& config, const std::string& path, double at_unix_s,
                       OutputFormat format, std::ostream& out, std::ostream& err) {
  auto data = ReadOpenMetricsFile(path, HistoryFileOptions(config.engine.queries));
  if (!data.ok()) {
    err << "oomcast-predictor once: " << data.status().ToString() << "\n";
    return 2;
  }
  const size_t samples = data->samples;
  ReplayClock clock;
  HistoryPrometheusClient history(RecordedFromOpenMetrics(std::move(*data)), &clock,
                                  PredictorLabels());
  auto range = history.TimeRange(
      ScopeToNamespaces(config.engine.queries.memory_query, config.engine.queries.namespaces));
  if (!range.ok()) {
    err << "oomcast-predictor once: " << path << ": no memory series with namespace, pod and "
        << "container labels\n";
    return 1;
  }
  // The live predictor, running since the first sample at its interval, at `at` (or at the
  // newest sample): cycles are placed so that the last one is at that instant.
  BacktestOptions options;
  options.engine = config.engine;
  options.step_seconds = config.engine.interval_seconds;
  options.end_s = std::isnan(at_unix_s) ? range->second : at_unix_s;
  options.start_s =
      options.end_s -
      std::max(0.0, std::floor((options.end_s - range->first) / options.step_seconds)) *
          options.step_seconds;
  std::vector<Forecast> forecasts;
  Status st = ReplayHistory(&history, &clock, options, [&](const Forecast& f) {
    if (f.t == options.end_s) forecasts.push_back(f);
  });
  if (!st.ok()) {
    err << "oomcast-predictor once: " << st.ToString() << "\n";
    return 1;
  }
  if (format == OutputFormat::kTable) {
    out << "Forecast at " << FormatRfc3339(options.end_s) << " from " << path << " (" << samples
        << " samples)\n\n";
  }
  PrintForecasts(std::move(forecasts), format, config.engine.model.horizon_seconds, out);
  return 0;
}

int RunBacktest(const PredictorConfig& config, const BacktestRequest& req, PrometheusClient* client,
                std::ostream& out, std::ostream& err) {
  BacktestOptions options;
  options.engine = config.engine;
  options.step_seconds = req.eval_step_seconds;
  options.start_s = req.start_s;
  options.end_s = req.end_s;
  std::vector<RecordedSeries> recorded;
  if (!req.openmetrics_path.empty()) {
    auto data =
        ReadOpenMetricsFile(req.openmetrics_path, HistoryFileOptions(config.engine.queries));
    if (!data.ok()) {
      err << "oomcast-predictor backtest: " << data.status().ToString() << "\n";
      return 2;
    }
    recorded = RecordedFromOpenMetrics(std::move(*data));
  } else {
    // The engine's first cycle backfills its window before the start, and instant queries of
    // limits look back up to 5 minutes: pull that much more. Pod labels are not pulled (the
    // records and scores do not use them).
    const double from = req.start_s - config.engine.window_seconds - 300;
    QueryConfig queries = config.engine.queries;
    queries.pod_labels_query.clear();
    auto pulled =
        FetchRecorded(client, queries, from, req.end_s, 7200, [&](size_t done, size_t total) {
          err << "oomcast-predictor backtest: pulled history " << done << "/" << total
              << " queries\n";
        });
    if (!pulled.ok()) {
      err << "oomcast-predictor backtest: " << pulled.status().ToString() << "\n";
      return 1;
    }
    recorded = std::move(*pulled);
  }
  ReplayClock clock;
  HistoryPrometheusClient history(std::move(recorded), &clock, PredictorLabels());
  if (!history
           .TimeRange(ScopeToNamespaces(config.engine.queries.memory_query,
                                        config.engine.queries.namespaces))
           .ok()) {
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
  auto run = predictor::RunBacktest(&history, &clock, options, truth_ptr, records,
                                    /*keep_forecasts=*/!req.report_path.empty());
  if (!run.ok()) {
    err << "oomcast-predictor backtest: " << run.status().ToString() << "\n";
    return 1;
  }
  if (!req.report_path.empty()) {
    std::ofstream page(req.report_path);
    HtmlReportOptions report;
    report.source = req.openmetrics_path.empty()
                        ? config.backend.base_url + " from " + FormatRfc3339(req.start_s) + " to " +
                              FormatRfc3339(req.end_s)
                        : req.openmetrics_path;
    report.horizon_seconds = config.engine.model.horizon_seconds;
    Status written = page ? WriteHtmlReport(*run, report, page)
                          : InternalError("cannot write " + req.report_path);
    page.close();
    if (!written.ok() || !page) {
      err << "oomcast-predictor backtest: report: "
          << (written.ok() ? "cannot write " + req.report_path : written.ToString()) << "\n";
      return 2;
    }
  }
  // With records on stdout the summary goes to stderr so the stream stays JSON lines.
  std::ostream& sout = records == &out ? err : out;
  if (req.summary_json)
    WriteSummaryJson(run->summary, sout);
  else
    WriteSummaryText(run->summary, sout);
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
