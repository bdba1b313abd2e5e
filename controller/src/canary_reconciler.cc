// The MemoryCanary reconcile: read -> PlanCanary -> apply (canary.h).
#include <nlohmann/json.hpp>

#include "oomcast/controller/canary.h"
#include "oomcast/log.h"

namespace oomcast::controller {
namespace {

using nlohmann::json;

std::string CanaryPath(const std::string& ns, const std::string& name) {
  return "/apis/oomcast.io/v1alpha1/namespaces/" + ns + "/memorycanaries/" + name;
}

std::string DeploymentPath(const std::string& ns, const std::string& name) {
  return "/apis/apps/v1/namespaces/" + ns + "/deployments/" + name;
}

DeploymentRead ReadDeployment(KubeClient* kube, const std::string& path) {
  DeploymentRead d;
  auto r = kube->Request("GET", path);
  if (!r.ok()) {
    d.error = r.status();
    return d;
  }
  d.error = KubeResponseStatus(*r, "GET " + path);
  if (!d.error.ok()) return d;
  d.object_json = r->body;
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) {
    d.error = InvalidArgumentError("GET " + path + ": not JSON");
    return d;
  }
  d.paused = j.value("spec", json::object()).value("paused", false);
  return d;
}

// PUT of the Deployment as read with spec.paused=true (resourceVersion as read).
Status PutPaused(KubeClient* kube, const std::string& path, const std::string& object_json) {
  json j = json::parse(object_json, nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError(path + ": not JSON");
  j["spec"]["paused"] = true;
  auto r = kube->Request("PUT", path, j.dump());
  if (!r.ok()) return r.status();
  return KubeResponseStatus(*r, "PUT " + path);
}

}  // namespace

CanaryReconciler::CanaryReconciler(KubeClient* kube, CanaryVerdictSource* verdicts, Clock* clock,
                                   std::string reporting_instance)
    : kube_(kube),
      verdicts_(verdicts),
      clock_(clock),
      events_(kube, clock, std::move(reporting_instance)) {}

Status CanaryReconciler::ReconcileAll(const std::string& ns) {
  const std::string path = ns.empty()
                               ? "/apis/oomcast.io/v1alpha1/memorycanaries"
                               : "/apis/oomcast.io/v1alpha1/namespaces/" + ns + "/memorycanaries";
  auto list = kube_->Request("GET", path);
  if (!list.ok()) return list.status();
  OOMCAST_RETURN_IF_ERROR(KubeResponseStatus(*list, "GET " + path));
  json j = json::parse(list->body, nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError("GET " + path + ": not JSON");
  Status first = Status::Ok();
  for (const auto& item : j.value("items", json::array())) {
    const json meta = item.value("metadata", json::object());
    const std::string item_ns = meta.value("namespace", ""), item_name = meta.value("name", "");
    Status st = Reconcile(item_ns, item_name);
    if (st.ok()) continue;
    LogWarn("memory canary reconcile failed",
            {{"canary", item_ns + "/" + item_name}, {"err", st.ToString()}});
    if (first.ok()) first = st;
  }
  return first;
}

Status CanaryReconciler::Reconcile(const std::string& ns, const std::string& name) {
  const std::string path = CanaryPath(ns, name);
  auto got = kube_->Request("GET", path);
  if (!got.ok()) return got.status();
  OOMCAST_RETURN_IF_ERROR(KubeResponseStatus(*got, "GET " + path));
  auto canary = ParseMemoryCanary(got->body);
  if (!canary.ok()) return canary.status();
  const CanaryReading reading = verdicts_->Read(ns, canary->spec.comparison);
  const std::string dpath = DeploymentPath(ns, canary->spec.target);
  DeploymentRead deployment = ReadDeployment(kube_, dpath);
  CanaryPlan plan = PlanCanary(*canary, deployment, reading, clock_->NowUnixSeconds());
  Status first = Status::Ok();
  if (plan.pause) {
    Status st = PutPaused(kube_, dpath, deployment.object_json);
    if (st.code() == StatusCode::kAborted) {  // 409: someone else wrote it; read and retry once.
      deployment = ReadDeployment(kube_, dpath);
      plan = PlanCanary(*canary, deployment, reading, clock_->NowUnixSeconds());
      st = plan.pause ? PutPaused(kube_, dpath, deployment.object_json) : Status::Ok();
    }
    if (!st.ok()) {
      first = st;
      // Not paused after all: say so in the status rather than claim it.
      json status = json::parse(plan.status_json);
      for (auto& c : status["conditions"]) {
        if (c.value("type", "") != "RolloutPaused") continue;
        c["status"] = "False";
        c["reason"] = "FailedPause";
        c["message"] = st.message();
      }
      plan.status_json = status.dump();
      if (plan.event) {
        plan.event->action = "Pause";
        plan.event->message += " (pause failed: " + st.message() + ")";
      }
    }
  }
  if (plan.event) {
    InvolvedObject obj{"oomcast.io/v1alpha1",  "MemoryCanary", canary->name,
                       canary->namespace_name, canary->uid,    canary->resource_version};
    Status st = events_.Record(obj, *plan.event);
    if (!st.ok() && first.ok()) first = st;
  }
  if (plan.status_changed) {
    json obj = json::parse(got->body);
    obj["status"] = json::parse(plan.status_json);
    auto r = kube_->Request("PUT", path + "/status", obj.dump());
    Status st = r.ok() ? KubeResponseStatus(*r, "PUT " + path + "/status") : r.status();
    if (!st.ok() && first.ok()) first = st;
  }
  if (first.ok() && !reading.error.ok()) return reading.error;
  return first;
}

}  // namespace oomcast::controller
