// The oomcast-predictor subcommands as library functions, so tests can drive them; main.cc only
// parses argv and wires the real clock and clients. Each returns a process exit code:
// 0 success, 1 run-time failure (TSDB down...), 2 usage or configuration error.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/predictor/config.h"
#include "oomcast/prometheus_client.h"

namespace oomcast::predictor {

enum class OutputFormat { kTable, kJson };

// One forecast pass against a TSDB: backfills the window, forecasts, prints.
int RunOnce(const PredictorConfig& config, OutputFormat format, PrometheusClient* client,
            Clock* clock, std::ostream& out, std::ostream& err);

// The polling loop with /metrics, /healthz, /readyz on config.listen_address until `stop`.
int RunServe(const PredictorConfig& config, PrometheusClient* client, Clock* clock,
             const std::atomic<bool>& stop, std::ostream& err);

}  // namespace oomcast::predictor
