// The pure middle of a MemoryScaler reconcile: typed objects for what was read, and Plan(),
// which returns every intended write, Event and the new status as values. No I/O, no clock
// (time is an argument). The reconciler (reconciler.h) reads, plans, applies, and folds the
// outcome of each write back in with WithTargetWriteFailure / WithEvictionResult.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oomcast/controller/decision.h"
#include "oomcast/controller/events.h"
#include "oomcast/controller/memory_scaler.h"
#include "oomcast/status.h"

namespace oomcast::controller {

// Annotations on an HPA whose minReplicas the controller raised.
inline constexpr const char* kOriginalMinReplicasAnnotation = "oomcast.io/original-min-replicas";
inline constexpr const char* kFloorUntilAnnotation = "oomcast.io/floor-until";
inline constexpr const char* kFloorOwnerAnnotation = "oomcast.io/floor-owner";

// The target's autoscaling/v1 Scale (its /scale subresource) as read.
struct TargetScale {
  std::string name;
  std::string namespace_name;
  std::string resource_version;  // Sent back on the write: optimistic concurrency.
  int replicas = 0;              // spec.replicas
  std::string selector;          // status.selector: the pods' label selector.
};

// An autoscaling/v2 HorizontalPodAutoscaler on the same target, as read. `object_json` is the
// whole object (a PUT replaces it, so fields the controller does not know are kept from it);
// min_replicas and annotations override it on the write.
struct HorizontalPodAutoscaler {
  std::string name;
  std::string namespace_name;
  int min_replicas = 1;
  int max_replicas = 1;
  std::map<std::string, std::string> annotations;
  std::string object_json;
};

// Everything one reconcile read. A failed read is its Status; the reads after it are not made.
struct ReconcileInputs {
  MemoryScalerObject scaler;
  Status target_error;  // Reading /scale.
  TargetScale target;
  Status hpa_error;  // Listing HPAs.
  std::optional<HorizontalPodAutoscaler> hpa;
  ForecastReading forecast;
  Status pods_error;  // Listing pods (restartBeforeOOM only).
  std::vector<PodState> pods;
  ScalerHistory history;                  // Past decisions of this scaler.
  double last_eviction_unix_seconds = 0;  // 0: never (the later of memory and status).
  double now_unix_seconds = 0;
};

struct ScaleWrite {
  TargetScale scale;  // With the new replicas; resource_version as read.
  int from = 0;
};

struct HpaWrite {
  HorizontalPodAutoscaler hpa;  // As it should be after the write.
  std::string change;           // "floor", "extend" (the window only) or "restore".
};

struct EvictionWrite {
  std::string pod;
  std::string namespace_name;
};

// The result of an Eviction request, as WithEvictionResult takes it.
struct EvictionResult {
  enum class Kind { kEvicted, kRefused, kFailed } kind = Kind::kEvicted;
  std::string message;      // Why refused or failed (the API's message).
  std::string retry_after;  // Retry-After of a refusal, seconds; may be empty.
};

// What one reconcile decided: planned here, reported by the reconciler (ReconcileResult).
struct ReconcileSummary {
  std::string outcome;  // The decisions_total label (see metrics.h).
  Decision decision;
  EvictionDecision eviction;
  bool hpa_mode = false;  // An HPA owns the target: its minReplicas floor, never /scale.
  std::string hpa_name;
};

struct ReconcilePlan : ReconcileSummary {
  // At most one of scale / hpa: the target write.
  std::optional<ScaleWrite> scale;
  std::optional<HpaWrite> hpa;
  std::optional<EvictionWrite> evict;  // After the target write.
  // Events on the scaler, in order: target_event first (dropped when the target write fails),
  // then `events`.
  std::optional<PlannedEvent> target_event;
  std::vector<PlannedEvent> events;
  // The new status; written unless skip_if_unchanged and StatusUnchanged(old, status, now).
  MemoryScalerStatus status;
  bool skip_if_unchanged = true;    // False on the invalid-spec and failed-read paths.
  bool record_scale_event = false;  // The history records a scale event (a successful /scale).
  // The error the reconcile returns after writing status (a failed read); OK otherwise.
  Status error;
};

// Decides everything one reconcile does from what it read. Contract (unchanged from the
// interleaved reconcile it replaces):
// - Invalid spec: only status (Ready=False InvalidSpec); outcome "invalid".
// - /scale or HPA list unreadable: only status (Ready=False FailedGetScale / TargetNotFound /
//   FailedListHPA, ScalingActive=False) and `error`; outcome "error". No write to the target
//   without knowing whether an HPA owns it.
// - HPA on the target: never /scale; raise its minReplicas for the horizon on an up-signal,
//   extend the window while needed, restore it after the window when calm; hold (keep any
//   floor) on a missing forecast.
// - Otherwise /scale to decision.desired_replicas when it differs (dry run: an Event only).
// - restartBeforeOOM: an Eviction of the pod that runs out first (DecideEviction); dry run:
//   recorded in status.lastEviction as DryRun.
// - The selector matches no container while forecasts are fresh (forecast.no_match): hold like
//   a missing forecast, ScalingActive=False SelectorMatchesNothing naming the selector and the
//   metric, outcome "no_match", and a Warning Event SelectorMatchesNothing only when the
//   previous status did not already say so.
ReconcilePlan Plan(const ReconcileInputs& in);

// The plan after the target write (scale or HPA) failed with `error` (not a conflict: those are
// re-read and planned again): outcome "error", Ready=False FailedUpdateScale / FailedUpdateHPA,
// no scale event, no lastScaleTime change, the target's Event dropped.
ReconcilePlan WithTargetWriteFailure(ReconcilePlan plan, const ReconcileInputs& in,
                                     const Status& error);

// The plan after its Eviction was answered: status.lastEviction, the Event and the outcome.
ReconcilePlan WithEvictionResult(ReconcilePlan plan, const ReconcileInputs& in,
                                 const EvictionResult& result);

// Sets lastTransitionTime of each of `next` conditions: kept from `old` while the condition's
// status is unchanged, else `now`.
std::vector<ScalerCondition> MergeConditions(const std::vector<ScalerCondition>& old,
                                             std::vector<ScalerCondition> next,
                                             double now_unix_seconds);

// True when `next` differs from `prev` only in the times of the last forecast and decision and
// `prev` was written less than kStatusHeartbeatSeconds ago: no write (no no-op writes, a
// heartbeat every 5 minutes).
inline constexpr double kStatusHeartbeatSeconds = 300;
bool StatusUnchanged(const MemoryScalerStatus& prev, const MemoryScalerStatus& next,
                     double now_unix_seconds);

}  // namespace oomcast::controller
