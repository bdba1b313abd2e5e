#include "oomcast/predictor/commands.h"

#include <ostream>

#include "oomcast/http_server.h"
#include "oomcast/log.h"
#include "oomcast/predictor/engine.h"
#include "oomcast/predictor/exporter.h"
#include "oomcast/predictor/report.h"

namespace oomcast::predictor {

int RunOnce(const PredictorConfig& config, OutputFormat format, PrometheusClient* client,
            Clock* clock, std::ostream& out, std::ostream& err) {
  Engine engine(config.engine, client, clock);
  engine.set_backend_name(config.backend.name);
  Status st = engine.RunCycle();
  if (!st.ok()) {
    err << "oomcast-predictor once: " << st.ToString() << "\n";
    return 1;
  }
  auto snap = engine.Snapshot();
  if (format == OutputFormat::kJson) {
    for (const auto& f : *snap.forecasts) out << FormatForecastJsonLine(f) << "\n";
  } else {
    out << FormatForecastTable(*snap.forecasts);
    size_t alarms = 0;
    for (const auto& f : *snap.forecasts) alarms += f.oom_predicted ? 1 : 0;
    out << "\n"
        << snap.forecasts->size() << " containers, " << alarms
        << " forecast to reach their limit within " << config.engine.model.horizon_seconds
        << " s (* = warming up)\n";
  }
  return 0;
}

int RunServe(const PredictorConfig& config, PrometheusClient* client, Clock* clock,
             const std::atomic<bool>& stop, std::ostream& err) {
  Engine engine(config.engine, client, clock);
  engine.set_backend_name(config.backend.name);
  MetricsExporter exporter(&engine, clock);
  auto server = StartHttpServer(config.listen_address, [&](const HttpServerRequest& r) {
    HttpServerResponse res;
    if (r.path == "/metrics") {
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      res.body = exporter.Render();
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
  engine.Run(stop, [&](double seconds, const Status& st) { exporter.ObserveCycle(seconds, st); });
  (*server)->Stop();
  LogInfo("stopped");
  return 0;
}

}  // namespace oomcast::predictor
