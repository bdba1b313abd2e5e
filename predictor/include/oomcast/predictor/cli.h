// The command line of oomcast-predictor, parsed into what main wires and runs: which command,
// its configuration, or the text to print. No I/O but reading a --config file; main.cc only
// builds the real clock and clients for the result and calls the command (commands.h).
#pragma once

#include <string>
#include <vector>

#include "oomcast/predictor/commands.h"
#include "oomcast/predictor/config.h"
#include "oomcast/predictor/simulator.h"

namespace oomcast::predictor {

// `simulate`'s request: the simulator's options and where to write.
struct SimulateRequest {
  SimulatorOptions options;
  RealCurveOptions real;        // With real_curves_csv: real curves as background.
  std::string real_curves_csv;  // Empty: the synthetic families.
  std::string openmetrics_out;
  std::string truth_out;
};

struct Invocation {
  enum class Kind {
    kPrintUsage,  // Print `text` on stdout, exit 0 (help, CMD --help).
    kUsageError,  // Print `text` on stderr, exit 2 (bad command line or configuration).
    kVersion,
    kSimulate,
    kCanary,  // RunCanaryCommand(args) parses its own flags.
    kOnce,
    kBacktest,
    kServe,
  };
  Kind kind = Kind::kUsageError;
  std::string text;
  std::vector<std::string> args;  // kCanary: the arguments after the command.
  // kOnce, kBacktest, kServe: the configuration after --config and the flags, validated.
  PredictorConfig config;
  OutputFormat format = OutputFormat::kTable;
  std::string openmetrics;  // once / backtest from a recorded history (no TSDB) when set.
  double at_unix_s = kNaN;  // once --at: the past evaluated as if it were now.
  BacktestRequest backtest;
  SimulateRequest simulate;
};

// Parses argv[1..]. Never fails: errors are a kUsageError whose text names the flag and
// repeats the usage.
Invocation ParseCommandLine(const std::vector<std::string>& args);

// Runs `simulate`: writes the history and its ground truth. Exit code (2: bad options).
int RunSimulate(const SimulateRequest& request, std::ostream& out, std::ostream& err);

}  // namespace oomcast::predictor
