#include "oomcast/controller/reconciler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "oomcast/controller/leader_election.h"
#include "oomcast/controller/memory_scaler.h"
#include "oomcast/log.h"
#include "oomcast/units.h"

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

const char* ActionName(Action a) {
  switch (a) {
    case Action::kScaleUp:
      return "ScaleUp";
    case Action::kScaleDown:
      return "ScaleDown";
    case Action::kHold:
      return "Hold";
    case Action::kNone:
      break;
  }
  return "None";
}

json Condition(const std::string& type, bool status, const std::string& reason,
               const std::string& message) {
  return {{"type", type},
          {"status", status ? "True" : "False"},
          {"reason", reason},
          {"message", message}};
}

}  // namespace

struct Reconciler::Impl {
  KubeClient* kube;
  ForecastSource* forecasts;
  Clock* clock;
  ControllerMetrics* metrics;
  ReconcilerOptions options;
  std::map<std::string, ScalerHistory> history;
  std::map<std::string, double> last_eviction;  // Also persisted in status.lastEviction.
  uint64_t event_counter = 0;

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

  void Event(const json& scaler, const std::string& type, const std::string& reason,
             const std::string& action, const std::string& message) {
    const json& md = scaler["metadata"];
    const double now = clock->NowUnixSeconds();
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), "%llx",
                  static_cast<unsigned long long>(now * 1e6) + (event_counter++));
    const std::string ns = md.value("namespace", "default");
    json ev = {{"apiVersion", "v1"},
               {"kind", "Event"},
               {"metadata", {{"name", md.value("name", "") + "." + suffix}, {"namespace", ns}}},
               {"involvedObject",
                {{"apiVersion", "oomcast.io/v1alpha1"},
                 {"kind", "MemoryScaler"},
                 {"name", md.value("name", "")},
                 {"namespace", ns},
                 {"uid", md.value("uid", "")},
                 {"resourceVersion", md.value("resourceVersion", "")}}},
               {"reason", reason},
               {"message", message},
               {"type", type},
               {"action", action},
               {"source", {{"component", "oomcast-controller"}}},
               {"reportingComponent", "oomcast.io/controller"},
               {"reportingInstance", options.identity},
               {"firstTimestamp", FormatRfc3339(now)},
               {"lastTimestamp", FormatRfc3339(now)},
               {"count", 1}};
    auto r = kube->Request("POST", "/api/v1/namespaces/" + ns + "/events", ev.dump());
    Status st = r.ok() ? KubeResponseStatus(*r, "create event") : r.status();
    if (!st.ok()) {
      ApiError();
      LogWarn("cannot record event", {{"reason", reason}, {"err", st.ToString()}});
    }
  }

  // Writes `status` into the scaler's /status subresource; re-reads once on a conflict.
  Status WriteStatus(json scaler, const json& status) {
    const json& md = scaler["metadata"];
    const std::string path = "/apis/oomcast.io/v1alpha1/namespaces/" +
                             md.value("namespace", "default") + "/memoryscalers/" +
                             md.value("name", "") + "/status";
    for (int attempt = 0; attempt < 3; ++attempt) {
      scaler["status"] = status;
      auto put = PutJson(path, scaler, "update MemoryScaler status");
      if (put.ok()) return Status::Ok();
      if (put.status().code() != StatusCode::kAborted) return put.status();
      auto fresh = GetJson(path.substr(0, path.size() - 7), "get MemoryScaler");
      if (!fresh.ok()) return fresh.status();
      scaler = *fresh;
    }
    return AbortedError("update MemoryScaler status: conflicts persisted");
  }

  // Keeps lastTransitionTime of conditions whose status did not change.
  json MergeConditions(const json& old_status, std::vector<json> conditions, double now) {
    json out = json::array();
    for (auto& c : conditions) {
      std::string time = FormatRfc3339(now);
      if (old_status.is_object() && old_status.contains("conditions") &&
          old_status["conditions"].is_array()) {
        for (const auto& o : old_status["conditions"]) {
          if (o.value("type", "") == c["type"] && o.value("status", "") == c["status"] &&
              o.contains("lastTransitionTime")) {
            time = o["lastTransitionTime"];
          }
        }
      }
      c["lastTransitionTime"] = time;
      out.push_back(c);
    }
    return out;
  }

  // True when `next` differs from `prev` only in the times of the last forecast and decision,
  // and `prev` was written less than kStatusHeartbeatSeconds ago.
  static bool SameStatus(const json& prev, json next, double now) {
    constexpr double kStatusHeartbeatSeconds = 300;
    if (!prev.is_object() || !prev.contains("lastDecision")) return false;
    auto written = ParseRfc3339(prev["lastDecision"].value("time", ""));
    if (!written.ok() || now - *written >= kStatusHeartbeatSeconds) return false;
    json old = prev;
    for (json* s : {&old, &next}) {
      if (s->contains("lastDecision")) (*s)["lastDecision"].erase("time");
      if (s->contains("lastForecast")) (*s)["lastForecast"].erase("time");
    }
    return old == next;
  }

  json ForecastStatus(const Forecast& f, double now) {
    json j = {{"time", FormatRfc3339(f.available ? f.time_unix_seconds : now)},
              {"available", f.available}};
    if (!f.available) {
      j["error"] = f.error.substr(0, 1000);
      return j;
    }
    auto growth = FormatQuantity(std::round(f.max_growth_bytes_per_second));
    if (growth.ok()) j["growthRateBytesPerSecond"] = *growth;
    if (std::isfinite(f.min_oom_eta_seconds)) {
      j["oomEtaSeconds"] = static_cast<int64_t>(std::floor(std::max(0.0, f.min_oom_eta_seconds)));
    }
    auto risk = FormatQuantity(std::round(f.max_oom_risk * 1000) / 1000);
    if (risk.ok()) j["oomRisk"] = *risk;
    if (!f.worst_pod.empty()) j["worstPod"] = f.worst_pod;
    j["pods"] = static_cast<int>(f.pods.size());
    return j;
  }

  StatusOr<ReconcileResult> Reconcile(const std::string& scaler_json) {
    auto started = std::chrono::steady_clock::now();
    auto result = ReconcileInner(scaler_json);
    if (metrics != nullptr) {
      metrics->ObserveReconcileSeconds(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      metrics->CountDecision(result.ok() ? result->outcome : "error");
    }
    return result;
  }

  StatusOr<ReconcileResult> ReconcileInner(const std::string& scaler_json) {
    json scaler = json::parse(scaler_json, nullptr, false);
    if (scaler.is_discarded() || !scaler.is_object() || !scaler.contains("metadata")) {
      return InvalidArgumentError("MemoryScaler: not a JSON object");
    }
    const double now = clock->NowUnixSeconds();
    const json old_status = scaler.value("status", json::object());
    const std::string ns = scaler["metadata"].value("namespace", "default");
    const std::string name = scaler["metadata"].value("name", "");
    const int64_t generation = scaler["metadata"].value("generation", int64_t{0});
    ReconcileResult result;

    auto parsed = ParseMemoryScaler(scaler_json);
    if (!parsed.ok()) {
      result.outcome = "invalid";
      json status = old_status;
      status["observedGeneration"] = generation;
      status["conditions"] = MergeConditions(
          old_status, {Condition("Ready", false, "InvalidSpec", parsed.status().message())}, now);
      Status st = WriteStatus(scaler, status);
      LogWarn("invalid MemoryScaler",
              {{"scaler", ns + "/" + name}, {"err", parsed.status().message()}});
      if (!st.ok()) return st;
      return result;
    }
    const MemoryScalerSpec& spec = parsed->spec;
    const std::string key = ns + "/" + name;
    ScalerHistory& hist = history[key];
    const std::string target_path =
        TargetPath(spec.target.api_version, spec.target.kind, ns, spec.target.name);
    const std::string target_desc = spec.target.kind + "/" + spec.target.name;

    // Last eviction, from status (survives leader hand-over) or memory.
    double last_evicted = last_eviction.count(key) ? last_eviction[key] : 0;
    if (old_status.contains("lastEviction") && old_status["lastEviction"].is_object() &&
        old_status["lastEviction"].value("result", "") == "Evicted") {
      std::string t = old_status["lastEviction"].value("time", "");
      // Parsed with the forecast helper (RFC 3339).
      auto parsed_t = ParseRfc3339(t);
      if (parsed_t.ok()) last_evicted = std::max(last_evicted, *parsed_t);
    }

    std::optional<Forecast> forecast;
    std::string selector;
    json status = old_status;
    status["observedGeneration"] = generation;
    std::vector<json> conditions;
    std::string last_scale_time = old_status.value("lastScaleTime", "");
    int current = 0;
    std::optional<json> hpa;
    Decision decision;
    bool at_ceiling = false;

    for (int attempt = 0;; ++attempt) {
      auto scale = GetJson(target_path + "/scale", "get " + target_desc + "/scale");
      if (!scale.ok()) {
        result.outcome = "error";
        bool missing = scale.status().code() == StatusCode::kNotFound;
        status["conditions"] = MergeConditions(
            old_status,
            {Condition("Ready", false, missing ? "TargetNotFound" : "FailedGetScale",
                       scale.status().message()),
             Condition("ScalingActive", false, "FailedGetScale",
                       "the target's scale subresource cannot be read")},
            now);
        Status st = WriteStatus(scaler, status);
        (void)st;
        return scale.status();
      }
      current = (*scale)["spec"].value("replicas", 0);
      std::string pod_selector = (*scale)["status"].value("selector", "");
      selector = spec.metric_selector.empty() ? pod_selector : spec.metric_selector;

      // An HPA on the same target?
      hpa.reset();
      auto hpas = GetJson("/apis/autoscaling/v2/namespaces/" + ns + "/horizontalpodautoscalers",
                          "list HorizontalPodAutoscalers");
      if (!hpas.ok()) {
        // Without knowing, writing /scale could fight an HPA: hold.
        result.outcome = "error";
        status["conditions"] = MergeConditions(
            old_status,
            {Condition("Ready", false, "FailedListHPA", hpas.status().message()),
             Condition("ScalingActive", false, "FailedListHPA",
                       "cannot tell whether an HPA targets the same workload: holding")},
            now);
        (void)WriteStatus(scaler, status);
        return hpas.status();
      }
      for (const auto& h : (*hpas)["items"]) {
        const json ref = h["spec"].value("scaleTargetRef", json::object());
        if (ref.value("kind", "") == spec.target.kind &&
            ref.value("name", "") == spec.target.name &&
            Group(ref.value("apiVersion", "")) == Group(spec.target.api_version)) {
          hpa = h;  // List items carry no kind/apiVersion; the PUT body must.
          (*hpa)["apiVersion"] = "autoscaling/v2";
          (*hpa)["kind"] = "HorizontalPodAutoscaler";
          break;
        }
      }

      if (!forecast) forecast = forecasts->Fetch(ns, selector, spec.max_forecast_age_seconds);
      if (!forecast->available) ApiError();
      decision = Decide(spec, current, *forecast, hist, now);
      at_ceiling = current >= spec.max_replicas;

      if (hpa) {
        auto st = ReconcileHpa(scaler, spec, *hpa, decision, *forecast, now, &result);
        if (!st.ok() && st.code() == StatusCode::kAborted &&
            attempt < options.max_conflict_retries) {
          continue;
        }
        if (!st.ok()) {
          result.outcome = "error";
          conditions.push_back(Condition("Ready", false, "FailedUpdateHPA", st.message()));
        }
        int hpa_max = (*hpa)["spec"].value("maxReplicas", spec.max_replicas);
        at_ceiling = current >= std::min(hpa_max, spec.max_replicas);
        RecordDecision(spec, decision, false, now, &hist);
        break;
      }

      result.outcome = decision.action == Action::kHold ? "hold" : "no_change";
      if (decision.desired_replicas != current) {
        if (spec.dry_run) {
          result.outcome = "dry_run";
          Event(scaler, "Normal", "DryRun", "Scale", "dry run: would " + decision.message);
          RecordDecision(spec, decision, false, now, &hist);
          break;
        }
        json new_scale = *scale;
        new_scale["spec"]["replicas"] = decision.desired_replicas;
        auto put = PutJson(target_path + "/scale", new_scale, "update " + target_desc + "/scale");
        if (!put.ok() && put.status().code() == StatusCode::kAborted &&
            attempt < options.max_conflict_retries) {
          LogInfo(
              "scale conflict: re-reading and deciding again",
              {{"scaler", key}, {"target", target_desc}, {"attempt", std::to_string(attempt + 1)}});
          continue;
        }
        if (!put.ok()) {
          result.outcome = "error";
          conditions.push_back(
              Condition("Ready", false, "FailedUpdateScale", put.status().message()));
          RecordDecision(spec, decision, false, now, &hist);
          break;
        }
        result.outcome = decision.desired_replicas > current ? "scale_up" : "scale_down";
        last_scale_time = FormatRfc3339(now);
        RecordDecision(spec, decision, true, now, &hist);
        LogInfo("scaled", {{"scaler", key},
                           {"target", target_desc},
                           {"from", std::to_string(current)},
                           {"to", std::to_string(decision.desired_replicas)},
                           {"rule", decision.rule}});
        Event(scaler, "Normal", decision.desired_replicas > current ? "ScaledUp" : "ScaledDown",
              "Scale", decision.message);
      } else {
        RecordDecision(spec, decision, false, now, &hist);
      }
      break;
    }
    result.decision = decision;

    // restartBeforeOOM.
    if (spec.restart.enabled) {
      std::vector<PodState> pods;
      auto list = GetJson("/api/v1/namespaces/" + ns + "/pods?labelSelector=" + UrlEncode(selector),
                          "list pods");
      if (list.ok()) {
        for (const auto& p : (*list)["items"]) {
          PodState s;
          s.name = p["metadata"].value("name", "");
          s.terminating = p["metadata"].contains("deletionTimestamp");
          if (p.contains("status") && p["status"].contains("conditions")) {
            for (const auto& c : p["status"]["conditions"]) {
              if (c.value("type", "") == "Ready") s.ready = c.value("status", "") == "True";
            }
          }
          pods.push_back(s);
        }
        result.eviction = DecideEviction(spec, *forecast, pods, at_ceiling, last_evicted, now);
        if (result.eviction.evict) Evict(scaler, spec, ns, result, now, &status);
      }
    }

    // Status.
    status["currentReplicas"] = current;
    status["desiredReplicas"] = decision.desired_replicas;
    if (!last_scale_time.empty()) status["lastScaleTime"] = last_scale_time;
    status["lastForecast"] = ForecastStatus(*forecast, now);
    status["lastDecision"] = {{"time", FormatRfc3339(now)},
                              {"action", ActionName(decision.action)},
                              {"reason", decision.reason},
                              {"message", decision.message.substr(0, 1000)}};
    if (!decision.rule.empty()) status["lastDecision"]["rule"] = decision.rule;
    status["mode"] = result.hpa_mode ? "HPAFloor" : "Scale";
    if (!result.hpa_mode) status.erase("hpa");
    if (conditions.empty()) {
      conditions.push_back(Condition("Ready", true, spec.dry_run ? "DryRun" : "Reconciled",
                                     spec.dry_run ? "dry run: decisions are reported, never applied"
                                                  : "target " + target_desc + " reconciled"));
    }
    if (!forecast->available) {
      conditions.push_back(
          Condition("ScalingActive", false, "ForecastUnavailable",
                    "holding (no scale-down, no eviction): " + forecast->error.substr(0, 800)));
    } else if (result.hpa_mode) {
      conditions.push_back(Condition(
          "ScalingActive", true, "HPAFloor",
          "HorizontalPodAutoscaler " + result.hpa_name +
              " targets the same workload: the controller never writes /scale and raises the "
              "HPA's minReplicas ahead of a forecast OOM instead"));
    } else {
      conditions.push_back(Condition("ScalingActive", true, "ValidForecast",
                                     "the forecast is fresh and the rules were evaluated"));
    }
    if (decision.limited) {
      conditions.push_back(
          Condition("ScalingLimited", true, decision.limited_reason,
                    "the desired replica count is limited: " + decision.limited_reason));
    } else {
      conditions.push_back(Condition("ScalingLimited", false, "DesiredWithinRange",
                                     "the desired replica count is within the acceptable range"));
    }
    status["conditions"] = MergeConditions(old_status, conditions, now);
    if (SameStatus(old_status, status, now)) {
      LogDebug("status unchanged", {{"scaler", key}, {"outcome", result.outcome}});
      return result;  // No no-op writes; a heartbeat every kStatusHeartbeatSeconds.
    }
    Status st = WriteStatus(scaler, status);
    if (!st.ok()) {
      LogWarn("cannot write MemoryScaler status", {{"scaler", key}, {"err", st.ToString()}});
      return st;
    }
    LogDebug("reconciled", {{"scaler", key},
                            {"outcome", result.outcome},
                            {"current", std::to_string(current)},
                            {"desired", std::to_string(decision.desired_replicas)},
                            {"reason", decision.reason}});
    return result;
  }

  // HPA coexistence: raise spec.minReplicas for the forecast window, restore it afterwards.
  // kAborted on a write conflict (the caller re-reads and decides again).
  Status ReconcileHpa(const json& scaler, const MemoryScalerSpec& spec, json hpa,
                      const Decision& decision, const Forecast& forecast, double now,
                      ReconcileResult* result) {
    result->hpa_mode = true;
    result->hpa_name = hpa["metadata"].value("name", "");
    result->outcome = "no_change";
    const std::string ns = hpa["metadata"].value("namespace", "default");
    const std::string path =
        "/apis/autoscaling/v2/namespaces/" + ns + "/horizontalpodautoscalers/" + result->hpa_name;
    const std::string scaler_key =
        scaler["metadata"].value("namespace", "") + "/" + scaler["metadata"].value("name", "");
    json& md = hpa["metadata"];
    if (!md.contains("annotations") || !md["annotations"].is_object()) {
      md["annotations"] = json::object();
    }
    json& ann = md["annotations"];
    const int hpa_min = hpa["spec"].value("minReplicas", 1);
    const int hpa_max = hpa["spec"].value("maxReplicas", hpa_min);
    const bool floored = ann.contains(kOriginalMinReplicasAnnotation);
    double floor_until = 0;
    if (ann.contains(kFloorUntilAnnotation)) {
      auto t = ParseRfc3339(ann.value(kFloorUntilAnnotation, ""));
      if (t.ok()) floor_until = *t;
    }
    const bool up_signal =
        forecast.available && !decision.rule.empty() && decision.rule != "shrink";
    if (!forecast.available) {
      result->outcome = "hold";  // Keep any floor: restoring could let the HPA scale down.
      return Status::Ok();
    }
    if (up_signal) {
      int floor = std::min(std::max(decision.desired_replicas, decision.current_replicas), hpa_max);
      if (floor > hpa_min) {
        if (spec.dry_run) {
          result->outcome = "dry_run";
          Event(scaler, "Normal", "DryRun", "RaiseHPAFloor",
                "dry run: would raise minReplicas of HorizontalPodAutoscaler " + result->hpa_name +
                    " from " + std::to_string(hpa_min) + " to " + std::to_string(floor) + ": " +
                    decision.message);
          return Status::Ok();
        }
        if (!floored) ann[kOriginalMinReplicasAnnotation] = std::to_string(hpa_min);
        ann[kFloorUntilAnnotation] = FormatRfc3339(now + spec.horizon_seconds);
        ann[kFloorOwnerAnnotation] = scaler_key;
        hpa["spec"]["minReplicas"] = floor;
        auto put = PutJson(path, hpa, "update HorizontalPodAutoscaler " + result->hpa_name);
        if (!put.ok()) return put.status();
        result->outcome = "hpa_floor";
        LogInfo("raised HPA floor", {{"scaler", scaler_key},
                                     {"hpa", result->hpa_name},
                                     {"from", std::to_string(hpa_min)},
                                     {"to", std::to_string(floor)}});
        Event(scaler, "Normal", "RaisedHPAFloor", "RaiseHPAFloor",
              "raised minReplicas of HorizontalPodAutoscaler " + result->hpa_name + " from " +
                  std::to_string(hpa_min) + " to " + std::to_string(floor) + " until " +
                  FormatRfc3339(now + spec.horizon_seconds) + ": " + decision.message);
        return Status::Ok();
      }
      if (floored && !spec.dry_run && floor_until < now + spec.horizon_seconds - 60) {
        // Still needed: extend the window (quietly; at most once a minute).
        ann[kFloorUntilAnnotation] = FormatRfc3339(now + spec.horizon_seconds);
        auto put = PutJson(path, hpa, "update HorizontalPodAutoscaler " + result->hpa_name);
        if (!put.ok()) return put.status();
      }
      return Status::Ok();
    }
    if (floored && now >= floor_until) {
      int original = std::atoi(ann.value(kOriginalMinReplicasAnnotation, "1").c_str());
      if (original < 1) original = 1;
      if (spec.dry_run) {
        result->outcome = "dry_run";
        Event(scaler, "Normal", "DryRun", "RestoreHPAFloor",
              "dry run: would restore minReplicas of HorizontalPodAutoscaler " + result->hpa_name +
                  " to " + std::to_string(original));
        return Status::Ok();
      }
      hpa["spec"]["minReplicas"] = std::min(original, hpa_max);
      ann.erase(kOriginalMinReplicasAnnotation);
      ann.erase(kFloorUntilAnnotation);
      ann.erase(kFloorOwnerAnnotation);
      auto put = PutJson(path, hpa, "update HorizontalPodAutoscaler " + result->hpa_name);
      if (!put.ok()) return put.status();
      result->outcome = "hpa_restore";
      LogInfo("restored HPA floor", {{"scaler", scaler_key},
                                     {"hpa", result->hpa_name},
                                     {"minReplicas", std::to_string(original)}});
      Event(scaler, "Normal", "RestoredHPAFloor", "RestoreHPAFloor",
            "restored minReplicas of HorizontalPodAutoscaler " + result->hpa_name + " to " +
                std::to_string(original) + ": no OOM forecast within the horizon any more");
    }
    return Status::Ok();
  }

  void Evict(const json& scaler, const MemoryScalerSpec& spec, const std::string& ns,
             ReconcileResult& result, double now, json* status) {
    const std::string pod = result.eviction.pod;
    const std::string key = ns + "/" + scaler["metadata"].value("name", "");
    json record = {{"pod", pod}, {"time", FormatRfc3339(now)}};
    if (spec.dry_run) {
      Event(scaler, "Normal", "DryRun", "Evict",
            "dry run: would evict: " + result.eviction.message);
      record["result"] = "DryRun";
      record["message"] = result.eviction.message.substr(0, 1000);
      (*status)["lastEviction"] = record;
      if (result.outcome == "no_change" || result.outcome == "hold") result.outcome = "dry_run";
      return;
    }
    json eviction = {{"apiVersion", "policy/v1"},
                     {"kind", "Eviction"},
                     {"metadata", {{"name", pod}, {"namespace", ns}}}};
    auto r = kube->Request("POST", "/api/v1/namespaces/" + ns + "/pods/" + pod + "/eviction",
                           eviction.dump());
    if (r.ok() && (r->status_code == 200 || r->status_code == 201)) {
      last_eviction[key] = now;
      record["result"] = "Evicted";
      record["message"] = result.eviction.message.substr(0, 1000);
      result.outcome = "evict";
      LogInfo("evicted pod before OOM", {{"scaler", key}, {"pod", pod}});
      Event(scaler, "Normal", "EvictedBeforeOOM", "Evict",
            "evicted pod " + pod + ": " + result.eviction.message);
    } else if (r.ok() && r->status_code == 429) {
      ApiError();
      std::string retry = r->headers.count("retry-after") ? r->headers.at("retry-after") : "";
      Status st = KubeResponseStatus(*r, "evict pod " + pod);
      record["result"] = "Refused";
      record["message"] = ("the Eviction API refused (PodDisruptionBudget): " + st.message() +
                           (retry.empty() ? "" : " (retry after " + retry + "s)"))
                              .substr(0, 1000);
      result.outcome = "evict_refused";
      result.eviction.reason = "EvictionRefused";
      LogWarn("eviction refused", {{"scaler", key}, {"pod", pod}, {"retry_after", retry}});
      Event(scaler, "Warning", "EvictionRefused", "Evict",
            "could not evict pod " + pod + " ahead of its forecast OOM: " + st.message() +
                (retry.empty() ? "" : " (retry after " + retry + "s)"));
    } else {
      ApiError();
      Status st = r.ok() ? KubeResponseStatus(*r, "evict pod " + pod) : r.status();
      record["result"] = "Failed";
      record["message"] = st.message().substr(0, 1000);
      result.outcome = "error";
      Event(scaler, "Warning", "EvictionFailed", "Evict",
            "could not evict pod " + pod + ": " + st.message());
    }
    (*status)["lastEviction"] = record;
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
