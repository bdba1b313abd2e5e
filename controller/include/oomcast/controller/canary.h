// MemoryCanary (oomcast.io/v1alpha1): pause a Deployment's rollout when the predictor's canary
// memory comparison fails (docs/canary.md). A reconcile reads the MemoryCanary, the verdict and
// the Deployment, plans every write as a value (PlanCanary, pure), then applies it: on `fail`,
// spec.paused=true on the Deployment, a Warning Event, and conditions saying which aspect
// failed and by how much.
//
// The verdict is read from Prometheus (memory_canary_verdict, memory_canary_failed,
// memory_canary_effect, memory_canary_p_value, as the predictor publishes them): the same series
// Argo Rollouts and Flagger gate on, so the controller and a rollout tool never disagree, and
// no second path (the adapter's external metrics API serves per-pod forecasts, not
// comparisons) has to be kept in step.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/controller/events.h"
#include "oomcast/kube_client.h"
#include "oomcast/prometheus_client.h"
#include "oomcast/status.h"

namespace oomcast::controller {

struct MemoryCanarySpec {
  std::string target;         // spec.targetRef.name: a Deployment in the MemoryCanary's namespace.
  std::string comparison;     // spec.comparison: the predictor's comparison (its `canary` label).
  std::string baseline;       // spec.baseline / spec.canary: the groups' pod label selectors, as
  std::string canary;         // configured in the predictor (shown, and checked to parse).
  bool pause_on_fail = true;  // spec.pauseOnFail.
  bool dry_run = false;       // spec.dryRun: Event and conditions only, no pause.
};

struct MemoryCanaryObject {
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  MemoryCanarySpec spec;
  std::string status_json = "{}";  // status as read (conditions keep their transition times).
};

// Parses a MemoryCanary object. InvalidArgument naming the field (spec.targetRef.name,
// spec.comparison, spec.baseline, spec.canary must be set; selectors must parse).
StatusOr<MemoryCanaryObject> ParseMemoryCanary(const std::string& json);

// The predictor's verdict of one comparison.
struct CanaryReading {
  Status error;         // Unavailable: Prometheus unreachable; NotFound: no such comparison.
  std::string verdict;  // pass, fail, inconclusive.
  std::string aspect;   // The failed aspect (fail only): level, growth, spread.
  double effect = 0;    // Of `aspect`: ratio - 1 (level, spread) or bytes/s (growth).
  double p_value = -1;  // Adjusted p-value; -1 when absent.
};

// Where verdicts come from. Thread-compatible.
class CanaryVerdictSource {
 public:
  virtual ~CanaryVerdictSource() = default;
  virtual CanaryReading Read(const std::string& namespace_name, const std::string& comparison) = 0;
};

// Reads the predictor's series from a Prometheus-compatible TSDB (instant queries at now). When
// several publishers report the comparison (the metrics adapter's replicas), `fail` from any of
// them wins, then `pass`, then `inconclusive`.
std::unique_ptr<CanaryVerdictSource> NewPrometheusCanaryVerdictSource(PrometheusClient* client,
                                                                      Clock* clock);

struct DeploymentRead {
  Status error;  // NotFound when the Deployment does not exist.
  std::string object_json;
  bool paused = false;
};

struct CanaryPlan {
  bool pause = false;                 // Write spec.paused=true on the Deployment.
  std::optional<PlannedEvent> event;  // On the MemoryCanary.
  std::string status_json;            // The new status (conditions, verdict, effect).
  bool status_changed = true;
};

// Decides one reconcile. On verdict fail: pause (unless already paused, dry run or
// pauseOnFail=false), a Warning Event CanaryFailed naming the aspect and effect (once: when the
// status did not already record this failure), conditions Passing=False reason Failed and
// RolloutPaused=True reason CanaryFailed. Pass / inconclusive: Passing=True Passed /
// Passing=Unknown Inconclusive, nothing else written. A failed read: Passing=Unknown with the
// error; no pause. `now_unix_seconds` stamps changed conditions.
CanaryPlan PlanCanary(const MemoryCanaryObject& canary, const DeploymentRead& deployment,
                      const CanaryReading& reading, double now_unix_seconds);

// Reads, plans and applies. Thread-compatible; pointers must outlive it.
class CanaryReconciler {
 public:
  CanaryReconciler(KubeClient* kube, CanaryVerdictSource* verdicts, Clock* clock,
                   std::string reporting_instance = "oomcast-controller");
  // Lists the MemoryCanaries of `namespace_name` (empty: all) and reconciles each. OK, or the
  // list's error, or the first failed reconcile (the others still run; each failure is logged).
  Status ReconcileAll(const std::string& namespace_name);
  // One reconcile of the MemoryCanary `namespace_name`/`name`. OK, or the first failed read or
  // write (after status is written where possible). A 409 on the Deployment is retried once.
  Status Reconcile(const std::string& namespace_name, const std::string& name);

 private:
  KubeClient* kube_;
  CanaryVerdictSource* verdicts_;
  Clock* clock_;
  EventRecorder events_;
};

}  // namespace oomcast::controller
