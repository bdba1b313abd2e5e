#include "oomcast/predictor/cli.h"

#include <catch2/catch.hpp>

namespace oomcast::predictor {
namespace {

using Kind = Invocation::Kind;

TEST_CASE("once: predictor flags, -o, --at, and validation") {
  auto inv = ParseCommandLine({"once", "--prometheus", "http://p:9090", "--horizon=20m", "-o",
                               "json", "--namespace", "a", "--namespace", "b"});
  REQUIRE(inv.kind == Kind::kOnce);
  CHECK(inv.config.backend.base_url == "http://p:9090");
  CHECK(inv.config.engine.model.horizon_seconds == 1200);
  CHECK(inv.format == OutputFormat::kJson);
  CHECK(inv.config.engine.queries.namespaces == std::vector<std::string>{"a", "b"});
  CHECK(std::isnan(inv.at_unix_s));

  inv = ParseCommandLine({"once", "--openmetrics", "h.om", "--at", "2026-01-01T00:00:00Z"});
  REQUIRE(inv.kind == Kind::kOnce);
  CHECK(inv.openmetrics == "h.om");
  CHECK(inv.at_unix_s == 1767225600);

  // No TSDB and no history: the URL is required.
  inv = ParseCommandLine({"once"});
  REQUIRE(inv.kind == Kind::kUsageError);
  CHECK(inv.text.find("--prometheus") != std::string::npos);
  inv = ParseCommandLine({"once", "--openmetrics", "h.om", "-o", "yaml"});
  REQUIRE(inv.kind == Kind::kUsageError);
  CHECK(inv.text.rfind("oomcast-predictor: -o: must be table or json", 0) == 0);
}

TEST_CASE("flags of another command, unknown flags and stray arguments are usage errors") {
  auto inv = ParseCommandLine({"serve", "--prometheus", "http://p", "--at", "0"});
  REQUIRE(inv.kind == Kind::kUsageError);
  CHECK(inv.text.rfind("oomcast-predictor: unknown flag --at for serve", 0) == 0);
  inv = ParseCommandLine({"backtest", "--no-such-flag", "1"});
  REQUIRE(inv.kind == Kind::kUsageError);
  CHECK(inv.text.find("unknown flag --no-such-flag") != std::string::npos);
  inv = ParseCommandLine({"once", "--prometheus", "http://p", "stray"});
  REQUIRE(inv.kind == Kind::kUsageError);
  CHECK(inv.text.find("unexpected argument \"stray\"") != std::string::npos);
  inv = ParseCommandLine({"once", "--prometheus"});
  REQUIRE(inv.kind == Kind::kUsageError);
  CHECK(inv.text.find("--prometheus: missing value") != std::string::npos);
  inv = ParseCommandLine({"once", "--prometheus", "http://p", "--step", "fast"});
  REQUIRE(inv.kind == Kind::kUsageError);
  CHECK(inv.text.find("--step: ") != std::string::npos);
  CHECK(ParseCommandLine({"frobnicate"}).kind == Kind::kUsageError);
  CHECK(ParseCommandLine({}).kind == Kind::kUsageError);
}

TEST_CASE("backtest: a history file, or a TSDB range") {
  auto inv = ParseCommandLine({"backtest", "--openmetrics", "h.om", "--truth", "t.json",
                               "--eval-step", "1m", "--summary-json", "--records", "-"});
  REQUIRE(inv.kind == Kind::kBacktest);
  CHECK(inv.backtest.openmetrics_path == "h.om");
  CHECK(inv.backtest.truth_path == "t.json");
  CHECK(inv.backtest.eval_step_seconds == 60);
  CHECK(inv.backtest.summary_json);
  CHECK(inv.backtest.records_path == "-");
  inv = ParseCommandLine({"backtest", "--prometheus", "http://p", "--start", "100", "--end", "50"});
  REQUIRE(inv.kind == Kind::kUsageError);
  CHECK(inv.text.find("--start < --end") != std::string::npos);
  inv =
      ParseCommandLine({"backtest", "--prometheus", "http://p", "--start", "100", "--end", "200"});
  REQUIRE(inv.kind == Kind::kBacktest);
  CHECK(inv.backtest.start_s == 100);
  CHECK(inv.backtest.end_s == 200);
  CHECK(inv.backtest.openmetrics_path.empty());
  CHECK(ParseCommandLine({"backtest", "--openmetrics", "h", "--eval-step", "0s"}).kind ==
        Kind::kUsageError);
}

TEST_CASE("serve takes --listen-address") {
  auto inv = ParseCommandLine({"serve", "--prometheus", "http://p", "--listen-address", ":9"});
  REQUIRE(inv.kind == Kind::kServe);
  CHECK(inv.config.listen_address == ":9");
}

TEST_CASE("simulate: its own flags, both outputs required") {
  auto inv = ParseCommandLine({"simulate", "--out-openmetrics", "o.om.gz", "--out-truth", "t.json",
                               "--seed", "7", "--duration", "1h", "--step", "30s", "--family",
                               "leak-linear", "--per-family", "3"});
  REQUIRE(inv.kind == Kind::kSimulate);
  CHECK(inv.simulate.openmetrics_out == "o.om.gz");
  CHECK(inv.simulate.options.seed == 7);
  CHECK(inv.simulate.options.duration_s == 3600);
  CHECK(inv.simulate.options.step_s == 30);
  CHECK(inv.simulate.options.families == std::vector<std::string>{"leak-linear"});
  CHECK(inv.simulate.real.variants_per_curve == 3);
  CHECK(inv.simulate.real.seed == 7);
  CHECK(ParseCommandLine({"simulate", "--out-openmetrics", "o"}).kind == Kind::kUsageError);
  inv = ParseCommandLine(
      {"simulate", "--out-openmetrics", "o", "--out-truth", "t", "--duration", "-1h"});
  REQUIRE(inv.kind == Kind::kUsageError);
  CHECK(inv.text.find("--duration: must be a positive duration") != std::string::npos);
}

TEST_CASE("--help output: per command, before validation; help lists every command") {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"once", "--help"},
                                             {"once", "-h"},
                                             {"help", "once"},
                                             {"once", "--openmetrics", "x", "--help"}}) {
    auto inv = ParseCommandLine(args);
    REQUIRE(inv.kind == Kind::kPrintUsage);
    CHECK(inv.text.rfind("oomcast-predictor", 0) == 0);
    CHECK(inv.text.find("once --prometheus URL") != std::string::npos);
    CHECK(inv.text.find("--horizon D") != std::string::npos);  // The shared flags follow.
  }
  auto sim = ParseCommandLine({"simulate", "--help"});
  REQUIRE(sim.kind == Kind::kPrintUsage);
  CHECK(sim.text.find("--horizon") == std::string::npos);  // simulate takes no TSDB flags.
  auto all = ParseCommandLine({"help"});
  REQUIRE(all.kind == Kind::kPrintUsage);
  for (const char* c : {"once", "backtest", "serve", "simulate", "canary", "version"}) {
    CHECK(all.text.find(std::string("oomcast-predictor ") + c) != std::string::npos);
  }
  CHECK(ParseCommandLine({"version"}).kind == Kind::kVersion);
  auto canary = ParseCommandLine({"canary", "--openmetrics", "f"});
  REQUIRE(canary.kind == Kind::kCanary);
  CHECK(canary.args == std::vector<std::string>{"--openmetrics", "f"});
}

}  // namespace
}  // namespace oomcast::predictor
