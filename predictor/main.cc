// oomcast-predictor: forecasts container OOM kills from a Prometheus-compatible TSDB.
// main only parses the command line and wires the real clock and clients.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/http_client.h"
#include "oomcast/log.h"
#include "oomcast/predictor/commands.h"
#include "oomcast/predictor/config.h"
#include "oomcast/predictor/version.h"

namespace {

using namespace oomcast;
using namespace oomcast::predictor;

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

const char* kUsage =
    R"(oomcast-predictor: forecast container OOM kills from Prometheus-compatible TSDBs.

Usage:
  oomcast-predictor once --prometheus URL [flags] [-o table|json]
      One forecast pass; prints a table sorted by ETA, or JSON lines.
  oomcast-predictor serve --prometheus URL [--listen-address 0.0.0.0:8080] [flags]
      The polling loop with /metrics, /healthz, /readyz.
  oomcast-predictor version

)";

int Usage(const std::string& error) {
  std::cerr << "oomcast-predictor: " << error << "\n\n"
            << kUsage << "Run 'oomcast-predictor help' for all flags.\n";
  return 2;
}

bool IsBool(std::string_view name) { return IsPredictorBoolFlag(name) || name == "help"; }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage("missing command");
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsage << PredictorFlagsHelp()
              << "Serve:\n  --listen-address ADDR                 /metrics, /healthz, /readyz "
                 "(default 0.0.0.0:8080)\nOnce:\n  -o, --output table|json\n";
    return 0;
  }
  if (command == "version") {
    std::cout << "oomcast-predictor " << Version() << "\n";
    return 0;
  }
  if (command != "once" && command != "serve") return Usage("unknown command \"" + command + "\"");

  auto parsed = ParseArgs(args, IsBool);
  if (!parsed.ok()) return Usage(parsed.status().message());
  if (!parsed->positional.empty())
    return Usage("unexpected argument \"" + parsed->positional[0] + "\"");

  PredictorConfig config;
  // The config file first, so that flags override it wherever they stand.
  for (const auto& [name, value] : parsed->flags) {
    if (name != "config") continue;
    auto loaded = LoadConfigFile(value, config);
    if (!loaded.ok()) return Usage(loaded.status().message());
    config = *loaded;
  }
  OutputFormat format = OutputFormat::kTable;
  for (const auto& [name, value] : parsed->flags) {
    if (name == "config") continue;
    if (name == "output" && command == "once") {
      if (value == "table")
        format = OutputFormat::kTable;
      else if (value == "json")
        format = OutputFormat::kJson;
      else
        return Usage("-o: must be table or json, got \"" + value + "\"");
      continue;
    }
    if (name == "listen-address" && command == "serve") {
      config.listen_address = value;
      continue;
    }
    auto applied = ApplyPredictorFlag(name, value, &config);
    if (!applied.ok()) return Usage(applied.status().message());
    if (!*applied) return Usage("unknown flag --" + name + " for " + command);
  }
  Status valid = ValidateConfig(config, /*need_url=*/true);
  if (!valid.ok()) return Usage(valid.message());
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config.log_level, &level);
  SetLogLevel(level);

  SystemClock clock;
  auto http = NewCpprestHttpClient(config.http);
  if (!http.ok()) return Usage(http.status().message());
  auto client = NewHttpPrometheusClient(config.backend, http->get(), &clock);

  if (command == "once") {
    return RunOnce(config, format, client.get(), &clock, std::cout, std::cerr);
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  return RunServe(config, client.get(), &clock, g_stop, std::cerr);
}
