#include "oomcast/controller/reconciler.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "memory_scaler_json.h"
#include "oomcast/controller/events.h"
#include "oomcast/controller/memory_scaler.h"
#include "oomcast/log.h"
#include "oomcast/units.h"
#include "oomcast/url.h"

namespace oomcast::controller {

using nlohmann::json;

std::string TargetPath(const std::string& api_version, const std::string& kind,
                       const std::string& ns, const std::string& name) {
  std::string plural;
  for (char c : kind)
    plural.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (!plural.empty() && plural.back() == 's') {
    plural += "es";
  } else if (plural.size() > 1 && plural.back() == 'y' &&
             std::string("aeiou").find(plural[plural.size() - 2]) == std::string::npos) {
    plural = plural.substr(0, plural.size() - 1) + "ies";
  } else {
    plural += "s";
  }
  std::string base =
      api_version.find('/') == std::string::npos ? "/api/" + api_version : "/apis/" + api_version;
  return base + "/namespaces/" + ns + "/" + plural + "/" + name;
}

namespace {

std::string Group(const std::string& api_version) {
  size_t slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

// The HPA object (as listed) with `hpa`'s minReplicas and annotations: the body of its PUT.
json HpaBody(const HorizontalPodAutoscaler& hpa) {
  json body = json::parse(hpa.object_json);
  body["apiVersion"] = "autoscaling/v2";  // List items carry no kind/apiVersion; the PUT must.
  body["kind"] = "HorizontalPodAutoscaler";
  body["spec"]["minReplicas"] = hpa.min_replicas;
  json annotations = json::object();
  for (const auto& [k, v] : hpa.annotations) annotations[k] = v;
  body["metadata"]["annotations"] = annotations;
  return body;
}

HorizontalPodAutoscaler ParseHpa(const json& h) {
  HorizontalPodAutoscaler hpa;
  const json md = h.value("metadata", json::object());
  hpa.name = md.value("name", "");
  hpa.namespace_name = md.value("namespace", "default");
  const json annotations = md.value("annotations", json::object());
  if (annotations.is_object()) {
    for (auto it = annotations.begin(); it != annotations.end(); ++it) {
      if (it->is_string()) hpa.annotations[it.key()] = it->get<std::string>();
    }
  }
  hpa.min_replicas = h["spec"].value("minReplicas", 1);
  hpa.max_replicas = h["spec"].value("maxReplicas", hpa.min_replicas);
  hpa.object_json = h.dump();
  return hpa;
}

std::string HpaPath(const std::string& ns, const std::string& name) {
  return "/apis/autoscaling/v2/namespaces/" + ns + "/horizontalpodautoscalers/" + name;
}

}  // namespace

struct Reconciler::Impl {
  KubeClient* kube;
  ForecastSource* forecasts;
  Clock* clock;
  ControllerMetrics* metrics;
  ReconcilerOptions options;
  std::unique_ptr<EventRecorder> events;
  std::map<std::string, ScalerHistory> history;
  std::map<std::string, double> last_eviction;  // Also persisted in status.lastEviction.

  void ApiError() {
    if (metrics != nullptr) metrics->CountApiError();
  }

  // One request whose answer is a JSON object: the parsed object, or the mapped status
  // (kAborted on a 409 conflict, kDataLoss when the body is not JSON).
  StatusOr<json> RequestJson(const std::string& method, const std::string& path,
                             const std::string& body, const std::string& what) {
    auto r = kube->Request(method, path, body);
    if (!r.ok()) {
      ApiError();
      return r.status().WithContext(what);
    }
    Status st = KubeResponseStatus(*r, what);
    if (!st.ok()) {
      ApiError();
      return st;
    }
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return DataLossError(what + ": response is not JSON");
    return j;
  }

  StatusOr<json> GetJson(const std::string& path, const std::string& what) {
    return RequestJson("GET", path, "", what);
  }

  // PUT of a whole object; kAborted on a 409 conflict.
  StatusOr<json> PutJson(const std::string& path, const json& body, const std::string& what) {
    return RequestJson("PUT", path, body.dump(), what);
  }

  // ---- Read ----

  Status ReadTarget(const MemoryScaler& ms, TargetScale* out) {
    const ScaleTargetRef& t = ms.spec.target;
    const std::string path =
        TargetPath(t.api_version, t.kind, ms.namespace_name, t.name) + "/scale";
    auto scale = GetJson(path, "get " + t.kind + "/" + t.name + "/scale");
    if (!scale.ok()) return scale.status();
    const json md = scale->value("metadata", json::object());
    out->name = md.value("name", t.name);
    out->namespace_name = md.value("namespace", ms.namespace_name);
    out->resource_version = md.value("resourceVersion", "");
    out->replicas = scale->value("spec", json::object()).value("replicas", 0);
    out->selector = scale->value("status", json::object()).value("selector", "");
    return Status::Ok();
  }

  // The HPA whose scaleTargetRef is the scaler's target (same group, kind and name), if any.
  Status ReadHpa(const MemoryScaler& ms, std::optional<HorizontalPodAutoscaler>* out) {
    auto hpas = GetJson(
        "/apis/autoscaling/v2/namespaces/" + ms.namespace_name + "/horizontalpodautoscalers",
        "list HorizontalPodAutoscalers");
    if (!hpas.ok()) return hpas.status();
    out->reset();
    for (const auto& h : hpas->value("items", json::array())) {
      const json ref = h.value("spec", json::object()).value("scaleTargetRef", json::object());
      if (ref.value("kind", "") == ms.spec.target.kind &&
          ref.value("name", "") == ms.spec.target.name &&
          Group(ref.value("apiVersion", "")) == Group(ms.spec.target.api_version)) {
        *out = ParseHpa(h);
        break;
      }
    }
    return Status::Ok();
  }

  Status ReadPods(const std::string& ns, const std::string& selector, std::vector<PodState>* out) {
    auto list = GetJson(
        "/api/v1/namespaces/" + ns + "/pods?labelSelector=" + PercentEncode(selector), "list pods");
    if (!list.ok()) return list.status();
    for (const auto& p : list->value("items", json::array())) {
      PodState s;
      const json md = p.value("metadata", json::object());
      s.name = md.value("name", "");
      s.terminating = md.contains("deletionTimestamp");
      for (const auto& c : p.value("status", json::object()).value("conditions", json::array())) {
        if (c.value("type", "") == "Ready") s.ready = c.value("status", "") == "True";
      }
      out->push_back(s);
    }
    return Status::Ok();
  }

  // Everything one attempt reads; `forecast` is fetched once per reconcile (kept across
  // conflict retries). Stops at the first failed read.
  ReconcileInputs Read(const MemoryScalerObject& scaler, double now,
                       std::optional<ForecastReading>* forecast) {
    ReconcileInputs in;
    in.scaler = scaler;
    in.now_unix_seconds = now;
    const MemoryScaler& ms = scaler.scaler;
    const std::string key = ms.namespace_name + "/" + ms.name;
    if (!scaler.spec_error.ok()) return in;
    in.history = history[key];
    in.last_eviction_unix_seconds = last_eviction.count(key) ? last_eviction[key] : 0;
    const auto& evicted = scaler.status.last_eviction;  // Survives a leader hand-over.
    if (evicted && evicted->result == "Evicted") {
      auto t = ParseRfc3339(evicted->time);
      if (t.ok()) in.last_eviction_unix_seconds = std::max(in.last_eviction_unix_seconds, *t);
    }
    in.target_error = ReadTarget(ms, &in.target);
    if (!in.target_error.ok()) return in;
    in.hpa_error = ReadHpa(ms, &in.hpa);
    if (!in.hpa_error.ok()) return in;
    const std::string selector =
        ms.spec.metric_selector.empty() ? in.target.selector : ms.spec.metric_selector;
    if (!*forecast) {
      *forecast = forecasts->Fetch(ms.namespace_name, selector, ms.spec.max_forecast_age_seconds);
      if (!(*forecast)->available) ApiError();
    }
    in.forecast = **forecast;
    if (ms.spec.restart.enabled) {
      in.pods_error = ReadPods(ms.namespace_name, selector, &in.pods);
      if (!in.pods_error.ok()) {
        LogWarn("cannot list pods: no eviction this time",
                {{"scaler", key}, {"err", in.pods_error.ToString()}});
      }
    }
    return in;
  }

  // ---- Apply ----

  // The target write of `plan` (none, /scale or the HPA). kAborted on a 409 conflict.
  Status ApplyTargetWrite(const ReconcilePlan& plan, const ReconcileInputs& in) {
    const MemoryScaler& ms = in.scaler.scaler;
    const ScaleTargetRef& t = ms.spec.target;
    if (plan.scale) {
      const TargetScale& s = plan.scale->scale;
      json body = {{"apiVersion", "autoscaling/v1"},
                   {"kind", "Scale"},
                   {"metadata",
                    {{"name", s.name},
                     {"namespace", s.namespace_name},
                     {"resourceVersion", s.resource_version}}},
                   {"spec", {{"replicas", s.replicas}}}};
      return PutJson(TargetPath(t.api_version, t.kind, ms.namespace_name, t.name) + "/scale", body,
                     "update " + t.kind + "/" + t.name + "/scale")
          .status();
    }
    if (plan.hpa) {
      const HorizontalPodAutoscaler& h = plan.hpa->hpa;
      return PutJson(HpaPath(h.namespace_name, h.name), HpaBody(h),
                     "update HorizontalPodAutoscaler " + h.name)
          .status();
    }
    return Status::Ok();
  }

  void LogTargetWrite(const ReconcilePlan& plan, const ReconcileInputs& in) {
    const std::string key = in.scaler.scaler.namespace_name + "/" + in.scaler.scaler.name;
    if (plan.scale) {
      const ScaleTargetRef& t = in.scaler.scaler.spec.target;
      LogInfo("scaled", {{"scaler", key},
                         {"target", t.kind + "/" + t.name},
                         {"from", std::to_string(plan.scale->from)},
                         {"to", std::to_string(plan.scale->scale.replicas)},
                         {"rule", plan.decision.rule}});
    } else if (plan.hpa && plan.hpa->change != "extend") {
      LogInfo(plan.hpa->change == "floor" ? "raised HPA floor" : "restored HPA floor",
              {{"scaler", key},
               {"hpa", plan.hpa->hpa.name},
               {"from", std::to_string(in.hpa->min_replicas)},
               {"to", std::to_string(plan.hpa->hpa.min_replicas)}});
    }
  }

  EvictionResult Evict(const EvictionWrite& w) {
    json eviction = {{"apiVersion", "policy/v1"},
                     {"kind", "Eviction"},
                     {"metadata", {{"name", w.pod}, {"namespace", w.namespace_name}}}};
    auto r = kube->Request(
        "POST", "/api/v1/namespaces/" + w.namespace_name + "/pods/" + w.pod + "/eviction",
        eviction.dump());
    if (r.ok() && (r->status_code == 200 || r->status_code == 201)) return {};
    ApiError();
    if (r.ok() && r->status_code == 429) {
      std::string retry = r->headers.count("retry-after") ? r->headers.at("retry-after") : "";
      return {EvictionResult::Kind::kRefused,
              KubeResponseStatus(*r, "evict pod " + w.pod).message(), retry};
    }
    Status st = r.ok() ? KubeResponseStatus(*r, "evict pod " + w.pod) : r.status();
    return {EvictionResult::Kind::kFailed, st.message(), ""};
  }

  // Writes `status` into the scaler's /status subresource (the object as read, its status
  // replaced); re-reads once per conflict, up to three attempts.
  Status WriteStatus(json scaler, const MemoryScalerStatus& status) {
    const json& md = scaler["metadata"];
    const std::string path = "/apis/oomcast.io/v1alpha1/namespaces/" +
                             md.value("namespace", "default") + "/memoryscalers/" +
                             md.value("name", "");
    const json status_object = MemoryScalerStatusObject(status);
    for (int attempt = 0; attempt < 3; ++attempt) {
      scaler["status"] = status_object;
      auto put = PutJson(path + "/status", scaler, "update MemoryScaler status");
      if (put.ok()) return Status::Ok();
      if (put.status().code() != StatusCode::kAborted) return put.status();
      auto fresh = GetJson(path, "get MemoryScaler");
      if (!fresh.ok()) return fresh.status();
      scaler = *fresh;
    }
    return AbortedError("update MemoryScaler status: conflicts persisted");
  }

  // Records a failed write: logged, counted, and listed in the result.
  void WriteFailed(const std::string& key, const std::string& what, const Status& st,
                   ReconcileResult* result) {
    ApiError();
    LogWarn("cannot " + what, {{"scaler", key}, {"err", st.ToString()}});
    result->failed_writes.push_back(what + ": " + st.ToString());
  }

  // Everything after the target write: its failure folded into the plan, the eviction, the
  // history, the Events and the status. Returns the reconcile's result or error.
  StatusOr<ReconcileResult> Finish(const json& object, const ReconcileInputs& in,
                                   ReconcilePlan plan, const Status& target_write) {
    const MemoryScaler& ms = in.scaler.scaler;
    const std::string key = ms.namespace_name + "/" + ms.name;
    const double now = in.now_unix_seconds;
    ReconcileResult result;
    if (!target_write.ok()) {
      plan = WithTargetWriteFailure(std::move(plan), in, target_write);
      result.failed_writes.push_back("target: " + target_write.ToString());
    } else {
      LogTargetWrite(plan, in);
    }
    if (plan.evict) {
      EvictionResult evicted = Evict(*plan.evict);
      if (evicted.kind == EvictionResult::Kind::kEvicted) {
        last_eviction[key] = now;
        LogInfo("evicted pod before OOM", {{"scaler", key}, {"pod", plan.evict->pod}});
      } else {
        LogWarn("eviction refused or failed", {{"scaler", key},
                                               {"pod", plan.evict->pod},
                                               {"err", evicted.message},
                                               {"retry_after", evicted.retry_after}});
        result.failed_writes.push_back("evict pod " + plan.evict->pod + ": " + evicted.message);
      }
      plan = WithEvictionResult(std::move(plan), in, evicted);
    }
    if (in.scaler.spec_error.ok() && in.target_error.ok() && in.hpa_error.ok()) {
      RecordDecision(ms.spec, plan.decision, plan.record_scale_event, now, &history[key]);
    }
    const InvolvedObject involved{"oomcast.io/v1alpha1", "MemoryScaler", ms.name,
                                  ms.namespace_name,     ms.uid,         ms.resource_version};
    std::vector<PlannedEvent> events;
    if (plan.target_event) events.push_back(*plan.target_event);
    events.insert(events.end(), plan.events.begin(), plan.events.end());
    for (const PlannedEvent& e : events) {
      Status st = this->events->Record(involved, e);
      if (!st.ok()) WriteFailed(key, "record event " + e.reason, st, &result);
    }
    static_cast<ReconcileSummary&>(result) = plan;
    if (plan.outcome == "no_match" && !plan.events.empty()) {  // Once per change, as the Event.
      LogWarn("selector matches no container", {{"scaler", key}, {"err", in.forecast.error}});
    }
    if (plan.outcome == "invalid") {
      LogWarn("invalid MemoryScaler", {{"scaler", key}, {"err", in.scaler.spec_error.message()}});
    }
    if (plan.skip_if_unchanged && StatusUnchanged(in.scaler.status, plan.status, now)) {
      LogDebug("status unchanged", {{"scaler", key}, {"outcome", plan.outcome}});
      return result;  // No no-op writes; a heartbeat every kStatusHeartbeatSeconds.
    }
    Status st = WriteStatus(object, plan.status);
    if (!st.ok()) WriteFailed(key, "write MemoryScaler status", st, &result);
    if (!plan.error.ok()) return plan.error;  // A failed read, reported in status above.
    if (!st.ok()) return st;
    LogDebug("reconciled", {{"scaler", key},
                            {"outcome", plan.outcome},
                            {"current", std::to_string(in.target.replicas)},
                            {"desired", std::to_string(plan.decision.desired_replicas)},
                            {"reason", plan.decision.reason}});
    return result;
  }

  // Read -> Plan -> apply; a conflict on the target write means read and plan again.
  StatusOr<ReconcileResult> ReconcileObject(const std::string& scaler_json) {
    json object = json::parse(scaler_json, nullptr, false);
    auto scaler = ReadMemoryScalerJson(object);
    if (!scaler.ok()) return scaler.status();
    const double now = clock->NowUnixSeconds();
    const std::string key = scaler->scaler.namespace_name + "/" + scaler->scaler.name;
    std::optional<ForecastReading> forecast;
    for (int attempt = 0;; ++attempt) {
      ReconcileInputs in = Read(*scaler, now, &forecast);
      ReconcilePlan plan = Plan(in);
      Status written = ApplyTargetWrite(plan, in);
      if (written.code() == StatusCode::kAborted && attempt < options.max_conflict_retries) {
        LogInfo("conflict: re-reading and deciding again",
                {{"scaler", key}, {"attempt", std::to_string(attempt + 1)}});
        continue;
      }
      return Finish(object, in, std::move(plan), written);
    }
  }

  StatusOr<ReconcileResult> Reconcile(const std::string& scaler_json) {
    const double started = clock->MonotonicSeconds();
    auto result = ReconcileObject(scaler_json);
    if (metrics != nullptr) {
      metrics->ObserveReconcileSeconds(clock->MonotonicSeconds() - started);
      metrics->CountDecision(result.ok() ? result->outcome : "error");
    }
    return result;
  }
};
Reconciler::Reconciler(KubeClient* kube, ForecastSource* forecasts, Clock* clock,
                       ControllerMetrics* metrics, ReconcilerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->kube = kube;
  impl_->forecasts = forecasts;
  impl_->clock = clock;
  impl_->metrics = metrics;
  impl_->options = std::move(options);
  impl_->events = std::make_unique<EventRecorder>(kube, clock, impl_->options.identity);
}

Reconciler::~Reconciler() = default;

StatusOr<ReconcileResult> Reconciler::Reconcile(const std::string& scaler_json) {
  return impl_->Reconcile(scaler_json);
}

StatusOr<int> Reconciler::RestoreOrphanFloors(const std::vector<std::string>& live,
                                              const std::string& ns) {
  Impl& impl = *impl_;
  const std::string path =
      ns.empty() ? "/apis/autoscaling/v2/horizontalpodautoscalers"
                 : "/apis/autoscaling/v2/namespaces/" + ns + "/horizontalpodautoscalers";
  auto list = impl.GetJson(path, "list HorizontalPodAutoscalers");
  if (!list.ok()) return list.status();
  int restored = 0;
  for (json hpa : (*list)["items"]) {
    const json ann = hpa["metadata"].value("annotations", json::object());
    if (!ann.contains(kFloorOwnerAnnotation) || !ann.contains(kOriginalMinReplicasAnnotation)) {
      continue;
    }
    const std::string owner = ann.value(kFloorOwnerAnnotation, "");
    if (std::find(live.begin(), live.end(), owner) != live.end()) continue;
    int original = std::atoi(ann.value(kOriginalMinReplicasAnnotation, "1").c_str());
    const std::string name = hpa["metadata"].value("name", "");
    const std::string hpa_ns = hpa["metadata"].value("namespace", "default");
    hpa["apiVersion"] = "autoscaling/v2";
    hpa["kind"] = "HorizontalPodAutoscaler";
    hpa["spec"]["minReplicas"] =
        std::max(1, std::min(original, hpa["spec"].value("maxReplicas", original)));
    for (const char* a :
         {kOriginalMinReplicasAnnotation, kFloorUntilAnnotation, kFloorOwnerAnnotation}) {
      hpa["metadata"]["annotations"].erase(a);
    }
    auto put = impl.PutJson(
        "/apis/autoscaling/v2/namespaces/" + hpa_ns + "/horizontalpodautoscalers/" + name, hpa,
        "restore HorizontalPodAutoscaler " + name);
    if (!put.ok()) {
      LogWarn("cannot restore orphaned HPA floor",
              {{"hpa", hpa_ns + "/" + name}, {"err", put.status().ToString()}});
      continue;  // Retried at the next sync (409 included).
    }
    ++restored;
    if (impl.metrics != nullptr) impl.metrics->CountDecision("hpa_restore");
    LogInfo("restored HPA floor of a deleted MemoryScaler",
            {{"hpa", hpa_ns + "/" + name},
             {"owner", owner},
             {"minReplicas", std::to_string(original)}});
  }
  return restored;
}

void Reconciler::Forget(const std::string& ns, const std::string& name) {
  impl_->history.erase(ns + "/" + name);
  impl_->last_eviction.erase(ns + "/" + name);
}

}  // namespace oomcast::controller
