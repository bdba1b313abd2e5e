// Pod labels for label selectors, read from the Kubernetes API: a metadata-only list + watch of
// pods (PartialObjectMetadata, as client-go's metadata informer does), so selectors name a pod's
// real labels (app.kubernetes.io/name=web) with no kube-state-metrics allowlist. Needs RBAC
// list and watch on pods, nothing more; the pods' specs and statuses are never transferred.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "oomcast/clock.h"
#include "oomcast/kube_client.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

using PodLabelMap = std::map<std::string, std::string>;

// Where the engine takes pod labels from instead of its kube_pod_labels query.
// Implementations are thread-safe.
class PodLabelSource {
 public:
  virtual ~PodLabelSource() = default;
  // The labels of pod `ns`/`pod`; null when the pod is not known (yet). A returned map is never
  // changed in place: unchanged labels keep returning the same map.
  virtual std::shared_ptr<const PodLabelMap> Labels(std::string_view ns,
                                                    std::string_view pod) const = 0;
};

// Accept headers of client-go's metadata client (JSON only: no protobuf here).
inline constexpr char kPartialObjectMetadataListAccept[] =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
inline constexpr char kPartialObjectMetadataAccept[] =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

// A list + watch cache of pod metadata. Run() relists on 410 Gone and backs off on errors
// (0.5 s doubling to 30 s, through the injected clock).
class KubePodMetadataSource final : public PodLabelSource {
 public:
  // `client` and `clock` must outlive the source. `namespace_name` empty: every namespace.
  KubePodMetadataSource(KubeClient* client, Clock* clock, std::string namespace_name = "");

  std::shared_ptr<const PodLabelMap> Labels(std::string_view ns,
                                            std::string_view pod) const override;

  // One metadata-only list: replaces the cache. Errors name the request.
  Status List();
  // One watch from the last resourceVersion, applying events until the stream ends
  // (`timeout_seconds`), `stop` turns true, or an error. kAborted when the resourceVersion is
  // gone (410): the caller relists.
  Status WatchOnce(double timeout_seconds, const std::atomic<bool>& stop);
  // List, then watch, until `stop`.
  void Run(const std::atomic<bool>& stop, double watch_timeout_seconds = 300);

  bool synced() const { return synced_.load(); }
  size_t pods() const;
  int relists() const { return relists_.load(); }

 private:
  std::string CollectionPath() const;

  KubeClient* client_;
  Clock* clock_;
  std::string namespace_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const PodLabelMap>, std::less<>>
      labels_;                    // Guarded by mu_.
  std::string resource_version_;  // Guarded by mu_.
  std::atomic<bool> synced_{false};
  std::atomic<int> relists_{0};
};

}  // namespace oomcast::predictor
