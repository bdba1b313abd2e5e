#include "oomcast/controller/informer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "oomcast/log.h"

namespace oomcast::controller {

using nlohmann::json;

ScalerInformer::ScalerInformer(
    KubeClient* client, Clock* clock, std::string namespace_name,
    std::function<void(const std::string&, const std::string&, bool)> on_change)
    : client_(client),
      clock_(clock),
      namespace_(std::move(namespace_name)),
      on_change_(std::move(on_change)) {}

std::string ScalerInformer::CollectionPath() const {
  if (namespace_.empty()) return "/apis/oomcast.io/v1alpha1/memoryscalers";
  return "/apis/oomcast.io/v1alpha1/namespaces/" + namespace_ + "/memoryscalers";
}

Status ScalerInformer::List() {
  auto r = client_->Request("GET", CollectionPath());
  if (!r.ok()) return r.status().WithContext("list MemoryScalers");
  OOMCAST_RETURN_IF_ERROR(KubeResponseStatus(*r, "list MemoryScalers"));
  json list = json::parse(r->body, nullptr, false);
  if (list.is_discarded() || !list.contains("items")) {
    return DataLossError("list MemoryScalers: not a list");
  }
  std::map<std::string, std::string> fresh;
  for (auto& item : list["items"]) {
    if (!item.contains("kind")) item["kind"] = "MemoryScaler";
    if (!item.contains("apiVersion")) item["apiVersion"] = "oomcast.io/v1alpha1";
    const json& md = item["metadata"];
    fresh[md.value("namespace", "") + "/" + md.value("name", "")] = item.dump();
  }
  std::vector<std::pair<std::string, bool>> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : cache_) {
      if (!fresh.count(k)) changes.push_back({k, true});
    }
    for (const auto& [k, v] : fresh) {
      int64_t gen =
          json::parse(v).value("metadata", json::object()).value("generation", int64_t{0});
      auto it = generations_.find(k);
      if (it == generations_.end() || it->second != gen) changes.push_back({k, false});
    }
    generations_.clear();
    for (const auto& [k, v] : fresh) {
      generations_[k] =
          json::parse(v).value("metadata", json::object()).value("generation", int64_t{0});
    }
    cache_ = std::move(fresh);
    resource_version_ = list["metadata"].value("resourceVersion", "");
  }
  synced_ = true;
  for (const auto& [k, deleted] : changes) {
    size_t slash = k.find('/');
    on_change_(k.substr(0, slash), k.substr(slash + 1), deleted);
  }
  return Status::Ok();
}

Status ScalerInformer::WatchOnce(double timeout_seconds, const std::atomic<bool>& stop) {
  std::string rv = resource_version();
  int server_timeout = std::max(1, static_cast<int>(timeout_seconds));
  std::string path = CollectionPath() +
                     "?watch=true&allowWatchBookmarks=true&resourceVersion=" + rv +
                     "&timeoutSeconds=" + std::to_string(server_timeout);
  bool gone = false;
  Status st = client_->Watch(path, timeout_seconds + 5, [&](const WatchEvent& ev) {
    if (stop.load()) return false;
    json obj = json::parse(ev.object_json, nullptr, false);
    if (obj.is_discarded()) return true;
    if (ev.type == "ERROR") {
      if (obj.value("code", 0) == 410) {
        gone = true;
      } else {
        LogWarn("MemoryScaler watch error", {{"message", obj.value("message", "")}});
      }
      return false;
    }
    const json md = obj.value("metadata", json::object());
    std::string new_rv = md.value("resourceVersion", "");
    if (ev.type == "BOOKMARK") {
      std::lock_guard<std::mutex> lock(mu_);
      if (!new_rv.empty()) resource_version_ = new_rv;
      return true;
    }
    const std::string ns = md.value("namespace", "");
    const std::string name = md.value("name", "");
    bool deleted = ev.type == "DELETED";
    bool notify = deleted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const std::string key = ns + "/" + name;
      if (deleted) {
        cache_.erase(key);
        generations_.erase(key);
      } else {
        cache_[key] = obj.dump();
        int64_t gen = md.value("generation", int64_t{0});
        auto it = generations_.find(key);
        notify = it == generations_.end() || it->second != gen;
        generations_[key] = gen;
      }
      if (!new_rv.empty()) resource_version_ = new_rv;
    }
    // Status-only updates (our own writes) do not trigger a reconcile; spec changes do.
    if (notify) on_change_(ns, name, deleted);
    return true;
  });
  if (gone || st.code() == StatusCode::kAborted) {
    return AbortedError("MemoryScaler watch: resourceVersion " + rv + " is gone (410)");
  }
  return st;
}

void ScalerInformer::Run(const std::atomic<bool>& stop, double watch_timeout_seconds) {
  double backoff = 0.5;
  bool need_list = true;
  while (!stop.load()) {
    if (need_list) {
      Status st = List();
      if (!st.ok()) {
        LogWarn("cannot list MemoryScalers", {{"err", st.ToString()}});
        clock_->SleepFor(backoff);
        backoff = std::min(backoff * 2, 30.0);
        continue;
      }
      need_list = false;
      backoff = 0.5;
    }
    Status st = WatchOnce(watch_timeout_seconds, stop);
    if (st.code() == StatusCode::kAborted) {
      LogInfo("MemoryScaler watch expired: relisting", {{"err", st.message()}});
      relists_++;
      need_list = true;
    } else if (!st.ok()) {
      LogWarn("MemoryScaler watch failed", {{"err", st.ToString()}});
      clock_->SleepFor(backoff);
      backoff = std::min(backoff * 2, 30.0);
    } else {
      backoff = 0.5;
    }
  }
}

std::vector<std::string> ScalerInformer::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [_, v] : cache_) out.push_back(v);
  return out;
}

std::string ScalerInformer::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resource_version_;
}

}  // namespace oomcast::controller
