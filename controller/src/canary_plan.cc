// MemoryCanary parsing, the Prometheus verdict source and the pure plan (canary.h).
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "oomcast/controller/canary.h"
#include "oomcast/label_selector.h"
#include "oomcast/units.h"

namespace oomcast::controller {
namespace {

using nlohmann::json;

std::string EffectText(const std::string& aspect, double effect) {
  char buf[64];
  if (aspect == "growth") {
    std::snprintf(buf, sizeof buf, "%+.1f kB/s", effect / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%+.1f %%", effect * 100);
  }
  return buf;
}

// Sets condition `type` in `conditions`, keeping lastTransitionTime when the status is unchanged.
void SetCondition(json& conditions, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, int64_t generation,
                  double now) {
  for (auto& c : conditions) {
    if (c.value("type", "") != type) continue;
    if (c.value("status", "") != status) c["lastTransitionTime"] = FormatRfc3339(now);
    c["status"] = status;
    c["reason"] = reason;
    c["message"] = message;
    c["observedGeneration"] = generation;
    return;
  }
  conditions.push_back({{"type", type},
                        {"status", status},
                        {"reason", reason},
                        {"message", message},
                        {"observedGeneration", generation},
                        {"lastTransitionTime", FormatRfc3339(now)}});
}

class PrometheusVerdictSource final : public CanaryVerdictSource {
 public:
  PrometheusVerdictSource(PrometheusClient* client, Clock* clock)
      : client_(client), clock_(clock) {}

  CanaryReading Read(const std::string& ns, const std::string& comparison) override {
    CanaryReading r;
    const std::string sel = "{namespace=\"" + ns + "\",canary=\"" + comparison + "\"}";
    const double now = clock_->NowUnixSeconds();
    auto verdict = client_->Query("memory_canary_verdict" + sel + " == 1", now);
    if (!verdict.ok()) {
      r.error = verdict.status();
      return r;
    }
    // Several publishers of one comparison (the adapter's replicas, a standalone predictor)
    // may disagree for a while (one restarted, its watch younger): any `fail` fails, else any
    // `pass` passes.
    auto rank = [](const std::string& v) { return v == "fail" ? 3 : v == "pass" ? 2 : 1; };
    for (const auto& s : verdict->series) {
      auto it = s.labels.find("verdict");
      if (it != s.labels.end() && (r.verdict.empty() || rank(it->second) > rank(r.verdict))) {
        r.verdict = it->second;
      }
    }
    if (r.verdict.empty()) {
      r.error = NotFoundError("no memory_canary_verdict for comparison " + comparison +
                              " in namespace " + ns + " (is it configured in the predictor?)");
      return r;
    }
    if (r.verdict == "fail") {
      auto failed = client_->Query("memory_canary_failed" + sel, now);
      if (failed.ok() && !failed->series.empty()) {
        auto it = failed->series[0].labels.find("aspect");
        if (it != failed->series[0].labels.end()) r.aspect = it->second;
      }
      if (!r.aspect.empty()) {
        auto effect = client_->Query("memory_canary_effect{namespace=\"" + ns + "\",canary=\"" +
                                         comparison + "\",aspect=\"" + r.aspect + "\"}",
                                     now);
        if (effect.ok() && !effect->series.empty() && !effect->series[0].values.empty()) {
          r.effect = effect->series[0].values.back();
        }
      }
    }
    auto p = client_->Query("memory_canary_p_value" + sel, now);
    if (p.ok() && !p->series.empty() && !p->series[0].values.empty()) {
      r.p_value = p->series[0].values.back();
    }
    return r;
  }

 private:
  PrometheusClient* client_;
  Clock* clock_;
};

}  // namespace

StatusOr<MemoryCanaryObject> ParseMemoryCanary(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("MemoryCanary: not JSON: ") + e.what());
  }
  MemoryCanaryObject o;
  try {
    const json& meta = j.at("metadata");
    o.name = meta.value("name", "");
    o.namespace_name = meta.value("namespace", "");
    o.uid = meta.value("uid", "");
    o.resource_version = meta.value("resourceVersion", "");
    o.generation = meta.value("generation", int64_t{0});
    const json spec = j.value("spec", json::object());
    if (spec.contains("targetRef")) o.spec.target = spec["targetRef"].value("name", "");
    o.spec.comparison = spec.value("comparison", "");
    o.spec.baseline = spec.value("baseline", "");
    o.spec.canary = spec.value("canary", "");
    o.spec.pause_on_fail = spec.value("pauseOnFail", true);
    o.spec.dry_run = spec.value("dryRun", false);
    if (j.contains("status") && j["status"].is_object()) o.status_json = j["status"].dump();
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("MemoryCanary: ") + e.what());
  }
  const std::string where = "MemoryCanary " + o.namespace_name + "/" + o.name + ": ";
  if (o.spec.target.empty())
    return InvalidArgumentError(where + "spec.targetRef.name: must be set");
  if (o.spec.comparison.empty())
    return InvalidArgumentError(where + "spec.comparison: must be set");
  for (const auto& [field, sel] :
       {std::pair{"spec.baseline", o.spec.baseline}, std::pair{"spec.canary", o.spec.canary}}) {
    if (sel.empty()) return InvalidArgumentError(where + field + ": must be set");
    auto parsed = LabelSelector::Parse(sel);
    if (!parsed.ok()) return InvalidArgumentError(where + field + ": " + parsed.status().message());
  }
  return o;
}

std::unique_ptr<CanaryVerdictSource> NewPrometheusCanaryVerdictSource(PrometheusClient* client,
                                                                      Clock* clock) {
  return std::make_unique<PrometheusVerdictSource>(client, clock);
}

CanaryPlan PlanCanary(const MemoryCanaryObject& canary, const DeploymentRead& deployment,
                      const CanaryReading& reading, double now) {
  CanaryPlan plan;
  json old = json::parse(canary.status_json, nullptr, false);
  if (!old.is_object()) old = json::object();
  json status = old;
  json conditions = status.value("conditions", json::array());
  const int64_t gen = canary.generation;
  status["observedGeneration"] = gen;
  if (!reading.error.ok()) {
    SetCondition(conditions, "Passing", "Unknown", "VerdictUnavailable", reading.error.message(),
                 gen, now);
  } else if (reading.verdict == "fail") {
    const std::string effect =
        reading.aspect.empty() ? std::string("unknown aspect")
                               : reading.aspect + " " + EffectText(reading.aspect, reading.effect);
    char p[32] = "";
    if (reading.p_value >= 0) std::snprintf(p, sizeof p, ", adjusted p %.3g", reading.p_value);
    const std::string what =
        "memory canary " + canary.spec.comparison + " failed on " + effect + " over baseline" + p;
    SetCondition(conditions, "Passing", "False", "Failed", what, gen, now);
    status["failedAspect"] = reading.aspect;
    status["effect"] = reading.effect;
    const bool may_pause = canary.spec.pause_on_fail && !canary.spec.dry_run;
    if (!deployment.error.ok()) {
      SetCondition(conditions, "RolloutPaused", "False", "TargetUnreadable",
                   deployment.error.message(), gen, now);
    } else if (deployment.paused) {
      SetCondition(conditions, "RolloutPaused", "True", "CanaryFailed",
                   "deployment " + canary.spec.target + " paused: " + what, gen, now);
    } else if (may_pause) {
      plan.pause = true;
      SetCondition(conditions, "RolloutPaused", "True", "CanaryFailed",
                   "deployment " + canary.spec.target + " paused: " + what, gen, now);
    } else {
      SetCondition(conditions, "RolloutPaused", "False",
                   canary.spec.dry_run ? "DryRun" : "PauseDisabled", what, gen, now);
    }
    // One Event per failure: not again when the status already recorded it.
    const bool known = old.value("verdict", "") == "fail";
    if (!known) {
      plan.event = PlannedEvent{
          "Warning", "CanaryFailed", plan.pause ? "Pause" : "None",
          what + (plan.pause ? "; paused deployment " + canary.spec.target
                             : std::string(canary.spec.dry_run ? "; dry run: not paused"
                                                               : "; not paused"))};
    }
  } else if (reading.verdict == "pass") {
    SetCondition(conditions, "Passing", "True", "Passed",
                 "memory canary " + canary.spec.comparison + " passes", gen, now);
  } else {
    SetCondition(conditions, "Passing", "Unknown", "Inconclusive",
                 "memory canary " + canary.spec.comparison +
                     " is inconclusive (too few pods or "
                     "samples)",
                 gen, now);
  }
  if (reading.error.ok()) status["verdict"] = reading.verdict;
  status["conditions"] = conditions;
  plan.status_changed = status != old;
  plan.status_json = status.dump();
  return plan;
}

}  // namespace oomcast::controller
