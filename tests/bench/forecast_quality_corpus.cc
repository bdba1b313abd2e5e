// Forecast quality on the dev scenario corpus: replays it through the model at a 30 s step and
// prints the summary (the same numbers as tools/score.py on the written JSON lines).
// usage: forecast_quality_corpus [CORPUS_DIR] [OUT.jsonl]
// With OUT.jsonl, the JSON lines are also scored by tools/score.py (when python3 and the script
// are found next to the corpus, at CORPUS_DIR/../../tools/score.py) for comparison.
// Exits 0 with a SKIPPED message when the corpus is absent.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "oomcast/predictor/backtest.h"
#include "oomcast/predictor/openmetrics.h"

int main(int argc, char** argv) {
  using namespace oomcast::predictor;
  const std::string dir = argc > 1 ? argv[1] : "/work/shared/data/dev-scenarios";
  const std::string om = dir + "/scenarios.om.gz";
  const std::string truth_path = dir + "/truth.json";
  if (!std::ifstream(om) || !std::ifstream(truth_path)) {
    std::printf("SKIPPED: corpus not found at %s\n", dir.c_str());
    return 0;
  }
  auto t0 = std::chrono::steady_clock::now();
  OpenMetricsOptions opts;
  opts.metrics = {"container_memory_rss", "container_spec_memory_limit_bytes"};
  auto data = ReadOpenMetricsFile(om, opts);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  auto t1 = std::chrono::steady_clock::now();
  auto truth = ReadTruthFile(truth_path);
  if (!truth.ok()) {
    std::fprintf(stderr, "%s\n", truth.status().ToString().c_str());
    return 1;
  }
  HistoryMap history = HistoryFromOpenMetrics(*data);
  BacktestOptions options;
  std::ofstream out;
  if (argc > 2) out.open(argv[2]);
  auto summary = RunBacktest(history, options, &*truth, argc > 2 ? &out : nullptr);
  auto t2 = std::chrono::steady_clock::now();
  if (!summary.ok()) {
    std::fprintf(stderr, "%s\n", summary.status().ToString().c_str());
    return 1;
  }
  WriteSummaryText(*summary, std::cout);
  std::printf("read %.2fs (%zu samples), replay+score %.2fs\n",
              std::chrono::duration<double>(t1 - t0).count(), data->samples,
              std::chrono::duration<double>(t2 - t1).count());
  if (argc > 2) {
    out.close();
    const std::string score = dir + "/../../tools/score.py";
    if (std::ifstream(score)) {
      std::printf("\n--- tools/score.py on %s ---\n", argv[2]);
      std::fflush(stdout);
      // python3 score.py TRUTH RECORDS, without a shell (no quoting of the paths).
      std::string python = "python3", truth_arg = truth_path, records_arg = argv[2];
      char* child_argv[] = {python.data(), const_cast<char*>(score.c_str()), truth_arg.data(),
                            records_arg.data(), nullptr};
      pid_t pid = 0;
      int status = 0;
      if (posix_spawnp(&pid, "python3", nullptr, nullptr, child_argv, environ) != 0 ||
          waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::printf("(score.py failed)\n");
      }
    }
  }
  return 0;
}
