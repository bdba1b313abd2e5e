#include "oomcast/predictor/cli.h"

#include <cmath>
#include <cstdlib>
#include <ostream>

#include "oomcast/flags.h"
#include "oomcast/predictor/version.h"
#include "oomcast/units.h"

namespace oomcast::predictor {
namespace {

// Usage of each command: what `oomcast-predictor CMD --help` prints (then the shared flags
// for the commands that take them).
struct CommandHelp {
  const char* name;
  bool predictor_flags;  // Takes the TSDB / query / forecast flags of PredictorFlagsHelp().
  const char* usage;
};

const CommandHelp kCommands[] = {
    {"once", true,
     R"(  oomcast-predictor once --prometheus URL [flags] [-o table|json]
      One forecast pass; prints a table sorted by ETA, or JSON lines.
  oomcast-predictor once --openmetrics FILE [--at TIME] [-o table|json]
      The forecast at the end (or at TIME) of a recorded history (OpenMetrics with
      timestamps, plain or .gz), replayed through the live engine as if it had run since
      the first sample.
    -o, --output table|json
    --openmetrics FILE                  replay a recorded history instead of a TSDB
    --at TIME                           evaluate at TIME (Unix s or RFC 3339)
)"},
    {"backtest", true,
     R"(  oomcast-predictor backtest (--openmetrics FILE | --prometheus URL --start T --end T)
                    [--truth truth.json] [--eval-step 30s] [--records FILE|-] [--summary-json]
                    [--report FILE.html] [--namespace NS]...
      Replays history through the live engine (data up to t only at each step) and scores
      the alarms like tools/score.py: recall at 5/10/15 min, median lead, precision, false
      alarms per series-day. Without --truth, kills are inferred from the data (limit
      reached, then a restart). With --prometheus the history is pulled first (progress on
      stderr), only of the --namespace namespaces when given.
    --truth FILE                        ground truth (truth.json of the dev corpus)
    --eval-step D                       evaluation step (default 30s)
    --records FILE|-                    every forecast as JSON lines ("-": stdout)
    --summary-json                      the summary as one JSON object
    --report FILE.html                  a self-contained HTML page: scores, and per container
                                        memory, limit, trend, alarms and kills, worst first
)"},
    {"simulate", false,
     R"(  oomcast-predictor simulate --out-openmetrics FILE[.gz] --out-truth FILE
                    [--seed N] [--duration 3h] [--scrape-interval 15s] [--per-family 2]
                    [--family NAME]... [--sim-namespace NS] [--start TIME]
                    [--real-curves CSV[.gz] [--leak-fraction 0.5] [--curve ID]...]
      The project's workload simulator: container memory of 12 families (leaks, GC
      sawtooth, diurnal load, warm-up, spikes, batch...) with kernel-style kills and
      kubelet back-off, plus ground truth; data/sample/ was made with it. --step is
      --scrape-interval. With --real-curves: real curves (value 0..1 of the limit,
      timestamp, container id) as background, --per-family variants each, leaks
      (linear, exp, step, stop, fast) injected into --leak-fraction of them.
)"},
    {"serve", true,
     R"(  oomcast-predictor serve --prometheus URL [--listen-address 0.0.0.0:8080] [flags]
      The polling loop with /metrics, /healthz, /readyz.
    --listen-address ADDR               /metrics, /healthz, /readyz (default 0.0.0.0:8080)
)"},
    {"canary", false,
     R"(  oomcast-predictor canary --openmetrics FILE --namespace NS --baseline SELECTOR
                    --canary SELECTOR [--eval-step 30s] [--config FILE] -o json
      Replays a recorded history through a canary memory comparison (pod labels from
      kube_pod_labels); one JSON verdict per evaluation step. docs/canary.md.
)"},
    {"version", false, R"(  oomcast-predictor version
      Prints the version.
)"},
};

const char* kIntro =
    "oomcast-predictor: forecast container OOM kills from Prometheus-compatible TSDBs.\n\n";

std::string AllUsage() {
  std::string out = std::string(kIntro) + "Usage:\n";
  for (const auto& c : kCommands) out += c.usage;
  out += "  oomcast-predictor help | CMD --help\n\n";
  return out;
}

const CommandHelp* FindCommand(const std::string& name) {
  for (const auto& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

// `CMD --help` / `CMD -h` anywhere among the arguments.
bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h" || a == "--help=true") return true;
  }
  return false;
}

Invocation CommandUsage(const CommandHelp& c) {
  Invocation inv;
  inv.kind = Invocation::Kind::kPrintUsage;
  inv.text = std::string(kIntro) + "Usage:\n" + c.usage + "\n";
  if (c.predictor_flags) inv.text += PredictorFlagsHelp();
  return inv;
}

Invocation Usage(const std::string& error) {
  Invocation inv;
  inv.kind = Invocation::Kind::kUsageError;
  inv.text = "oomcast-predictor: " + error + "\n\n" + AllUsage() +
             "Run 'oomcast-predictor help' for all flags.\n";
  return inv;
}

bool IsBool(std::string_view name) { return IsPredictorBoolFlag(name) || name == "summary-json"; }

// A flag of `backtest` alone: true when `name` is one (and `bt` took it), false when it is not.
StatusOr<bool> ApplyBacktestFlag(const std::string& name, const std::string& value,
                                 BacktestRequest* bt) {
  if (name == "start" || name == "end") {
    auto t = ParseTimestamp(value);
    if (!t.ok()) return InvalidArgumentError("--" + name + ": " + t.status().message());
    (name == "start" ? bt->start_s : bt->end_s) = *t;
  } else if (name == "truth") {
    bt->truth_path = value;
  } else if (name == "records") {
    bt->records_path = value;
  } else if (name == "report") {
    bt->report_path = value;
  } else if (name == "summary-json") {
    bt->summary_json = value == "true";
  } else if (name == "eval-step") {
    auto d = ParseDurationSeconds(value);
    if (!d.ok() || *d <= 0) return InvalidArgumentError("--eval-step: must be a positive duration");
    bt->eval_step_seconds = *d;
  } else {
    return false;
  }
  return true;
}

// `simulate`: its own flags (no TSDB, no model).
Invocation ParseSimulate(const std::vector<std::string>& args) {
  auto parsed = ParseArgs(args, nullptr);
  if (!parsed.ok()) return Usage(parsed.status().message());
  Invocation inv;
  inv.kind = Invocation::Kind::kSimulate;
  SimulatorOptions& opt = inv.simulate.options;
  RealCurveOptions& real = inv.simulate.real;
  for (const auto& [name, value] : parsed->flags) {
    auto duration = [&](double* out) -> bool {
      auto d = FlagPositiveDuration(name, value);
      if (!d.ok()) return false;
      *out = *d;
      return true;
    };
    if (name == "out-openmetrics") {
      inv.simulate.openmetrics_out = value;
    } else if (name == "out-truth") {
      inv.simulate.truth_out = value;
    } else if (name == "seed") {
      opt.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (name == "start") {
      auto t = ParseTimestamp(value);
      if (!t.ok()) return Usage("--start: " + t.status().message());
      opt.start_s = *t;
    } else if (name == "duration") {
      if (!duration(&opt.duration_s)) return Usage("--duration: must be a positive duration");
    } else if (name == "scrape-interval" || name == "step") {
      if (!duration(&opt.step_s)) return Usage("--" + name + ": must be a positive duration");
    } else if (name == "real-curves") {
      inv.simulate.real_curves_csv = value;
    } else if (name == "leak-fraction") {
      real.leak_fraction = std::strtod(value.c_str(), nullptr);
    } else if (name == "curve") {
      real.curves.push_back(value);
    } else if (name == "per-family") {
      opt.containers_per_family = std::atoi(value.c_str());
      if (opt.containers_per_family <= 0) return Usage("--per-family: must be a positive integer");
    } else if (name == "family") {
      opt.families.push_back(value);
    } else if (name == "sim-namespace") {
      opt.namespace_name = value;
    } else {
      return Usage("unknown flag --" + name + " for simulate");
    }
  }
  if (inv.simulate.openmetrics_out.empty() || inv.simulate.truth_out.empty()) {
    return Usage("simulate: --out-openmetrics and --out-truth are required");
  }
  real.seed = opt.seed;
  real.step_s = opt.step_s;
  real.variants_per_curve = opt.containers_per_family;
  if (opt.namespace_name != "sample") real.namespace_name = opt.namespace_name;
  return inv;
}

// once, backtest, serve: the predictor's configuration and each command's own flags.
Invocation ParsePredictorCommand(const std::string& command, const std::vector<std::string>& args) {
  auto parsed = ParseArgs(args, IsBool);
  if (!parsed.ok()) return Usage(parsed.status().message());
  if (!parsed->positional.empty()) {
    return Usage("unexpected argument \"" + parsed->positional[0] + "\"");
  }
  Invocation inv;
  inv.kind = command == "once"       ? Invocation::Kind::kOnce
             : command == "backtest" ? Invocation::Kind::kBacktest
                                     : Invocation::Kind::kServe;
  PredictorConfig& config = inv.config;
  // The config file first, so that flags override it wherever they stand.
  for (const auto& [name, value] : parsed->flags) {
    if (name != "config") continue;
    auto loaded = LoadConfigFile(value, config);
    if (!loaded.ok()) return Usage(loaded.status().message());
    config = *loaded;
  }
  BacktestRequest& bt = inv.backtest;
  for (const auto& [name, value] : parsed->flags) {
    if (name == "config") continue;
    if (name == "openmetrics" && command != "serve") {
      inv.openmetrics = value;
      continue;
    }
    if (name == "at" && command == "once") {
      auto t = ParseTimestamp(value);
      if (!t.ok()) return Usage("--at: " + t.status().message());
      inv.at_unix_s = *t;
      continue;
    }
    if (command == "backtest") {
      auto applied = ApplyBacktestFlag(name, value, &bt);
      if (!applied.ok()) return Usage(applied.status().message());
      if (*applied) continue;
    }
    if (name == "output" && command == "once") {
      if (value == "table") {
        inv.format = OutputFormat::kTable;
      } else if (value == "json") {
        inv.format = OutputFormat::kJson;
      } else {
        return Usage("-o: must be table or json, got \"" + value + "\"");
      }
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
  const bool offline = !inv.openmetrics.empty();
  if (command == "backtest" && !offline &&
      (std::isnan(bt.start_s) || std::isnan(bt.end_s) || bt.end_s <= bt.start_s)) {
    return Usage("backtest: give --openmetrics FILE, or --prometheus URL with --start < --end");
  }
  Status valid = ValidateConfig(config, /*need_url=*/!offline);
  if (!valid.ok()) return Usage(valid.message());
  if (offline) bt.openmetrics_path = inv.openmetrics;
  return inv;
}

}  // namespace

Invocation ParseCommandLine(const std::vector<std::string>& argv) {
  std::vector<std::string> args = argv;
  if (args.empty()) return Usage("missing command");
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "help" || command == "--help" || command == "-h") {
    const CommandHelp* c = args.empty() ? nullptr : FindCommand(args[0]);
    if (c != nullptr) return CommandUsage(*c);
    Invocation inv;
    inv.kind = Invocation::Kind::kPrintUsage;
    inv.text = AllUsage() + PredictorFlagsHelp();
    return inv;
  }
  if (const CommandHelp* c = FindCommand(command); c != nullptr && WantsHelp(args)) {
    return CommandUsage(*c);
  }
  if (command == "simulate") return ParseSimulate(args);
  if (command == "canary" || command == "version") {
    Invocation inv;
    inv.kind = command == "canary" ? Invocation::Kind::kCanary : Invocation::Kind::kVersion;
    inv.args = args;
    return inv;
  }
  if (command != "once" && command != "serve" && command != "backtest") {
    return Usage("unknown command \"" + command + "\"");
  }
  return ParsePredictorCommand(command, args);
}

int RunSimulate(const SimulateRequest& r, std::ostream& out, std::ostream& err) {
  Status st = r.real_curves_csv.empty() ? SimulateToFiles(r.options, r.openmetrics_out, r.truth_out)
                                        : SimulateRealCurvesToFiles(r.real_curves_csv, r.real,
                                                                    r.openmetrics_out, r.truth_out);
  if (!st.ok()) {
    err << "oomcast-predictor simulate: " << st.ToString() << "\n";
    return st.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  out << "wrote " << r.openmetrics_out << " and " << r.truth_out << "\n";
  return 0;
}

}  // namespace oomcast::predictor
