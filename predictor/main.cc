// oomcast-predictor: forecasts container OOM kills from a Prometheus-compatible TSDB.
// main only parses the command line and wires the real clock and clients.
#include <cmath>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/http_client.h"
#include "oomcast/log.h"
#include "oomcast/predictor/commands.h"
#include "oomcast/predictor/config.h"
#include "oomcast/predictor/simulator.h"
#include "oomcast/predictor/version.h"
#include "oomcast/units.h"

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
  oomcast-predictor once --openmetrics FILE [--at TIME] [-o table|json]
      The forecast at the end (or at TIME) of a recorded history (OpenMetrics with
      timestamps, plain or .gz), replayed as the live predictor would have seen it.
  oomcast-predictor backtest (--openmetrics FILE | --prometheus URL --start T --end T)
                    [--truth truth.json] [--eval-step 30s] [--records FILE|-] [--summary-json]
      Replays history through the model (data up to t only at each step) and scores the
      alarms: recall at 5/10/15 min, median lead, precision, false alarms per series-day.
      Without --truth, kills are inferred from the data (limit reached, then a restart).
  oomcast-predictor simulate --out-openmetrics FILE[.gz] --out-truth FILE
                    [--seed N] [--duration 3h] [--scrape-interval 15s] [--per-family 2]
                    [--family NAME]... [--sim-namespace NS]
                    [--real-curves CSV[.gz] [--leak-fraction 0.5] [--curve ID]...]
      The project's workload simulator: container memory of 12 families (leaks, GC
      sawtooth, diurnal load, warm-up, spikes, batch...) with kernel-style kills and
      kubelet back-off, plus ground truth; data/sample/ was made with it. --step is
      --scrape-interval. With --real-curves: real curves (value 0..1 of the limit,
      timestamp, container id) as background, --per-family variants each, leaks
      (linear, exp, step, stop, fast) injected into --leak-fraction of them.
  oomcast-predictor serve --prometheus URL [--listen-address 0.0.0.0:8080] [flags]
      The polling loop with /metrics, /healthz, /readyz.
  oomcast-predictor version

)";

int Usage(const std::string& error) {
  std::cerr << "oomcast-predictor: " << error << "\n\n"
            << kUsage << "Run 'oomcast-predictor help' for all flags.\n";
  return 2;
}

bool IsBool(std::string_view name) {
  return IsPredictorBoolFlag(name) || name == "help" || name == "summary-json";
}

// A clock stopped at one instant: `once --at` evaluates the past as if it were now.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(double t) : t_(t) {}
  double NowUnixSeconds() const override { return t_; }
  void SleepFor(double seconds) override { t_ += seconds; }

 private:
  double t_;
};

// `simulate`: its own flags (no TSDB, no model).
int Simulate(const std::vector<std::string>& args) {
  auto parsed = ParseArgs(args, nullptr);
  if (!parsed.ok()) return Usage(parsed.status().message());
  SimulatorOptions opt;
  RealCurveOptions real;  // With --real-curves CSV: real curves as background.
  std::string om, truth, real_csv;
  for (const auto& [name, value] : parsed->flags) {
    auto duration = [&](double* out) -> bool {
      auto d = ParseDurationSeconds(value);
      if (!d.ok() || *d <= 0) return false;
      *out = *d;
      return true;
    };
    if (name == "out-openmetrics")
      om = value;
    else if (name == "out-truth")
      truth = value;
    else if (name == "seed")
      opt.seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (name == "start") {
      auto t = ParseTimestamp(value);
      if (!t.ok()) return Usage("--start: " + t.status().message());
      opt.start_s = *t;
    } else if (name == "duration") {
      if (!duration(&opt.duration_s)) return Usage("--duration: must be a positive duration");
    } else if (name == "scrape-interval" || name == "step") {
      if (!duration(&opt.step_s)) return Usage("--" + name + ": must be a positive duration");
    } else if (name == "real-curves") {
      real_csv = value;
    } else if (name == "leak-fraction") {
      real.leak_fraction = std::strtod(value.c_str(), nullptr);
    } else if (name == "curve") {
      real.curves.push_back(value);
    } else if (name == "per-family") {
      opt.containers_per_family = std::atoi(value.c_str());
      if (opt.containers_per_family <= 0) return Usage("--per-family: must be a positive integer");
    } else if (name == "family")
      opt.families.push_back(value);
    else if (name == "sim-namespace")
      opt.namespace_name = value;
    else
      return Usage("unknown flag --" + name + " for simulate");
  }
  if (om.empty() || truth.empty())
    return Usage("simulate: --out-openmetrics and --out-truth are required");
  real.seed = opt.seed;
  real.step_s = opt.step_s;
  real.variants_per_curve = opt.containers_per_family;
  if (opt.namespace_name != "sample") real.namespace_name = opt.namespace_name;
  Status st = real_csv.empty() ? SimulateToFiles(opt, om, truth)
                               : SimulateRealCurvesToFiles(real_csv, real, om, truth);
  if (!st.ok()) {
    std::cerr << "oomcast-predictor simulate: " << st.ToString() << "\n";
    return st.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::cout << "wrote " << om << " and " << truth << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage("missing command");
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsage << PredictorFlagsHelp()
              << "Serve:\n  --listen-address ADDR                 /metrics, /healthz, /readyz "
                 "(default 0.0.0.0:8080)\nOnce:\n  -o, --output table|json\n  --openmetrics FILE  "
                 "                 replay a recorded history instead of a TSDB\n  --at TIME       "
                 "                      evaluate at TIME (Unix s or RFC 3339)\n";
    return 0;
  }
  if (command == "simulate") return Simulate(args);
  if (command == "version") {
    std::cout << "oomcast-predictor " << Version() << "\n";
    return 0;
  }
  if (command != "once" && command != "serve" && command != "backtest") {
    return Usage("unknown command \"" + command + "\"");
  }

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
  std::string openmetrics;
  double at = std::nan("");
  BacktestRequest bt;
  for (const auto& [name, value] : parsed->flags) {
    if (name == "config") continue;
    if (name == "openmetrics" && command != "serve") {
      openmetrics = value;
      continue;
    }
    auto time_flag = [&](double* out) -> bool {
      auto t = ParseTimestamp(value);
      if (!t.ok()) return false;
      *out = *t;
      return true;
    };
    if (name == "at" && command == "once") {
      if (!time_flag(&at)) return Usage("--at: " + ParseTimestamp(value).status().message());
      continue;
    }
    if (command == "backtest") {
      if (name == "start" || name == "end") {
        if (!time_flag(name == "start" ? &bt.start_s : &bt.end_s)) {
          return Usage("--" + name + ": " + ParseTimestamp(value).status().message());
        }
        continue;
      }
      if (name == "truth") {
        bt.truth_path = value;
        continue;
      }
      if (name == "records") {
        bt.records_path = value;
        continue;
      }
      if (name == "summary-json") {
        bt.summary_json = value == "true";
        continue;
      }
      if (name == "eval-step") {
        auto d = ParseDurationSeconds(value);
        if (!d.ok() || *d <= 0) return Usage("--eval-step: must be a positive duration");
        bt.eval_step_seconds = *d;
        continue;
      }
    }
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
  bool offline = !openmetrics.empty();
  if (command == "backtest" && !offline &&
      (std::isnan(bt.start_s) || std::isnan(bt.end_s) || bt.end_s <= bt.start_s)) {
    return Usage("backtest: give --openmetrics FILE, or --prometheus URL with --start < --end");
  }
  Status valid = ValidateConfig(config, /*need_url=*/!offline);
  if (!valid.ok()) return Usage(valid.message());
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config.log_level, &level);
  SetLogLevel(level);

  if (offline && command == "once") {
    return RunOnceOpenMetrics(config, openmetrics, at, format, std::cout, std::cerr);
  }
  if (offline && command == "backtest") {
    bt.openmetrics_path = openmetrics;
    return RunBacktest(config, bt, nullptr, std::cout, std::cerr);
  }

  SystemClock system_clock;
  FixedClock fixed_clock(at);
  Clock& clock = std::isnan(at) ? static_cast<Clock&>(system_clock) : fixed_clock;
  auto http = NewCpprestHttpClient(config.http);
  if (!http.ok()) return Usage(http.status().message());
  PrometheusBackendConfig backend = config.backend;
  backend.keep_labels = PredictorLabels();
  auto client = NewHttpPrometheusClient(std::move(backend), http->get(), &clock);

  if (command == "backtest") return RunBacktest(config, bt, client.get(), std::cout, std::cerr);
  if (command == "once") {
    return RunOnce(config, format, client.get(), &clock, std::cout, std::cerr);
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  return RunServe(config, client.get(), &clock, g_stop, std::cerr);
}
