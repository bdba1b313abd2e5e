#include "oomcast/predictor/canary_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "oomcast/units.h"
#include "yaml_keys.h"

namespace oomcast::predictor {
namespace {

Status Str(const YAML::Node& n, const std::string& path, std::string* out) {
  if (!n.IsScalar()) return KeyError(path, "must be a string");
  *out = n.as<std::string>();
  return Status::Ok();
}

Status Seconds(const YAML::Node& n, const std::string& path, double* out) {
  if (!n.IsScalar()) return KeyError(path, "must be a duration such as 5m");
  auto d = ParseDurationSeconds(n.as<std::string>());
  if (!d.ok()) return KeyError(path, d.status().message());
  *out = *d;
  return Status::Ok();
}

Status Number(const YAML::Node& n, const std::string& path, double* out) {
  if (!n.IsScalar()) return KeyError(path, "must be a number");
  const std::string s = n.as<std::string>();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v)) {
    return KeyError(path, "must be a number, got \"" + s + "\"");
  }
  *out = v;
  return Status::Ok();
}

Status Int(const YAML::Node& n, const std::string& path, int* out) {
  double v = 0;
  OOMCAST_RETURN_IF_ERROR(Number(n, path, &v));
  if (v != std::floor(v) || v < 0 || v > 1e6) return KeyError(path, "must be a whole number");
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status ParseTolerances(const YAML::Node& n, const std::string& path, CanaryTolerances* t) {
  const std::pair<const char*, double*> numbers[] = {{"levelIncrease", &t->level_increase},
                                                     {"growth", &t->growth_bytes_per_second},
                                                     {"spreadIncrease", &t->spread_increase},
                                                     {"alpha", &t->alpha}};
  const std::pair<const char*, double*> durations[] = {
      {"warmup", &t->warmup_seconds},
      {"window", &t->window_seconds},
      {"minWindow", &t->min_window_seconds},
      {"growthWindow", &t->growth_window_seconds},
      {"minGrowthSpan", &t->min_growth_span_seconds},
      {"lookInterval", &t->look_interval_seconds},
      {"resetAfter", &t->reset_after_seconds}};
  const std::pair<const char*, int*> counts[] = {{"minBaselinePods", &t->min_baseline_pods},
                                                 {"minCanaryPods", &t->min_canary_pods},
                                                 {"minSamples", &t->min_samples}};
  std::set<std::string> known = {"test"};
  for (const auto& [key, out] : numbers) known.insert(key);
  for (const auto& [key, out] : durations) known.insert(key);
  for (const auto& [key, out] : counts) known.insert(key);
  OOMCAST_RETURN_IF_ERROR(CheckKeys(n, path, known));
  for (const auto& [key, out] : numbers) {
    if (n[key]) OOMCAST_RETURN_IF_ERROR(Number(n[key], path + "." + key, out));
  }
  for (const auto& [key, out] : durations) {
    if (n[key]) OOMCAST_RETURN_IF_ERROR(Seconds(n[key], path + "." + key, out));
  }
  for (const auto& [key, out] : counts) {
    if (n[key]) OOMCAST_RETURN_IF_ERROR(Int(n[key], path + "." + key, out));
  }
  if (n["test"]) {
    std::string test;
    OOMCAST_RETURN_IF_ERROR(Str(n["test"], path + ".test", &test));
    if (test == "t")
      t->test = CanaryTest::kStudentT;
    else if (test == "mann-whitney")
      t->test = CanaryTest::kMannWhitney;
    else
      return KeyError(path + ".test", "must be t or mann-whitney, got \"" + test + "\"");
  }
  return Status::Ok();
}

}  // namespace

Status ParseCanaryYaml(const YAML::Node& node, std::vector<CanaryComparisonConfig>* out) {
  if (!node.IsSequence()) return KeyError("canary", "must be a list of comparisons");
  std::vector<CanaryComparisonConfig> parsed;
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "canary[" + std::to_string(i) + "]";
    const YAML::Node n = node[i];
    OOMCAST_RETURN_IF_ERROR(
        CheckKeys(n, path, {"name", "namespace", "baseline", "canary", "tolerances"}));
    CanaryComparisonConfig c;
    const std::pair<const char*, std::string*> strings[] = {{"name", &c.name},
                                                            {"namespace", &c.namespace_name},
                                                            {"baseline", &c.baseline_selector},
                                                            {"canary", &c.canary_selector}};
    for (const auto& [key, out] : strings) {
      if (n[key]) OOMCAST_RETURN_IF_ERROR(Str(n[key], path + "." + key, out));
    }
    if (n["tolerances"]) {
      OOMCAST_RETURN_IF_ERROR(
          ParseTolerances(n["tolerances"], path + ".tolerances", &c.tolerances));
    }
    OOMCAST_RETURN_IF_ERROR(ValidateCanaryComparison(c, path));
    if (!names.insert(c.namespace_name + "/" + c.name).second) {
      return KeyError(path + ".name",
                      "duplicate comparison \"" + c.name + "\" in namespace " + c.namespace_name);
    }
    parsed.push_back(std::move(c));
  }
  *out = std::move(parsed);
  return Status::Ok();
}

}  // namespace oomcast::predictor
