#include "oomcast/kube_informer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "oomcast/log.h"

namespace oomcast {

using nlohmann::json;

KubeInformer::KubeInformer(KubeClient* client, Clock* clock, KubeInformerOptions options,
                           KubeInformerHandler* handler)
    : client_(client), clock_(clock), options_(std::move(options)), handler_(handler) {}

std::string KubeInformer::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resource_version_;
}

Status KubeInformer::List() {
  const std::string what = "list " + options_.what;
  auto r = client_->Request("GET", options_.collection_path, "", "application/json",
                            options_.list_accept);
  if (!r.ok()) return r.status().WithContext(what);
  OOMCAST_RETURN_IF_ERROR(KubeResponseStatus(*r, what));
  json list = json::parse(r->body, nullptr, false);
  if (list.is_discarded() || !list.is_object() || !list.contains("items") ||
      !list["items"].is_array()) {
    return DataLossError(what + ": not a list");
  }
  std::vector<std::string> items;
  items.reserve(list["items"].size());
  for (const auto& item : list["items"]) items.push_back(item.dump());
  handler_->Replace(items);
  {
    std::lock_guard<std::mutex> lock(mu_);
    resource_version_ = list.value("metadata", json::object()).value("resourceVersion", "");
  }
  synced_ = true;
  return Status::Ok();
}

Status KubeInformer::WatchOnce(double timeout_seconds, const std::atomic<bool>& stop) {
  const std::string rv = resource_version();
  int server_timeout = std::max(1, static_cast<int>(timeout_seconds));
  std::string path = options_.collection_path +
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
            LogWarn(options_.what + " watch error", {{"message", obj.value("message", "")}});
          }
          return false;
        }
        std::string new_rv =
            obj.is_object() ? obj.value("metadata", json::object()).value("resourceVersion", "")
                            : "";
        if (ev.type != "BOOKMARK") handler_->Apply(ev.type, ev.object_json);
        if (!new_rv.empty()) {
          std::lock_guard<std::mutex> lock(mu_);
          resource_version_ = new_rv;
        }
        return true;
      },
      options_.watch_accept);
  if (gone || st.code() == StatusCode::kAborted) {
    return AbortedError(options_.what + " watch: resourceVersion " + rv + " is gone (410)");
  }
  return st;
}

void KubeInformer::Run(const std::atomic<bool>& stop, double watch_timeout_seconds) {
  double backoff = 0.5;
  bool need_list = true;
  while (!stop.load()) {
    if (need_list) {
      Status st = List();
      if (!st.ok()) {
        LogWarn("cannot list " + options_.what, {{"err", st.ToString()}});
        clock_->SleepFor(backoff);
        backoff = std::min(backoff * 2, 30.0);
        continue;
      }
      need_list = false;
      backoff = 0.5;
    }
    Status st = WatchOnce(watch_timeout_seconds, stop);
    if (st.code() == StatusCode::kAborted) {
      LogInfo(options_.what + " watch expired: relisting", {{"err", st.message()}});
      relists_++;
      need_list = true;
    } else if (!st.ok()) {
      LogWarn(options_.what + " watch failed", {{"err", st.ToString()}});
      clock_->SleepFor(backoff);
      backoff = std::min(backoff * 2, 30.0);
    } else {
      backoff = 0.5;
    }
  }
}

}  // namespace oomcast
