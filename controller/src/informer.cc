#include "oomcast/controller/informer.h"

#include <nlohmann/json.hpp>

namespace oomcast::controller {
namespace {

using nlohmann::json;

std::string CollectionPath(const std::string& namespace_name) {
  if (namespace_name.empty()) return "/apis/oomcast.io/v1alpha1/memoryscalers";
  return "/apis/oomcast.io/v1alpha1/namespaces/" + namespace_name + "/memoryscalers";
}

int64_t Generation(const json& obj) {
  return obj.value("metadata", json::object()).value("generation", int64_t{0});
}

}  // namespace

ScalerInformer::ScalerInformer(
    KubeClient* client, Clock* clock, std::string namespace_name,
    std::function<void(const std::string&, const std::string&, bool)> on_change)
    : on_change_(std::move(on_change)),
      informer_(client, clock,
                KubeInformerOptions{.collection_path = CollectionPath(namespace_name),
                                    .what = "MemoryScalers"},
                this) {}

void ScalerInformer::Replace(const std::vector<std::string>& items) {
  std::map<std::string, std::string> fresh;
  std::map<std::string, int64_t> fresh_generations;
  for (const std::string& text : items) {
    json item = json::parse(text, nullptr, false);
    if (!item.is_object()) continue;
    if (!item.contains("kind")) item["kind"] = "MemoryScaler";
    if (!item.contains("apiVersion")) item["apiVersion"] = "oomcast.io/v1alpha1";
    const json md = item.value("metadata", json::object());
    const std::string key = md.value("namespace", "") + "/" + md.value("name", "");
    fresh[key] = item.dump();
    fresh_generations[key] = Generation(item);
  }
  std::vector<std::pair<std::string, bool>> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : cache_) {
      if (!fresh.count(k)) changes.push_back({k, true});
    }
    for (const auto& [k, gen] : fresh_generations) {
      auto it = generations_.find(k);
      if (it == generations_.end() || it->second != gen) changes.push_back({k, false});
    }
    generations_ = std::move(fresh_generations);
    cache_ = std::move(fresh);
  }
  for (const auto& [k, deleted] : changes) {
    size_t slash = k.find('/');
    on_change_(k.substr(0, slash), k.substr(slash + 1), deleted);
  }
}

void ScalerInformer::Apply(const std::string& type, const std::string& object_json) {
  json obj = json::parse(object_json, nullptr, false);
  if (!obj.is_object()) return;
  const json md = obj.value("metadata", json::object());
  const std::string ns = md.value("namespace", "");
  const std::string name = md.value("name", "");
  bool deleted = type == "DELETED";
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
  }
  // Status-only updates (our own writes) do not trigger a reconcile; spec changes do.
  if (notify) on_change_(ns, name, deleted);
}

std::vector<std::string> ScalerInformer::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [_, v] : cache_) out.push_back(v);
  return out;
}

}  // namespace oomcast::controller
