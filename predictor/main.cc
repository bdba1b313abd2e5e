// oomcast-predictor: forecasts container OOM kills from a Prometheus-compatible TSDB.
// main only wires: the command line is parsed by ParseCommandLine (cli.h); main builds the real
// clock and clients for it and calls the command (commands.h).
#include <atomic>
#include <cmath>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/http_client.h"
#include "oomcast/log.h"
#include "oomcast/predictor/canary_replay.h"
#include "oomcast/predictor/cli.h"
#include "oomcast/predictor/commands.h"
#include "oomcast/predictor/history_client.h"
#include "oomcast/predictor/version.h"

namespace {

using namespace oomcast;
using namespace oomcast::predictor;

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  const Invocation inv = ParseCommandLine({argv + 1, argv + argc});
  switch (inv.kind) {
    case Invocation::Kind::kPrintUsage:
      std::cout << inv.text;
      return 0;
    case Invocation::Kind::kUsageError:
      std::cerr << inv.text;
      return 2;
    case Invocation::Kind::kVersion:
      std::cout << "oomcast-predictor " << Version() << "\n";
      return 0;
    case Invocation::Kind::kSimulate:
      return RunSimulate(inv.simulate, std::cout, std::cerr);
    case Invocation::Kind::kCanary:
      return RunCanaryCommand(inv.args, std::cout, std::cerr);
    case Invocation::Kind::kOnce:
    case Invocation::Kind::kBacktest:
    case Invocation::Kind::kServe:
      break;
  }
  const PredictorConfig& config = inv.config;
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config.log_level, &level);  // Checked by ParseCommandLine.
  SetLogLevel(level);

  // From a recorded history: no TSDB, no clock of ours (the replay sets its own).
  if (!inv.openmetrics.empty() && inv.kind == Invocation::Kind::kOnce) {
    return RunOnceOpenMetrics(config, inv.openmetrics, inv.at_unix_s, inv.format, std::cout,
                              std::cerr);
  }
  if (!inv.openmetrics.empty())
    return RunBacktest(config, inv.backtest, nullptr, std::cout, std::cerr);

  SystemClock system_clock;
  ReplayClock fixed_clock(inv.at_unix_s);  // `once --at`: the past evaluated as if it were now.
  Clock& clock = std::isnan(inv.at_unix_s) ? static_cast<Clock&>(system_clock) : fixed_clock;
  auto http = NewHttpClient(config.http);
  if (!http.ok()) {
    std::cerr << "oomcast-predictor: " << http.status().message() << "\n";
    return 2;
  }
  PrometheusBackendConfig backend = config.backend;
  backend.keep_labels = PredictorLabels();
  auto client = NewHttpPrometheusClient(std::move(backend), http->get(), &clock);

  switch (inv.kind) {
    case Invocation::Kind::kBacktest:
      return RunBacktest(config, inv.backtest, client.get(), std::cout, std::cerr);
    case Invocation::Kind::kOnce:
      return RunOnce(config, inv.format, client.get(), &clock, std::cout, std::cerr);
    default:
      std::signal(SIGINT, OnSignal);
      std::signal(SIGTERM, OnSignal);
      return RunServe(config, client.get(), &clock, g_stop, std::cerr);
  }
}
