// List-then-watch cache of MemoryScalers (all namespaces, or one): lists with the collection's
// resourceVersion, watches from it with bookmarks, relists on 410 Gone (an ERROR event or an
// HTTP 410), and backs off on transport errors.
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

namespace oomcast::controller {

// Thread-safe: Run() on one thread; Snapshot()/synced() from any.
class ScalerInformer {
 public:
  // `namespace_name` empty: all namespaces. `on_change(ns, name, deleted)` is called (from the
  // Run() thread) when a scaler appears, is deleted or its metadata.generation (spec) changes;
  // status-only updates refresh the cache silently. `clock` paces back-off.
  ScalerInformer(KubeClient* client, Clock* clock, std::string namespace_name,
                 std::function<void(const std::string&, const std::string&, bool)> on_change);

  // Lists, then watches until `stop` is set (checked at least every watch_timeout_seconds).
  void Run(const std::atomic<bool>& stop, double watch_timeout_seconds = 60);

  // One list (replaces the cache). Exposed for tests.
  Status List();
  // One watch from the current resourceVersion, up to `timeout_seconds`. kAborted when the
  // resourceVersion is gone (410): the caller relists.
  Status WatchOnce(double timeout_seconds, const std::atomic<bool>& stop);

  // The cached objects (JSON as served), sorted by namespace/name.
  std::vector<std::string> Snapshot() const;
  bool synced() const { return synced_.load(); }
  std::string resource_version() const;
  int relists() const { return relists_.load(); }

 private:
  std::string CollectionPath() const;

  KubeClient* client_;
  Clock* clock_;
  std::string namespace_;
  std::function<void(const std::string&, const std::string&, bool)> on_change_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> cache_;    // ns/name -> JSON
  std::map<std::string, int64_t> generations_;  // ns/name -> metadata.generation
  std::string resource_version_;
  std::atomic<bool> synced_{false};
  std::atomic<int> relists_{0};
};

}  // namespace oomcast::controller
