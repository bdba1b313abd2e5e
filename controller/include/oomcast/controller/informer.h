// List-then-watch cache of MemoryScalers (all namespaces, or one), on lib's KubeInformer: lists
// with the collection's resourceVersion, watches from it with bookmarks, relists on 410 Gone (an
// ERROR event or an HTTP 410), and backs off on errors.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/kube_client.h"
#include "oomcast/kube_informer.h"

namespace oomcast::controller {

// Thread-safe: Run() on one thread; Snapshot()/synced() from any.
class ScalerInformer final : private KubeInformerHandler {
 public:
  // `namespace_name` empty: all namespaces. `on_change(ns, name, deleted)` is called (from the
  // Run() thread) when a scaler appears, is deleted or its metadata.generation (spec) changes;
  // status-only updates refresh the cache silently. `clock` paces back-off.
  ScalerInformer(KubeClient* client, Clock* clock, std::string namespace_name,
                 std::function<void(const std::string&, const std::string&, bool)> on_change);

  // Lists, then watches until `stop` is set (checked at least every watch_timeout_seconds).
  void Run(const std::atomic<bool>& stop, double watch_timeout_seconds = 60) {
    informer_.Run(stop, watch_timeout_seconds);
  }

  // One list (replaces the cache). Exposed for tests.
  Status List() { return informer_.List(); }
  // One watch from the current resourceVersion, up to `timeout_seconds`. kAborted when the
  // resourceVersion is gone (410): the caller relists.
  Status WatchOnce(double timeout_seconds, const std::atomic<bool>& stop) {
    return informer_.WatchOnce(timeout_seconds, stop);
  }

  // The cached objects (JSON as served), sorted by namespace/name.
  std::vector<std::string> Snapshot() const;
  bool synced() const { return informer_.synced(); }
  std::string resource_version() const { return informer_.resource_version(); }
  int relists() const { return informer_.relists(); }

 private:
  void Replace(const std::vector<std::string>& items) override;
  void Apply(const std::string& type, const std::string& object_json) override;

  std::function<void(const std::string&, const std::string&, bool)> on_change_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> cache_;    // ns/name -> JSON
  std::map<std::string, int64_t> generations_;  // ns/name -> metadata.generation
  KubeInformer informer_;                       // Last: its handler is *this.
};

}  // namespace oomcast::controller
