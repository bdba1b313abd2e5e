// Configuration of the predictor engine, from a YAML file and command-line flags. Shared by
// every binary that embeds the engine (oomcast-predictor, oomcast-metrics-adapter).
//
// YAML keys (camelCase) and defaults are documented in docs/configuration.md; every key is
// checked: an unknown key or a bad value is an InvalidArgument error naming the key path
// (e.g. "forecast.horizon: duration: unknown unit ...").
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/flags.h"
#include "oomcast/http_client.h"
#include "oomcast/predictor/canary.h"
#include "oomcast/predictor/engine.h"
#include "oomcast/prometheus_client.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

struct PredictorConfig {
  PrometheusBackendConfig backend;
  HttpClientOptions http;  // TLS to the TSDB and the response size cap.
  EngineConfig engine;
  std::string listen_address = "0.0.0.0:8080";  // serve: /metrics, /healthz, /readyz.
  std::string log_level = "info";
  std::vector<CanaryComparisonConfig> canary;  // `canary:` comparisons (canary_config.h).
};

// Parses YAML text over `base`. Top-level sections other than prometheus, queries, forecast,
// log, server, canary (canary_config.h) are errors unless named in `foreign_sections` (left for the
// caller to read).
StatusOr<PredictorConfig> ParseConfigYaml(const std::string& yaml_text, PredictorConfig base = {},
                                          const std::set<std::string>& foreign_sections = {});

// Reads and parses the file at `path`; errors name the file.
StatusOr<PredictorConfig> LoadConfigFile(const std::string& path, PredictorConfig base = {},
                                         const std::set<std::string>& foreign_sections = {});

// Applies one flag (`name` without leading dashes, e.g. "horizon") with `value`. Returns true
// when `name` is a predictor flag, false when it is not one (the caller may know it); an
// InvalidArgument error naming the flag when the value is bad.
StatusOr<bool> ApplyPredictorFlag(std::string_view name, std::string_view value,
                                  PredictorConfig* config);

// True for predictor flags that take no value (e.g. prometheus-insecure-skip-verify).
bool IsPredictorBoolFlag(std::string_view name);

// Sets the model's horizon and scales every time constant of the model (bucket width, fit
// window, warm-up, persistence, hold, envelope window...) from its defaults, which are made for
// a 15-minute horizon, in proportion: a 60 s horizon gets 2 s buckets and a 40 s warm-up.
// Idempotent (computed from the defaults, not from the current values).
void SetHorizon(double horizon_seconds, ModelConfig* model);

// Checks cross-field constraints (step <= window, horizon > 0, URL set when `need_url`).
Status ValidateConfig(const PredictorConfig& config, bool need_url);

// Help text for the predictor flags, one per line, with defaults.
std::string PredictorFlagsHelp();

// The predictor's command line on lib's flag parser (oomcast/flags.h): positional arguments
// allowed (the command), "-o" is "--output", "-h" and "--help" set `help`; `is_bool` says which
// flags take no value (null: none). Errors name the argument.
using ParsedArgs = ParsedFlags;
StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                               bool (*is_bool)(std::string_view));

}  // namespace oomcast::predictor
