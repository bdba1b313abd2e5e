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
#include "oomcast/kube_informer.h"
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

// A list + watch cache of pod metadata, on lib's KubeInformer with the PartialObjectMetadata
// Accept headers. Run() relists on 410 Gone and backs off on errors (0.5 s doubling to 30 s,
// through the injected clock).
class KubePodMetadataSource final : public PodLabelSource, private KubeInformerHandler {
 public:
  // `client` and `clock` must outlive the source. `namespace_name` empty: every namespace.
  KubePodMetadataSource(KubeClient* client, Clock* clock, std::string namespace_name = "");

  std::shared_ptr<const PodLabelMap> Labels(std::string_view ns,
                                            std::string_view pod) const override;

  // One metadata-only list: replaces the cache. Errors name the request.
  Status List() { return informer_.List(); }
  // One watch from the last resourceVersion, applying events until the stream ends
  // (`timeout_seconds`), `stop` turns true, or an error. kAborted when the resourceVersion is
  // gone (410): the caller relists.
  Status WatchOnce(double timeout_seconds, const std::atomic<bool>& stop) {
    return informer_.WatchOnce(timeout_seconds, stop);
  }
  // List, then watch, until `stop`.
  void Run(const std::atomic<bool>& stop, double watch_timeout_seconds = 300) {
    informer_.Run(stop, watch_timeout_seconds);
  }

  bool synced() const { return informer_.synced(); }
  size_t pods() const;
  int relists() const { return informer_.relists(); }

 private:
  void Replace(const std::vector<std::string>& items) override;
  void Apply(const std::string& type, const std::string& object_json) override;

  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const PodLabelMap>, std::less<>>
      labels_;             // Guarded by mu_.
  KubeInformer informer_;  // Last: its handler is *this.
};

}  // namespace oomcast::predictor
