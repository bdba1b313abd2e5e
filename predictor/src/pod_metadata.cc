#include "oomcast/predictor/pod_metadata.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "oomcast/log.h"

namespace oomcast::predictor {
namespace {

using nlohmann::json;

// (namespace, name) and labels of a PartialObjectMetadata (or a full Pod); false when malformed.
bool ParseMetadata(const json& obj, std::string* ns, std::string* name, PodLabelMap* labels) {
  if (!obj.is_object()) return false;
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return false;
  *ns = md->value("namespace", "");
  *name = md->value("name", "");
  if (ns->empty() || name->empty()) return false;
  labels->clear();
  auto l = md->find("labels");
  if (l != md->end() && l->is_object()) {
    for (const auto& [k, v] : l->items()) {
      if (v.is_string()) (*labels)[k] = v.get<std::string>();
    }
  }
  return true;
}

}  // namespace

KubePodMetadataSource::KubePodMetadataSource(KubeClient* client, Clock* clock,
                                             std::string namespace_name)
    : client_(client), clock_(clock), namespace_(std::move(namespace_name)) {}

std::string KubePodMetadataSource::CollectionPath() const {
  if (namespace_.empty()) return "/api/v1/pods";
  return "/api/v1/namespaces/" + namespace_ + "/pods";
}

std::shared_ptr<const PodLabelMap> KubePodMetadataSource::Labels(std::string_view ns,
                                                                 std::string_view pod) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = labels_.find(std::make_pair(std::string(ns), std::string(pod)));
  return it == labels_.end() ? nullptr : it->second;
}

size_t KubePodMetadataSource::pods() const {
  std::lock_guard<std::mutex> lock(mu_);
  return labels_.size();
}

Status KubePodMetadataSource::List() {
  const std::string what = "list pod metadata";
  auto r = client_->Request("GET", CollectionPath(), "", "application/json",
                            kPartialObjectMetadataListAccept);
  if (!r.ok()) return r.status().WithContext(what);
  OOMCAST_RETURN_IF_ERROR(KubeResponseStatus(*r, what));
  json list = json::parse(r->body, nullptr, false);
  if (list.is_discarded() || !list.is_object() || !list.contains("items") ||
      !list["items"].is_array()) {
    return DataLossError(what + ": not a list");
  }
  decltype(labels_) fresh;
  std::string ns, name;
  PodLabelMap labels;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& item : list["items"]) {
    if (!ParseMetadata(item, &ns, &name, &labels)) continue;
    auto key = std::make_pair(ns, name);
    auto old = labels_.find(key);
    fresh[key] = old != labels_.end() && *old->second == labels
                     ? old->second
                     : std::make_shared<const PodLabelMap>(labels);
  }
  labels_ = std::move(fresh);
  resource_version_ = list.value("metadata", json::object()).value("resourceVersion", "");
  synced_ = true;
  return Status::Ok();
}

Status KubePodMetadataSource::WatchOnce(double timeout_seconds, const std::atomic<bool>& stop) {
  std::string rv;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rv = resource_version_;
  }
  int server_timeout = std::max(1, static_cast<int>(timeout_seconds));
  std::string path = CollectionPath() +
                     "?watch=true&allowWatchBookmarks=true&resourceVersion=" + rv +
                     "&timeoutSeconds=" + std::to_string(server_timeout);
  bool gone = false;
  Status st = client_->Watch(
      path, timeout_seconds + 5,
      [&](const WatchEvent& ev) {
        if (stop.load()) return false;
        json obj = json::parse(ev.object_json, nullptr, false);
        if (obj.is_discarded()) return true;
        if (ev.type == "ERROR") {
          if (obj.value("code", 0) == 410) {
            gone = true;
          } else {
            LogWarn("pod metadata watch error", {{"message", obj.value("message", "")}});
          }
          return false;
        }
        std::string new_rv = obj.value("metadata", json::object()).value("resourceVersion", "");
        std::string ns, name;
        PodLabelMap labels;
        std::lock_guard<std::mutex> lock(mu_);
        if (!new_rv.empty()) resource_version_ = new_rv;
        if (ev.type == "BOOKMARK" || !ParseMetadata(obj, &ns, &name, &labels)) return true;
        auto key = std::make_pair(ns, name);
        if (ev.type == "DELETED") {
          labels_.erase(key);
        } else {
          auto old = labels_.find(key);
          if (old == labels_.end() || *old->second != labels) {
            labels_[key] = std::make_shared<const PodLabelMap>(std::move(labels));
          }
        }
        return true;
      },
      kPartialObjectMetadataAccept);
  if (gone || st.code() == StatusCode::kAborted) {
    return AbortedError("pod metadata watch: resourceVersion " + rv + " is gone (410)");
  }
  return st;
}

void KubePodMetadataSource::Run(const std::atomic<bool>& stop, double watch_timeout_seconds) {
  double backoff = 0.5;
  bool need_list = true;
  while (!stop.load()) {
    if (need_list) {
      Status st = List();
      if (!st.ok()) {
        LogWarn("cannot list pod metadata; selectors see the labels known so far",
                {{"err", st.ToString()}});
        clock_->SleepFor(backoff);
        backoff = std::min(backoff * 2, 30.0);
        continue;
      }
      need_list = false;
      backoff = 0.5;
    }
    Status st = WatchOnce(watch_timeout_seconds, stop);
    if (st.code() == StatusCode::kAborted) {
      LogInfo("pod metadata watch expired: relisting", {{"err", st.message()}});
      relists_++;
      need_list = true;
    } else if (!st.ok()) {
      LogWarn("pod metadata watch failed", {{"err", st.ToString()}});
      clock_->SleepFor(backoff);
      backoff = std::min(backoff * 2, 30.0);
    } else {
      backoff = 0.5;
    }
  }
}

}  // namespace oomcast::predictor
