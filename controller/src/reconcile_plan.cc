#include "oomcast/controller/reconcile_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "oomcast/lookup_table.h"
#include "oomcast/units.h"

namespace oomcast::controller {
namespace {

constexpr size_t kMaxMessage = 1000;
constexpr const char* kSelectorMatchesNothing = "SelectorMatchesNothing";

ScalerCondition Condition(const std::string& type, bool status, const std::string& reason,
                          const std::string& message) {
  return {type, status, reason, message, ""};
}

const char* ActionName(Action a) {
  static constexpr std::pair<Action, const char*> kNames[] = {
      {Action::kScaleUp, "ScaleUp"}, {Action::kScaleDown, "ScaleDown"}, {Action::kHold, "Hold"}};
  return Lookup(kNames, a).value_or("None");
}

std::string ScalerKey(const ReconcileInputs& in) {
  return in.scaler.scaler.namespace_name + "/" + in.scaler.scaler.name;
}

std::string TargetDescription(const MemoryScalerSpec& spec) {
  return spec.target.kind + "/" + spec.target.name;
}

LastForecastStatus ForecastStatus(const ForecastReading& f, double now) {
  LastForecastStatus s;
  s.time = FormatRfc3339(f.available ? f.time_unix_seconds : now);
  s.available = f.available;
  if (!f.available) {
    s.error = f.error.substr(0, kMaxMessage);
    return s;
  }
  auto growth = FormatQuantity(std::round(f.max_growth_bytes_per_second));
  if (growth.ok()) s.growth_rate = *growth;
  if (std::isfinite(f.min_oom_eta_seconds)) {
    s.oom_eta_seconds = static_cast<int64_t>(std::floor(std::max(0.0, f.min_oom_eta_seconds)));
  }
  auto risk = FormatQuantity(std::round(f.max_oom_risk * 1000) / 1000);
  if (risk.ok()) s.oom_risk = *risk;
  s.worst_pod = f.worst_pod;
  s.pods = static_cast<int>(f.pods.size());
  return s;
}

// A plan that only writes status: observedGeneration and `conditions` (the invalid-spec and
// failed-read paths).
ReconcilePlan StatusOnly(const ReconcileInputs& in, const std::string& outcome,
                         std::vector<ScalerCondition> conditions, Status error) {
  ReconcilePlan p;
  p.outcome = outcome;
  p.status = in.scaler.status;
  p.status.observed_generation = in.scaler.scaler.generation;
  p.status.conditions =
      MergeConditions(in.scaler.status.conditions, std::move(conditions), in.now_unix_seconds);
  p.skip_if_unchanged = false;
  p.error = std::move(error);
  return p;
}

// The conditions of a planned reconcile; `ready_failure` replaces Ready=True.
std::vector<ScalerCondition> Conditions(const ReconcilePlan& p, const ReconcileInputs& in,
                                        const std::optional<ScalerCondition>& ready_failure) {
  const MemoryScalerSpec& spec = in.scaler.scaler.spec;
  std::vector<ScalerCondition> c;
  if (ready_failure) {
    c.push_back(*ready_failure);
  } else {
    c.push_back(Condition("Ready", true, spec.dry_run ? "DryRun" : "Reconciled",
                          spec.dry_run ? "dry run: decisions are reported, never applied"
                                       : "target " + TargetDescription(spec) + " reconciled"));
  }
  if (!in.forecast.available && in.forecast.no_match) {
    c.push_back(
        Condition("ScalingActive", false, kSelectorMatchesNothing,
                  "holding (no scale-down, no eviction): " + in.forecast.error.substr(0, 800)));
  } else if (!in.forecast.available) {
    c.push_back(
        Condition("ScalingActive", false, "ForecastUnavailable",
                  "holding (no scale-down, no eviction): " + in.forecast.error.substr(0, 800)));
  } else if (p.hpa_mode) {
    c.push_back(Condition(
        "ScalingActive", true, "HPAFloor",
        "HorizontalPodAutoscaler " + p.hpa_name +
            " targets the same workload: the controller never writes /scale and raises the "
            "HPA's minReplicas ahead of a forecast OOM instead"));
  } else {
    c.push_back(Condition("ScalingActive", true, "ValidForecast",
                          "the forecast is fresh and the rules were evaluated"));
  }
  if (p.decision.limited) {
    c.push_back(Condition("ScalingLimited", true, p.decision.limited_reason,
                          "the desired replica count is limited: " + p.decision.limited_reason));
  } else {
    c.push_back(Condition("ScalingLimited", false, "DesiredWithinRange",
                          "the desired replica count is within the acceptable range"));
  }
  return c;
}

// HPA coexistence: raise spec.minReplicas for the forecast window, restore it afterwards.
void PlanHpa(const ReconcileInputs& in, ReconcilePlan* p) {
  const MemoryScalerSpec& spec = in.scaler.scaler.spec;
  const HorizontalPodAutoscaler& hpa = *in.hpa;
  const Decision& decision = p->decision;
  const double now = in.now_unix_seconds;
  p->hpa_mode = true;
  p->hpa_name = hpa.name;
  p->outcome = "no_change";
  const std::string hpa_desc = "HorizontalPodAutoscaler " + hpa.name;
  const bool floored = hpa.annotations.count(kOriginalMinReplicasAnnotation) > 0;
  double floor_until = 0;
  if (auto it = hpa.annotations.find(kFloorUntilAnnotation); it != hpa.annotations.end()) {
    auto t = ParseTimestamp(it->second);
    if (t.ok()) floor_until = *t;
  }
  if (!in.forecast.available) {
    p->outcome = "hold";  // Keep any floor: restoring could let the HPA scale down.
    return;
  }
  const std::string until = FormatRfc3339(now + spec.horizon_seconds);
  if (!decision.rule.empty() && decision.rule != "shrink") {  // An up-signal.
    const int floor =
        std::min(std::max(decision.desired_replicas, decision.current_replicas), hpa.max_replicas);
    const std::string change = "minReplicas of " + hpa_desc + " from " +
                               std::to_string(hpa.min_replicas) + " to " + std::to_string(floor);
    if (floor > hpa.min_replicas && spec.dry_run) {
      p->outcome = "dry_run";
      p->target_event = {"Normal", "DryRun", "RaiseHPAFloor",
                         "dry run: would raise " + change + ": " + decision.message};
    } else if (floor > hpa.min_replicas) {
      HorizontalPodAutoscaler next = hpa;
      if (!floored)
        next.annotations[kOriginalMinReplicasAnnotation] = std::to_string(hpa.min_replicas);
      next.annotations[kFloorUntilAnnotation] = until;
      next.annotations[kFloorOwnerAnnotation] = ScalerKey(in);
      next.min_replicas = floor;
      p->hpa = HpaWrite{std::move(next), "floor"};
      p->outcome = "hpa_floor";
      p->target_event = {"Normal", "RaisedHPAFloor", "RaiseHPAFloor",
                         "raised " + change + " until " + until + ": " + decision.message};
    } else if (floored && !spec.dry_run && floor_until < now + spec.horizon_seconds - 60) {
      HorizontalPodAutoscaler next =
          hpa;  // Still needed: extend the window (at most once a minute).
      next.annotations[kFloorUntilAnnotation] = until;
      p->hpa = HpaWrite{std::move(next), "extend"};
    }
    return;
  }
  if (!floored || now < floor_until) return;
  int original = std::atoi(hpa.annotations.at(kOriginalMinReplicasAnnotation).c_str());
  if (original < 1) original = 1;
  if (spec.dry_run) {
    p->outcome = "dry_run";
    p->target_event = {
        "Normal", "DryRun", "RestoreHPAFloor",
        "dry run: would restore minReplicas of " + hpa_desc + " to " + std::to_string(original)};
    return;
  }
  HorizontalPodAutoscaler next = hpa;
  next.min_replicas = std::min(original, hpa.max_replicas);
  for (const char* a :
       {kOriginalMinReplicasAnnotation, kFloorUntilAnnotation, kFloorOwnerAnnotation}) {
    next.annotations.erase(a);
  }
  p->hpa = HpaWrite{std::move(next), "restore"};
  p->outcome = "hpa_restore";
  p->target_event = {"Normal", "RestoredHPAFloor", "RestoreHPAFloor",
                     "restored minReplicas of " + hpa_desc + " to " + std::to_string(original) +
                         ": no OOM forecast within the horizon any more"};
}

// No HPA: /scale to the decision.
void PlanScale(const ReconcileInputs& in, ReconcilePlan* p) {
  const Decision& d = p->decision;
  p->outcome = d.action == Action::kHold ? "hold" : "no_change";
  if (d.desired_replicas == d.current_replicas) return;
  if (in.scaler.scaler.spec.dry_run) {
    p->outcome = "dry_run";
    p->target_event = {"Normal", "DryRun", "Scale", "dry run: would " + d.message};
    return;
  }
  TargetScale next = in.target;
  next.replicas = d.desired_replicas;
  p->scale = ScaleWrite{std::move(next), d.current_replicas};
  const bool up = d.desired_replicas > d.current_replicas;
  p->outcome = up ? "scale_up" : "scale_down";
  p->record_scale_event = true;
  p->target_event = {"Normal", up ? "ScaledUp" : "ScaledDown", "Scale", d.message};
}

// restartBeforeOOM (after the target write; a failed pod list means no eviction this time).
void PlanEviction(const ReconcileInputs& in, ReconcilePlan* p) {
  const MemoryScalerSpec& spec = in.scaler.scaler.spec;
  if (!spec.restart.enabled || !in.pods_error.ok()) return;
  const int current = in.target.replicas;
  const bool at_ceiling = p->hpa_mode ? current >= std::min(in.hpa->max_replicas, spec.max_replicas)
                                      : current >= spec.max_replicas;
  p->eviction = DecideEviction(spec, in.forecast, in.pods, at_ceiling,
                               in.last_eviction_unix_seconds, in.now_unix_seconds);
  if (!p->eviction.evict) return;
  if (!spec.dry_run) {
    p->evict = EvictionWrite{p->eviction.pod, in.scaler.scaler.namespace_name};
    return;
  }
  p->events.push_back(
      {"Normal", "DryRun", "Evict", "dry run: would evict: " + p->eviction.message});
  p->status.last_eviction =
      LastEvictionStatus{p->eviction.pod, FormatRfc3339(in.now_unix_seconds), "DryRun",
                         p->eviction.message.substr(0, kMaxMessage)};
  if (p->outcome == "no_change" || p->outcome == "hold") p->outcome = "dry_run";
}

// The selector matches no container while forecasts are fresh: a hold with its own outcome,
// and a Warning Event only when ScalingActive was not already SelectorMatchesNothing (once per
// change, not every sync).
void PlanNoMatch(const ReconcileInputs& in, ReconcilePlan* p) {
  p->outcome = "no_match";
  for (const ScalerCondition& c : in.scaler.status.conditions) {
    if (c.type == "ScalingActive" && !c.status && c.reason == kSelectorMatchesNothing) return;
  }
  p->events.push_back({"Warning", kSelectorMatchesNothing, "Hold", in.forecast.error});
}

}  // namespace

ReconcilePlan Plan(const ReconcileInputs& in) {
  const MemoryScaler& ms = in.scaler.scaler;
  const double now = in.now_unix_seconds;
  if (!in.scaler.spec_error.ok()) {
    return StatusOnly(in, "invalid",
                      {Condition("Ready", false, "InvalidSpec", in.scaler.spec_error.message())},
                      Status::Ok());
  }
  if (!in.target_error.ok()) {
    const bool missing = in.target_error.code() == StatusCode::kNotFound;
    return StatusOnly(in, "error",
                      {Condition("Ready", false, missing ? "TargetNotFound" : "FailedGetScale",
                                 in.target_error.message()),
                       Condition("ScalingActive", false, "FailedGetScale",
                                 "the target's scale subresource cannot be read")},
                      in.target_error);
  }
  if (!in.hpa_error.ok()) {  // Without knowing, writing /scale could fight an HPA: hold.
    return StatusOnly(in, "error",
                      {Condition("Ready", false, "FailedListHPA", in.hpa_error.message()),
                       Condition("ScalingActive", false, "FailedListHPA",
                                 "cannot tell whether an HPA targets the same workload: holding")},
                      in.hpa_error);
  }
  ReconcilePlan p;
  p.decision = Decide(ms.spec, in.target.replicas, in.forecast, in.history, now);
  p.status = in.scaler.status;
  if (in.hpa) {
    PlanHpa(in, &p);
  } else {
    PlanScale(in, &p);
  }
  PlanEviction(in, &p);
  if (in.forecast.no_match) PlanNoMatch(in, &p);
  MemoryScalerStatus& st = p.status;
  st.observed_generation = ms.generation;
  st.current_replicas = in.target.replicas;
  st.desired_replicas = p.decision.desired_replicas;
  if (p.scale) st.last_scale_time = FormatRfc3339(now);
  st.last_forecast = ForecastStatus(in.forecast, now);
  st.last_decision =
      LastDecisionStatus{FormatRfc3339(now), ActionName(p.decision.action), p.decision.rule,
                         p.decision.reason, p.decision.message.substr(0, kMaxMessage)};
  st.mode = p.hpa_mode ? "HPAFloor" : "Scale";
  st.conditions =
      MergeConditions(in.scaler.status.conditions, Conditions(p, in, std::nullopt), now);
  return p;
}

ReconcilePlan WithTargetWriteFailure(ReconcilePlan p, const ReconcileInputs& in,
                                     const Status& error) {
  p.outcome = "error";
  p.record_scale_event = false;
  p.target_event.reset();
  p.status.last_scale_time = in.scaler.status.last_scale_time;
  const char* reason = p.hpa ? "FailedUpdateHPA" : "FailedUpdateScale";
  p.status.conditions = MergeConditions(
      in.scaler.status.conditions,
      Conditions(p, in, Condition("Ready", false, reason, error.message())), in.now_unix_seconds);
  return p;
}

ReconcilePlan WithEvictionResult(ReconcilePlan p, const ReconcileInputs& in,
                                 const EvictionResult& result) {
  const std::string& pod = p.eviction.pod;
  const std::string retry =
      result.retry_after.empty() ? "" : " (retry after " + result.retry_after + "s)";
  LastEvictionStatus record{pod, FormatRfc3339(in.now_unix_seconds), "", ""};
  switch (result.kind) {
    case EvictionResult::Kind::kEvicted:
      record.result = "Evicted";
      record.message = p.eviction.message.substr(0, kMaxMessage);
      p.outcome = "evict";
      p.events.push_back({"Normal", "EvictedBeforeOOM", "Evict",
                          "evicted pod " + pod + ": " + p.eviction.message});
      break;
    case EvictionResult::Kind::kRefused:
      record.result = "Refused";
      record.message = ("the Eviction API refused (PodDisruptionBudget): " + result.message + retry)
                           .substr(0, kMaxMessage);
      p.outcome = "evict_refused";
      p.eviction.reason = "EvictionRefused";
      p.events.push_back(
          {"Warning", "EvictionRefused", "Evict",
           "could not evict pod " + pod + " ahead of its forecast OOM: " + result.message + retry});
      break;
    case EvictionResult::Kind::kFailed:
      record.result = "Failed";
      record.message = result.message.substr(0, kMaxMessage);
      p.outcome = "error";
      p.events.push_back({"Warning", "EvictionFailed", "Evict",
                          "could not evict pod " + pod + ": " + result.message});
      break;
  }
  p.status.last_eviction = record;
  return p;
}

std::vector<ScalerCondition> MergeConditions(const std::vector<ScalerCondition>& old,
                                             std::vector<ScalerCondition> next, double now) {
  for (ScalerCondition& c : next) {
    c.last_transition_time = FormatRfc3339(now);
    for (const ScalerCondition& o : old) {
      if (o.type == c.type && o.status == c.status && !o.last_transition_time.empty()) {
        c.last_transition_time = o.last_transition_time;
      }
    }
  }
  return next;
}

bool StatusUnchanged(const MemoryScalerStatus& prev, const MemoryScalerStatus& next, double now) {
  if (!prev.last_decision) return false;
  auto written = ParseTimestamp(prev.last_decision->time);
  if (!written.ok() || now - *written >= kStatusHeartbeatSeconds) return false;
  MemoryScalerStatus a = prev, b = next;
  for (MemoryScalerStatus* s : {&a, &b}) {
    if (s->last_decision) s->last_decision->time.clear();
    if (s->last_forecast) s->last_forecast->time.clear();
  }
  return a == b;
}

}  // namespace oomcast::controller
