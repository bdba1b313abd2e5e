#include "oomcast/controller/decision.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>

#include "oomcast/units.h"

namespace oomcast::controller {
namespace {

std::string Bytes(double v) { return FormatBytesHuman(v) + "/s"; }

// Replicas the policies allow at most (`direction` +1, scale up) or at least (-1, scale down),
// as autoscaling/v2 computes them: per policy, the replicas at the start of its period (this
// direction's changes within the period undone), moved by the policy's pods or percent (rounded
// up when scaling up, down when scaling down); Select kMax takes the policy allowing the largest
// change, kMin the smallest.
int PolicyLimit(const ScalingRules& rules, int direction, int current, const ScalerHistory& history,
                double now) {
  if (rules.select == ScalingRules::Select::kDisabled) return current;
  const bool up = direction > 0;
  if (rules.policies.empty()) return up ? INT_MAX : INT_MIN;
  const bool lowest = (rules.select == ScalingRules::Select::kMin) == up;
  int result = lowest ? INT_MAX : INT_MIN;
  for (const auto& p : rules.policies) {
    int moved = 0;
    for (const auto& e : history.scale_events) {
      if (e.replica_change * direction > 0 && e.time_unix_seconds > now - p.period_seconds) {
        moved += e.replica_change * direction;
      }
    }
    const int start = current - direction * moved;
    int limit;
    if (p.type == ScalingPolicy::Type::kPods) {
      limit = start + direction * p.value;
    } else if (up) {
      limit = static_cast<int>(std::ceil(start * (1.0 + p.value / 100.0)));
    } else {
      limit = static_cast<int>(start * (1.0 - p.value / 100.0));
    }
    result = lowest ? std::min(result, limit) : std::max(result, limit);
  }
  return result;
}

// Step 1 of Decide: the scale-up and scale-down rules. Sets d->rule and d->message; returns the
// recommended replicas (current +/- step, or current).
int ApplyRules(const MemoryScalerSpec& spec, int current, const ForecastReading& forecast,
               Decision* decision) {
  Decision& d = *decision;
  int recommendation = current;
  const auto& up = spec.scale_up;
  if (forecast.max_growth_bytes_per_second > up.growth_rate_above_bytes_per_second) {
    d.rule = "growth";
    d.message = "memory grows at " + Bytes(forecast.max_growth_bytes_per_second) + " (> " +
                Bytes(up.growth_rate_above_bytes_per_second) + ")";
  } else if (up.on_oom_forecast && forecast.min_oom_eta_seconds <= spec.horizon_seconds &&
             forecast.max_oom_risk >= up.risk_threshold) {
    // The ETA is the trend's point estimate; only with the calibrated risk agreeing (P(OOM
    // within the horizon) >= threshold) is it a forecast to act on. A short ETA at low risk
    // (noise, a sawtooth right after a gap in the data) is not.
    d.rule = "oom-eta";
    d.message = "OOM forecast in " + FormatDurationHuman(forecast.min_oom_eta_seconds) +
                (forecast.worst_pod.empty() ? "" : " for pod " + forecast.worst_pod) +
                " (horizon " + FormatDurationHuman(spec.horizon_seconds) + ")";
  } else if (up.on_oom_forecast && forecast.max_oom_risk >= up.risk_threshold) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.2f (>= %.2f)", forecast.max_oom_risk, up.risk_threshold);
    d.rule = "oom-risk";
    d.message = std::string("OOM risk within the horizon is ") + buf;
  }
  if (!d.rule.empty()) {
    recommendation = current + up.step;
  } else if (forecast.max_growth_bytes_per_second <
             spec.scale_down.growth_rate_below_bytes_per_second) {
    d.rule = "shrink";
    d.message = "memory shrinks at " + Bytes(forecast.max_growth_bytes_per_second) + " (< " +
                Bytes(spec.scale_down.growth_rate_below_bytes_per_second) + ")";
    recommendation = current - spec.scale_down.step;
  } else {
    d.message =
        "forecast within bounds (growth " + Bytes(forecast.max_growth_bytes_per_second) + ")";
  }
  return recommendation;
}

// Last step of Decide: the action, reason and message of `d` (desired_replicas set).
void Describe(int current, int recommendation, bool stabilization_held, Decision* decision) {
  Decision& d = *decision;
  const int desired = d.desired_replicas;
  if (desired > current) {
    d.action = Action::kScaleUp;
    d.reason = "ScaleUp";
    d.message = "scale up from " + std::to_string(current) + " to " + std::to_string(desired) +
                ": " + d.message;
  } else if (desired < current) {
    d.action = Action::kScaleDown;
    d.reason = "ScaleDown";
    d.message = "scale down from " + std::to_string(current) + " to " + std::to_string(desired) +
                ": " + d.message;
  } else {
    d.action = Action::kNone;
    if (stabilization_held) {
      d.reason = "ScaleDownStabilized";
      if (recommendation > current) d.reason = "ScaleUpStabilized";
      d.message = "recommendation " + std::to_string(recommendation) +
                  " held by the stabilization window: " + d.message;
    } else if (d.limited) {
      d.reason = "Limited";
      d.message = "at the " +
                  std::string(d.limited_reason == "TooManyReplicas" ? "maximum" : "minimum") +
                  " of " + std::to_string(current) + " replicas: " + d.message;
    } else {
      d.reason = "NoChange";
    }
  }
}

}  // namespace

Decision Decide(const MemoryScalerSpec& spec, int current, const ForecastReading& forecast,
                const ScalerHistory& history, double now) {
  Decision d;
  d.current_replicas = current;
  if (!forecast.available) {
    d.action = Action::kHold;
    d.desired_replicas = std::max(current, spec.min_replicas);
    d.recommendation = d.desired_replicas;
    d.reason = "ForecastUnavailable";
    d.message = "holding at " + std::to_string(current) + " replicas: no usable forecast (" +
                forecast.error + ")";
    if (d.desired_replicas > current) {
      d.action = Action::kScaleUp;
      d.limited = true;
      d.limited_reason = "TooFewReplicas";
    }
    return d;
  }

  // 1. Rules.
  const int recommendation = ApplyRules(spec, current, forecast, &d);
  d.recommendation = recommendation;

  // 2. Stabilization windows.
  int up_rec = recommendation;
  int down_rec = recommendation;
  for (const auto& r : history.recommendations) {
    if (r.time_unix_seconds > now - spec.up_behavior.stabilization_window_seconds) {
      up_rec = std::min(up_rec, r.replicas);
    }
    if (r.time_unix_seconds > now - spec.down_behavior.stabilization_window_seconds) {
      down_rec = std::max(down_rec, r.replicas);
    }
  }
  int stabilized = current;
  if (stabilized < up_rec) stabilized = up_rec;
  if (stabilized > down_rec) stabilized = down_rec;
  bool stabilization_held = stabilized != recommendation;

  // 3. Policies and 4. clamps.
  int desired = stabilized;
  if (stabilized > current) {
    int limit = PolicyLimit(spec.up_behavior, +1, current, history, now);
    int max_allowed = std::min(limit, spec.max_replicas);
    if (stabilized > max_allowed) {
      desired = max_allowed;
      d.limited = true;
      d.limited_reason = limit < spec.max_replicas ? "ScaleUpLimit" : "TooManyReplicas";
    }
  } else if (stabilized < current) {
    int limit = PolicyLimit(spec.down_behavior, -1, current, history, now);
    int min_allowed = std::max(limit, spec.min_replicas);
    if (stabilized < min_allowed) {
      desired = min_allowed;
      d.limited = true;
      d.limited_reason = limit > spec.min_replicas ? "ScaleDownLimit" : "TooFewReplicas";
    }
  }
  if (desired < spec.min_replicas) {
    desired = spec.min_replicas;
    d.limited = true;
    d.limited_reason = "TooFewReplicas";
  } else if (desired > spec.max_replicas) {
    desired = spec.max_replicas;
    d.limited = true;
    d.limited_reason = "TooManyReplicas";
  }
  if (!d.limited && d.rule == "shrink" && recommendation < spec.min_replicas) {
    d.limited = true;
    d.limited_reason = "TooFewReplicas";
  }
  if (!d.limited && !d.rule.empty() && d.rule != "shrink" && recommendation > spec.max_replicas) {
    d.limited = true;
    d.limited_reason = "TooManyReplicas";
  }
  d.desired_replicas = desired;
  Describe(current, recommendation, stabilization_held, &d);
  return d;
}

void RecordDecision(const MemoryScalerSpec& spec, const Decision& decision, bool applied,
                    double now, ScalerHistory* history) {
  if (decision.action != Action::kHold) {
    history->recommendations.push_back({now, decision.recommendation});
  }
  if (applied && decision.desired_replicas != decision.current_replicas) {
    history->scale_events.push_back({now, decision.desired_replicas - decision.current_replicas});
  }
  double window = std::max(spec.up_behavior.stabilization_window_seconds,
                           spec.down_behavior.stabilization_window_seconds);
  double period = 0;
  for (const auto* rules : {&spec.up_behavior, &spec.down_behavior}) {
    for (const auto& p : rules->policies) period = std::max(period, p.period_seconds);
  }
  auto& recs = history->recommendations;
  recs.erase(std::remove_if(recs.begin(), recs.end(),
                            [&](const auto& r) { return r.time_unix_seconds <= now - window; }),
             recs.end());
  auto& events = history->scale_events;
  events.erase(std::remove_if(events.begin(), events.end(),
                              [&](const auto& e) { return e.time_unix_seconds <= now - period; }),
               events.end());
}

EvictionDecision DecideEviction(const MemoryScalerSpec& spec, const ForecastReading& forecast,
                                const std::vector<PodState>& pods, bool at_ceiling,
                                double last_eviction, double now) {
  EvictionDecision e;
  if (!spec.restart.enabled) {
    e.reason = "Disabled";
    return e;
  }
  if (!forecast.available) {
    e.reason = "ForecastUnavailable";
    e.message = "no eviction without a usable forecast";
    return e;
  }
  const PodForecast* worst = nullptr;
  int at_risk = 0;
  for (const auto& p : forecast.pods) {
    if (p.oom_eta_seconds > spec.restart.eta_below_seconds) continue;
    bool known = std::any_of(pods.begin(), pods.end(), [&](const PodState& s) {
      return s.name == p.pod && s.ready && !s.terminating;
    });
    if (!known) continue;
    ++at_risk;
    if (worst == nullptr || p.oom_eta_seconds < worst->oom_eta_seconds) worst = &p;
  }
  if (worst == nullptr) {
    e.reason = "NoPodAtRisk";
    return e;
  }
  e.pod = worst->pod;
  int ready = 0;
  bool disrupted = false;
  for (const auto& p : pods) {
    if (p.terminating || !p.ready) disrupted = true;
    if (p.ready && !p.terminating) ++ready;
  }
  if (ready <= 1) {
    e.reason = "LastReadyReplica";
    e.message = "pod " + e.pod + " is the last ready replica: not evicted";
    return e;
  }
  if (disrupted) {
    e.reason = "DisruptionInProgress";
    e.message = "another pod is not ready or terminating: one eviction at a time";
    return e;
  }
  if (!at_ceiling && at_risk >= ready) {
    e.reason = "ScalingCanHelp";
    e.message = "every ready pod is running out of memory and replicas can still be added";
    return e;
  }
  if (last_eviction > 0 && now - last_eviction < spec.restart.cooldown_seconds) {
    e.reason = "Cooldown";
    e.message = "last eviction " + FormatDurationHuman(now - last_eviction) + " ago (cooldown " +
                FormatDurationHuman(spec.restart.cooldown_seconds) + ")";
    return e;
  }
  e.evict = true;
  e.reason = "RestartBeforeOOM";
  e.message = "pod " + e.pod + " is forecast to run out of memory in " +
              FormatDurationHuman(worst->oom_eta_seconds) + " (threshold " +
              FormatDurationHuman(spec.restart.eta_below_seconds) + "); " +
              (at_ceiling ? "the target is at its maximum replicas"
                          : "the other replicas are not running out (a leak)");
  return e;
}

}  // namespace oomcast::controller
