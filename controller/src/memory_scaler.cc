#include "oomcast/controller/memory_scaler.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "memory_scaler_json.h"
#include "oomcast/units.h"

namespace oomcast::controller {
namespace {

using nlohmann::json;

// Reads a field that may be a JSON number or a string read by `parse`; `fallback` when absent
// or null. `kind` names the string form in errors ("a quantity").
StatusOr<double> NumberOrTextField(const json& obj, const char* key, double fallback,
                                   const std::string& where,
                                   StatusOr<double> (*parse)(std::string_view), const char* kind) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  const json& v = obj[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    auto parsed = parse(v.get<std::string>());
    if (!parsed.ok()) {
      return InvalidArgumentError(where + "." + key + ": " + parsed.status().message());
    }
    return *parsed;
  }
  return InvalidArgumentError(where + "." + key + ": must be " + kind);
}

// A JSON number or a Kubernetes quantity string ("12Mi").
StatusOr<double> QuantityField(const json& obj, const char* key, double fallback,
                               const std::string& where) {
  return NumberOrTextField(obj, key, fallback, where, ParseQuantity, "a quantity");
}

// A JSON number of seconds or a duration string ("15m").
StatusOr<double> DurationField(const json& obj, const char* key, double fallback,
                               const std::string& where) {
  return NumberOrTextField(obj, key, fallback, where, ParseDurationSeconds,
                           "a duration such as \"15m\"");
}

StatusOr<int> IntField(const json& obj, const char* key, int fallback, int min,
                       const std::string& where) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_number_integer()) {
    return InvalidArgumentError(where + "." + key + ": must be an integer");
  }
  int v = obj[key].get<int>();
  if (v < min) {
    return InvalidArgumentError(where + "." + key + ": must be >= " + std::to_string(min));
  }
  return v;
}

Status ParseRules(const json& obj, const std::string& where, ScalingRules* rules) {
  if (!obj.is_object()) return Status::Ok();
  if (obj.contains("stabilizationWindowSeconds")) {
    auto w = IntField(obj, "stabilizationWindowSeconds", 0, 0, where);
    if (!w.ok()) return w.status();
    if (*w > 3600) {
      return InvalidArgumentError(where + ".stabilizationWindowSeconds: must be <= 3600");
    }
    rules->stabilization_window_seconds = *w;
  }
  if (obj.contains("selectPolicy")) {
    std::string s = obj["selectPolicy"].is_string() ? obj["selectPolicy"].get<std::string>() : "";
    if (s == "Max") {
      rules->select = ScalingRules::Select::kMax;
    } else if (s == "Min") {
      rules->select = ScalingRules::Select::kMin;
    } else if (s == "Disabled") {
      rules->select = ScalingRules::Select::kDisabled;
    } else {
      return InvalidArgumentError(where + ".selectPolicy: must be Max, Min or Disabled");
    }
  }
  if (obj.contains("policies") && obj["policies"].is_array()) {
    rules->policies.clear();
    int i = 0;
    for (const auto& p : obj["policies"]) {
      std::string pw = where + ".policies[" + std::to_string(i++) + "]";
      ScalingPolicy policy;
      std::string type = p.value("type", "");
      if (type == "Pods") {
        policy.type = ScalingPolicy::Type::kPods;
      } else if (type == "Percent") {
        policy.type = ScalingPolicy::Type::kPercent;
      } else {
        return InvalidArgumentError(pw + ".type: must be Pods or Percent");
      }
      auto value = IntField(p, "value", -1, 1, pw);
      if (!value.ok()) return value.status();
      if (*value < 1) return InvalidArgumentError(pw + ".value: required, must be > 0");
      auto period = IntField(p, "periodSeconds", -1, 1, pw);
      if (!period.ok()) return period.status();
      if (*period < 1 || *period > 1800) {
        return InvalidArgumentError(pw + ".periodSeconds: required, 1..1800");
      }
      policy.value = *value;
      policy.period_seconds = *period;
      rules->policies.push_back(policy);
    }
  }
  return Status::Ok();
}

}  // namespace

ScalingRules DefaultScaleUpRules() {
  ScalingRules r;
  r.stabilization_window_seconds = 0;
  r.policies = {{ScalingPolicy::Type::kPods, 4, 15}, {ScalingPolicy::Type::kPercent, 100, 15}};
  return r;
}

ScalingRules DefaultScaleDownRules() {
  ScalingRules r;
  r.stabilization_window_seconds = 300;
  r.policies = {{ScalingPolicy::Type::kPercent, 100, 15}};
  return r;
}

StatusOr<std::string> LabelSelectorString(std::string_view text) {
  json sel = json::parse(text, nullptr, false);
  if (sel.is_discarded() || !sel.is_object()) {
    return InvalidArgumentError("label selector: not an object");
  }
  std::map<std::string, std::string> parts;  // Sorted by key, like labels.Selector.String().
  if (sel.contains("matchLabels") && sel["matchLabels"].is_object()) {
    for (auto& [k, v] : sel["matchLabels"].items()) {
      parts.emplace(k + "\x01=", k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    }
  }
  if (sel.contains("matchExpressions") && sel["matchExpressions"].is_array()) {
    for (const auto& e : sel["matchExpressions"]) {
      std::string key = e.value("key", "");
      std::string op = e.value("operator", "");
      std::vector<std::string> values;
      if (e.contains("values") && e["values"].is_array()) {
        for (const auto& v : e["values"]) values.push_back(v.get<std::string>());
      }
      std::sort(values.begin(), values.end());
      std::string joined;
      for (const auto& v : values) joined += (joined.empty() ? "" : ",") + v;
      std::string s;
      if (op == "In") {
        s = key + " in (" + joined + ")";
      } else if (op == "NotIn") {
        s = key + " notin (" + joined + ")";
      } else if (op == "Exists") {
        s = key;
      } else if (op == "DoesNotExist") {
        s = "!" + key;
      } else {
        return InvalidArgumentError("label selector: unknown operator \"" + op + "\" for key " +
                                    key);
      }
      parts.emplace(key + "\x02" + op, s);
    }
  }
  std::string out;
  for (const auto& [_, s] : parts) out += (out.empty() ? "" : ",") + s;
  return out;
}

namespace {

// The spec of `obj` into ms->spec (metadata already read); kInvalidArgument naming the field.
Status ParseSpec(const json& obj, MemoryScaler* scaler) {
  MemoryScaler& ms = *scaler;
  const std::string ctx = "MemoryScaler " + ms.namespace_name + "/" + ms.name;
  const std::string who = ctx + ": ";
  if (!obj.contains("spec") || !obj["spec"].is_object()) {
    return InvalidArgumentError(who + "spec: required");
  }
  const json& spec = obj["spec"];
  MemoryScalerSpec& s = ms.spec;
  try {
    const json& ref = spec.value("scaleTargetRef", json::object());
    s.target.api_version = ref.value("apiVersion", "apps/v1");
    s.target.kind = ref.value("kind", "");
    s.target.name = ref.value("name", "");
    if (s.target.kind.empty() || s.target.name.empty()) {
      return InvalidArgumentError(who + "spec.scaleTargetRef: kind and name are required");
    }
    auto min = IntField(spec, "minReplicas", 1, 1, "spec");
    if (!min.ok()) return min.status().WithContext(ctx);
    auto max = IntField(spec, "maxReplicas", -1, 1, "spec");
    if (!max.ok()) return max.status().WithContext(ctx);
    if (*max < 1) return InvalidArgumentError(who + "spec.maxReplicas: required");
    if (*max < *min) {
      return InvalidArgumentError(who + "spec.maxReplicas: must be >= spec.minReplicas");
    }
    s.min_replicas = *min;
    s.max_replicas = *max;
    auto horizon = DurationField(spec, "horizon", 900, "spec");
    if (!horizon.ok()) return horizon.status().WithContext(ctx);
    s.horizon_seconds = *horizon;
    auto age = DurationField(spec, "maxForecastAge", 300, "spec");
    if (!age.ok()) return age.status().WithContext(ctx);
    s.max_forecast_age_seconds = *age;
    if (spec.contains("metricSelector") && spec["metricSelector"].is_object()) {
      auto sel = LabelSelectorString(spec["metricSelector"].dump());
      if (!sel.ok()) return sel.status().WithContext(ctx + ": spec.metricSelector");
      s.metric_selector = *sel;
    }
    const json up = spec.value("scaleUp", json::object());
    auto up_growth = QuantityField(up, "growthRateAbove",
                                   s.scale_up.growth_rate_above_bytes_per_second, "spec.scaleUp");
    if (!up_growth.ok()) return up_growth.status().WithContext(ctx);
    s.scale_up.growth_rate_above_bytes_per_second = *up_growth;
    s.scale_up.on_oom_forecast = up.value("onOOMForecast", true);
    auto risk = QuantityField(up, "oomRiskAbove", s.scale_up.risk_threshold, "spec.scaleUp");
    if (!risk.ok()) return risk.status().WithContext(ctx);
    if (*risk <= 0 || *risk > 1) {
      return InvalidArgumentError(who + "spec.scaleUp.oomRiskAbove: must be in (0, 1]");
    }
    s.scale_up.risk_threshold = *risk;
    auto up_step = IntField(up, "step", 1, 1, "spec.scaleUp");
    if (!up_step.ok()) return up_step.status().WithContext(ctx);
    s.scale_up.step = *up_step;
    const json down = spec.value("scaleDown", json::object());
    auto down_growth = QuantityField(
        down, "growthRateBelow", s.scale_down.growth_rate_below_bytes_per_second, "spec.scaleDown");
    if (!down_growth.ok()) return down_growth.status().WithContext(ctx);
    s.scale_down.growth_rate_below_bytes_per_second = *down_growth;
    auto down_step = IntField(down, "step", 1, 1, "spec.scaleDown");
    if (!down_step.ok()) return down_step.status().WithContext(ctx);
    s.scale_down.step = *down_step;
    if (s.scale_down.growth_rate_below_bytes_per_second >=
        s.scale_up.growth_rate_above_bytes_per_second) {
      return InvalidArgumentError(
          who + "spec.scaleDown.growthRateBelow: must be below spec.scaleUp.growthRateAbove");
    }
    s.up_behavior = DefaultScaleUpRules();
    s.down_behavior = DefaultScaleDownRules();
    const json behavior = spec.value("behavior", json::object());
    OOMCAST_RETURN_IF_ERROR(ParseRules(behavior.value("scaleUp", json::object()),
                                       "spec.behavior.scaleUp", &s.up_behavior)
                                .WithContext(ctx));
    OOMCAST_RETURN_IF_ERROR(ParseRules(behavior.value("scaleDown", json::object()),
                                       "spec.behavior.scaleDown", &s.down_behavior)
                                .WithContext(ctx));
    const json restart = spec.value("restartBeforeOOM", json::object());
    s.restart.enabled = restart.value("enabled", false);
    auto eta = DurationField(restart, "etaBelow", 300, "spec.restartBeforeOOM");
    if (!eta.ok()) return eta.status().WithContext(ctx);
    s.restart.eta_below_seconds = *eta;
    auto cooldown = DurationField(restart, "cooldown", 600, "spec.restartBeforeOOM");
    if (!cooldown.ok()) return cooldown.status().WithContext(ctx);
    s.restart.cooldown_seconds = *cooldown;
    s.dry_run = spec.value("dryRun", false);
  } catch (const json::exception& e) {
    return InvalidArgumentError(who + "spec: " + e.what());
  }
  return Status::Ok();
}

template <typename T>
std::optional<T> Optional(const json& obj, const char* key) {
  if (!obj.contains(key)) return std::nullopt;
  try {
    return obj[key].get<T>();
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string String(const json& obj, const char* key) {
  return obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : "";
}

MemoryScalerStatus ParseStatus(const json& st) {
  MemoryScalerStatus s;
  if (!st.is_object()) return s;
  s.observed_generation = Optional<int64_t>(st, "observedGeneration");
  s.current_replicas = Optional<int>(st, "currentReplicas");
  s.desired_replicas = Optional<int>(st, "desiredReplicas");
  s.last_scale_time = String(st, "lastScaleTime");
  s.mode = String(st, "mode");
  if (st.contains("lastForecast") && st["lastForecast"].is_object()) {
    const json& f = st["lastForecast"];
    s.last_forecast = LastForecastStatus{String(f, "time"),
                                         f.value("available", false),
                                         String(f, "error"),
                                         String(f, "growthRateBytesPerSecond"),
                                         Optional<int64_t>(f, "oomEtaSeconds"),
                                         String(f, "oomRisk"),
                                         String(f, "worstPod"),
                                         Optional<int>(f, "pods")};
  }
  if (st.contains("lastDecision") && st["lastDecision"].is_object()) {
    const json& d = st["lastDecision"];
    s.last_decision = LastDecisionStatus{String(d, "time"), String(d, "action"), String(d, "rule"),
                                         String(d, "reason"), String(d, "message")};
  }
  if (st.contains("lastEviction") && st["lastEviction"].is_object()) {
    const json& e = st["lastEviction"];
    s.last_eviction = LastEvictionStatus{String(e, "pod"), String(e, "time"), String(e, "result"),
                                         String(e, "message")};
  }
  if (st.contains("conditions") && st["conditions"].is_array()) {
    for (const json& c : st["conditions"]) {
      if (!c.is_object()) continue;
      s.conditions.push_back({String(c, "type"), String(c, "status") == "True", String(c, "reason"),
                              String(c, "message"), String(c, "lastTransitionTime")});
    }
  }
  return s;
}

// Sets `key` to `value` unless it is empty.
void SetNonEmpty(json& obj, const char* key, const std::string& value) {
  if (!value.empty()) obj[key] = value;
}

}  // namespace

StatusOr<MemoryScalerObject> ReadMemoryScaler(std::string_view text) {
  return ReadMemoryScalerJson(json::parse(text, nullptr, false));
}

StatusOr<MemoryScalerObject> ReadMemoryScalerJson(const json& obj) {
  if (obj.is_discarded() || !obj.is_object() || !obj.contains("metadata")) {
    return InvalidArgumentError("MemoryScaler: not a JSON object");
  }
  MemoryScalerObject out;
  MemoryScaler& ms = out.scaler;
  try {
    const json& md = obj.at("metadata");
    ms.name = md.value("name", "");
    ms.namespace_name = md.value("namespace", "default");
    ms.uid = md.value("uid", "");
    ms.resource_version = md.value("resourceVersion", "");
    ms.generation = md.value("generation", int64_t{0});
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("MemoryScaler metadata: ") + e.what());
  }
  out.spec_error = ParseSpec(obj, &ms);
  out.status = ParseStatus(obj.value("status", json::object()));
  return out;
}

StatusOr<MemoryScaler> ParseMemoryScaler(std::string_view text) {
  auto read = ReadMemoryScaler(text);
  if (!read.ok()) return read.status();
  if (!read->spec_error.ok()) return read->spec_error;
  return std::move(read->scaler);
}

std::string MemoryScalerStatusJson(const MemoryScalerStatus& s) {
  return MemoryScalerStatusObject(s).dump();
}

json MemoryScalerStatusObject(const MemoryScalerStatus& s) {
  json st = json::object();
  if (s.observed_generation) st["observedGeneration"] = *s.observed_generation;
  if (s.current_replicas) st["currentReplicas"] = *s.current_replicas;
  if (s.desired_replicas) st["desiredReplicas"] = *s.desired_replicas;
  SetNonEmpty(st, "lastScaleTime", s.last_scale_time);
  SetNonEmpty(st, "mode", s.mode);
  if (s.last_forecast) {
    const LastForecastStatus& f = *s.last_forecast;
    json j = {{"time", f.time}, {"available", f.available}};
    SetNonEmpty(j, "error", f.error);
    SetNonEmpty(j, "growthRateBytesPerSecond", f.growth_rate);
    if (f.oom_eta_seconds) j["oomEtaSeconds"] = *f.oom_eta_seconds;
    SetNonEmpty(j, "oomRisk", f.oom_risk);
    SetNonEmpty(j, "worstPod", f.worst_pod);
    if (f.pods) j["pods"] = *f.pods;
    st["lastForecast"] = j;
  }
  if (s.last_decision) {
    const LastDecisionStatus& d = *s.last_decision;
    json j = {{"time", d.time}, {"action", d.action}, {"reason", d.reason}, {"message", d.message}};
    SetNonEmpty(j, "rule", d.rule);
    st["lastDecision"] = j;
  }
  if (s.last_eviction) {
    const LastEvictionStatus& e = *s.last_eviction;
    st["lastEviction"] = {
        {"pod", e.pod}, {"time", e.time}, {"result", e.result}, {"message", e.message}};
  }
  if (!s.conditions.empty()) {
    json conditions = json::array();
    for (const ScalerCondition& c : s.conditions) {
      json j = {{"type", c.type},
                {"status", c.status ? "True" : "False"},
                {"reason", c.reason},
                {"message", c.message}};
      SetNonEmpty(j, "lastTransitionTime", c.last_transition_time);
      conditions.push_back(j);
    }
    st["conditions"] = conditions;
  }
  return st;
}

}  // namespace oomcast::controller
