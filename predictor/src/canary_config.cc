#include "oomcast/predictor/canary_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>

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
  OOMCAST_RETURN_IF_ERROR(
      CheckKeys(n, path,
                {"levelIncrease", "growth", "spreadIncrease", "alpha", "test", "warmup", "window",
                 "growthWindow", "minGrowthSpan", "lookInterval", "minBaselinePods",
                 "minCanaryPods", "minSamples", "resetAfter"}));
  if (n["levelIncrease"])
    OOMCAST_RETURN_IF_ERROR(
        Number(n["levelIncrease"], path + ".levelIncrease", &t->level_increase));
  if (n["growth"])
    OOMCAST_RETURN_IF_ERROR(Number(n["growth"], path + ".growth", &t->growth_bytes_per_second));
  if (n["spreadIncrease"]) {
    OOMCAST_RETURN_IF_ERROR(
        Number(n["spreadIncrease"], path + ".spreadIncrease", &t->spread_increase));
  }
  if (n["alpha"]) OOMCAST_RETURN_IF_ERROR(Number(n["alpha"], path + ".alpha", &t->alpha));
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
  if (n["warmup"])
    OOMCAST_RETURN_IF_ERROR(Seconds(n["warmup"], path + ".warmup", &t->warmup_seconds));
  if (n["window"])
    OOMCAST_RETURN_IF_ERROR(Seconds(n["window"], path + ".window", &t->window_seconds));
  if (n["growthWindow"]) {
    OOMCAST_RETURN_IF_ERROR(
        Seconds(n["growthWindow"], path + ".growthWindow", &t->growth_window_seconds));
  }
  if (n["minGrowthSpan"]) {
    OOMCAST_RETURN_IF_ERROR(
        Seconds(n["minGrowthSpan"], path + ".minGrowthSpan", &t->min_growth_span_seconds));
  }
  if (n["lookInterval"]) {
    OOMCAST_RETURN_IF_ERROR(
        Seconds(n["lookInterval"], path + ".lookInterval", &t->look_interval_seconds));
  }
  if (n["minBaselinePods"])
    OOMCAST_RETURN_IF_ERROR(
        Int(n["minBaselinePods"], path + ".minBaselinePods", &t->min_baseline_pods));
  if (n["minCanaryPods"])
    OOMCAST_RETURN_IF_ERROR(Int(n["minCanaryPods"], path + ".minCanaryPods", &t->min_canary_pods));
  if (n["minSamples"])
    OOMCAST_RETURN_IF_ERROR(Int(n["minSamples"], path + ".minSamples", &t->min_samples));
  if (n["resetAfter"]) {
    OOMCAST_RETURN_IF_ERROR(
        Seconds(n["resetAfter"], path + ".resetAfter", &t->reset_after_seconds));
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
    if (n["name"]) OOMCAST_RETURN_IF_ERROR(Str(n["name"], path + ".name", &c.name));
    if (n["namespace"]) {
      OOMCAST_RETURN_IF_ERROR(Str(n["namespace"], path + ".namespace", &c.namespace_name));
    }
    if (n["baseline"])
      OOMCAST_RETURN_IF_ERROR(Str(n["baseline"], path + ".baseline", &c.baseline_selector));
    if (n["canary"])
      OOMCAST_RETURN_IF_ERROR(Str(n["canary"], path + ".canary", &c.canary_selector));
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
