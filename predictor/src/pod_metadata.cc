#include "oomcast/predictor/pod_metadata.h"

#include <nlohmann/json.hpp>

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

std::string PodsPath(const std::string& namespace_name) {
  if (namespace_name.empty()) return "/api/v1/pods";
  return "/api/v1/namespaces/" + namespace_name + "/pods";
}

}  // namespace

KubePodMetadataSource::KubePodMetadataSource(KubeClient* client, Clock* clock,
                                             std::string namespace_name)
    : informer_(client, clock,
                KubeInformerOptions{.collection_path = PodsPath(namespace_name),
                                    .what = "pod metadata",
                                    .list_accept = kPartialObjectMetadataListAccept,
                                    .watch_accept = kPartialObjectMetadataAccept},
                this) {}

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

void KubePodMetadataSource::Replace(const std::vector<std::string>& items) {
  decltype(labels_) fresh;
  std::string ns, name;
  PodLabelMap labels;
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& text : items) {
    if (!ParseMetadata(json::parse(text, nullptr, false), &ns, &name, &labels)) continue;
    auto key = std::make_pair(ns, name);
    auto old = labels_.find(key);
    fresh[key] = old != labels_.end() && *old->second == labels
                     ? old->second
                     : std::make_shared<const PodLabelMap>(labels);
  }
  labels_ = std::move(fresh);
}

void KubePodMetadataSource::Apply(const std::string& type, const std::string& object_json) {
  std::string ns, name;
  PodLabelMap labels;
  if (!ParseMetadata(json::parse(object_json, nullptr, false), &ns, &name, &labels)) return;
  auto key = std::make_pair(ns, name);
  std::lock_guard<std::mutex> lock(mu_);
  if (type == "DELETED") {
    labels_.erase(key);
  } else {
    auto old = labels_.find(key);
    if (old == labels_.end() || *old->second != labels) {
      labels_[key] = std::make_shared<const PodLabelMap>(std::move(labels));
    }
  }
}

}  // namespace oomcast::predictor
