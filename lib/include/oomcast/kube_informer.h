// One list + watch loop over a Kubernetes collection, as client-go's reflector runs it: list with
// the collection's resourceVersion, watch from it with bookmarks, relist on 410 Gone (an ERROR
// event or an HTTP 410), and back off on errors (0.5 s doubling to 30 s, through the injected
// clock). The objects themselves are the handler's: the informer keeps only the resourceVersion.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/kube_client.h"
#include "oomcast/status.h"

namespace oomcast {

// What an informer hands its cache. Called from the thread that calls List()/WatchOnce()/Run(),
// with no informer lock held; a handler guards its own state.
class KubeInformerHandler {
 public:
  virtual ~KubeInformerHandler() = default;
  // A fresh list: `items` (each one object's JSON, as served) replace everything known.
  virtual void Replace(const std::vector<std::string>& items) = 0;
  // One watch event: `type` is ADDED, MODIFIED or DELETED; `object_json` the object as served.
  virtual void Apply(const std::string& type, const std::string& object_json) = 0;
};

struct KubeInformerOptions {
  // The collection, e.g. "/api/v1/pods" or "/apis/g/v1/namespaces/ns/things" (no query).
  std::string collection_path;
  // Names the collection in errors and logs, e.g. "pod metadata" ("list pod metadata").
  std::string what;
  // Accept headers of the list and of the watch. A metadata-only informer passes the
  // PartialObjectMetadata(List) types below.
  std::string list_accept = "application/json";
  std::string watch_accept = "application/json";
};

// Accept headers of client-go's metadata client (JSON only: no protobuf here).
inline constexpr char kPartialObjectMetadataListAccept[] =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
inline constexpr char kPartialObjectMetadataAccept[] =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

// Thread-safe: List()/WatchOnce()/Run() on one thread; the accessors from any.
class KubeInformer {
 public:
  // `client`, `clock` and `handler` must outlive the informer.
  KubeInformer(KubeClient* client, Clock* clock, KubeInformerOptions options,
               KubeInformerHandler* handler);

  // One list: hands every item to handler->Replace() and records the list's resourceVersion.
  // Errors name the request; a body that is not a list is kDataLoss.
  Status List();
  // One watch from the last resourceVersion (bookmarks requested), handing events to
  // handler->Apply() until the stream ends (`timeout_seconds`), `stop` turns true, or an error.
  // kAborted when the resourceVersion is gone (410): the caller relists.
  Status WatchOnce(double timeout_seconds, const std::atomic<bool>& stop);
  // List, then watch, until `stop` (checked at least every watch_timeout_seconds). Relists on
  // kAborted, backs off on other errors.
  void Run(const std::atomic<bool>& stop, double watch_timeout_seconds);

  // True once a list has succeeded.
  bool synced() const { return synced_.load(); }
  std::string resource_version() const;
  // Relists after a 410, since construction.
  int relists() const { return relists_.load(); }

 private:
  KubeClient* client_;
  Clock* clock_;
  KubeInformerOptions options_;
  KubeInformerHandler* handler_;
  mutable std::mutex mu_;
  std::string resource_version_;  // Guarded by mu_.
  std::atomic<bool> synced_{false};
  std::atomic<int> relists_{0};
};

}  // namespace oomcast
