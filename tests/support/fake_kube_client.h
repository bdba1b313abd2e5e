// An in-process Kubernetes API for tests: a KubeClient that answers from an object store with
// the semantics controllers depend on, without a process, a socket or wall-clock time.
//
//   FakeKubeClient kube;
//   kube.Seed(deployment_json);                       // any served kind; pods follow replicas
//   kube.Request("GET", "/apis/apps/v1/namespaces/shop/deployments/web/scale");
//   kube.Script({"PUT", "/scale", 409});              // the next matching request answers 409
//   kube.Race(scale_path);                            // another writer bumps it first: real 409
//   kube.Compact();                                   // older resourceVersions are Gone (410)
//   kube.WritesTo("/eviction", "POST");               // every write, with its answer code
//
// Semantics (a subset of kube-apiserver's, as the Python stand-in tests/support/kube_standin
// serves them over HTTP):
//  - Paths /api/v1[/namespaces/NS]/PLURAL[/NAME[/SUB]] and /apis/GROUP/VERSION/... for the
//    resources of kDefaultResources (AddResource adds more). GET (list with labelSelector, or
//    watch=true through Watch), POST (create; 409 AlreadyExists), PUT (replace; 409 Conflict
//    when metadata.resourceVersion is stale; spec changes bump metadata.generation), DELETE.
//  - One resourceVersion counter for every write. List items of built-in groups carry no
//    kind/apiVersion (as the API serves them); custom resources' items do.
//  - Subresources: /status (PUT replaces status only; the main PUT keeps status), /scale of
//    deployments, statefulsets and replicasets (autoscaling/v1 Scale with status.selector),
//    POST pods/NAME/eviction (policy/v1 Eviction; 429 + Retry-After: 10 when a
//    PodDisruptionBudget forbids it, else the pod is deleted).
//  - A deployment controller (on unless set_simulate_pods(false)): one Ready pod
//    "<deployment>-NNNNN" per replica, created or deleted at once.
//  - Watch delivers the stored events after the path's resourceVersion ("" or "0": the current
//    objects as ADDED), then the events queued with QueueWatchEvent, then a BOOKMARK at the
//    current resourceVersion when allowWatchBookmarks=true, and returns OK (as a server-side
//    timeout does). A resourceVersion older than the last Compact() gets an ERROR event with a
//    metav1.Status of code 410.
//  - external.metrics.k8s.io/v1beta1 values from SetExternalMetric / SetExternalMetricError,
//    filtered by labelSelector (full grammar, lib's LabelSelector).
//  - Script(): the next `count` requests whose method matches and whose path contains
//    `path_contains` answer `code` with a metav1.Status (and `headers`) instead.
//  - Every request is counted; every non-GET request is recorded with its answer code (Seed is
//    setup and is not recorded).
// Thread-safe; on_event callbacks run without the lock held (they may call Request).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "oomcast/kube_client.h"

namespace oomcast::testing {

class FakeKubeClient final : public KubeClient {
 public:
  struct Resource {
    std::string group;  // "" for the core group.
    std::string version;
    std::string plural;
    std::string kind;
    bool has_status = true;  // A /status subresource: the main PUT keeps status.
  };
  struct Write {
    std::string method;
    std::string path;  // Without the query.
    int code = 0;
    nlohmann::json body;  // null when the request had none.
  };
  struct ScriptedResponse {
    std::string method;         // "" matches any.
    std::string path_contains;  // "" matches any.
    int code = 500;
    std::string reason;   // Empty: the usual reason of `code`.
    std::string message;  // Empty: "scripted <code>".
    int count = 1;
    std::map<std::string, std::string> headers;  // Lowercase names.
  };

  FakeKubeClient();

  // KubeClient. `accept` is ignored: the fake serves full objects whatever type is asked for.
  StatusOr<KubeResponse> Request(const std::string& method, const std::string& path,
                                 const std::string& body = "",
                                 const std::string& content_type = "application/json",
                                 const std::string& accept = "application/json") override;
  // `accept` is ignored: lists and watches always answer whole objects (a superset of a
  // PartialObjectMetadataList's metadata).
  Status Watch(const std::string& path, double timeout_seconds,
               const std::function<bool(const WatchEvent&)>& on_event,
               const std::string& accept = "application/json") override;

  void AddResource(Resource resource);

  // Creates `object` (kind and apiVersion must name a served resource; metadata.namespace
  // defaults to "default"), keeping a given status. Returns the stored object. Throws
  // std::runtime_error on a bad object (tests only).
  nlohmann::json Seed(const nlohmann::json& object);
  // The stored object at `path` (as GET would answer it), or null when absent.
  nlohmann::json Get(const std::string& path);
  // One request with a JSON body; throws on a transport error; sets *code when given.
  nlohmann::json Call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr, int* code = nullptr);

  void Script(ScriptedResponse response);
  // Before each of the next `count` writes to `path`, another writer modifies the object (an
  // annotation), so a writer holding the old resourceVersion gets a real 409 Conflict.
  void Race(const std::string& path, int count = 1);
  // Forgets the event history: watches from an older resourceVersion are Gone (410).
  void Compact();
  // Delivered (once) by the next Watch of `collection_path` (no query), after stored events.
  void QueueWatchEvent(const std::string& collection_path, WatchEvent event);
  // Sets the Ready condition of a pod (and lets the deployment controller react).
  void SetPodReady(const std::string& namespace_name, const std::string& name, bool ready);
  void set_simulate_pods(bool on);

  // External metrics: `items` are {"labels": {...}, "value": number, "timestamp": unix_s}.
  void SetExternalMetric(const std::string& namespace_name, const std::string& metric,
                         nlohmann::json items);
  void SetExternalMetricError(const std::string& namespace_name, const std::string& metric,
                              int code, const std::string& reason, const std::string& message);

  std::vector<Write> writes() const;
  // Writes whose path contains `needle` (and whose method is `method`, when given).
  std::vector<Write> WritesTo(const std::string& needle, const std::string& method = "") const;
  int requests() const;
  std::string resource_version() const;

 private:
  struct Parsed;
  struct Stored {
    std::string type;  // ADDED, MODIFIED, DELETED
    std::string collection;
    int64_t rv;
    nlohmann::json object;
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // collection, ns, name

  // All below hold mu_.
  StatusOr<KubeResponse> Serve(const std::string& method, const std::string& path,
                               const nlohmann::json& body);
  KubeResponse ServeObject(const std::string& method, const Parsed& p, const nlohmann::json& body);
  KubeResponse ServeScale(const std::string& method, const Parsed& p, const nlohmann::json& body);
  KubeResponse ServeList(const Parsed& p, const std::string& query);
  KubeResponse ServeExternalMetric(const std::string& path, const std::string& query);
  KubeResponse Create(const Parsed& p, nlohmann::json object);
  KubeResponse Evict(const Parsed& p, const nlohmann::json& body);
  void Put(const Parsed& p, const std::string& name, nlohmann::json object,
           const std::string& type);
  void SyncDeployments(const std::string& ns);
  bool ParsePath(const std::string& path, Parsed* out) const;

  mutable std::mutex mu_;
  std::vector<Resource> resources_;
  std::map<Key, nlohmann::json> objects_;
  std::vector<Stored> history_;
  std::map<std::string, std::vector<WatchEvent>> queued_events_;
  std::vector<ScriptedResponse> scripted_;
  std::map<std::string, int> races_;
  std::map<std::pair<std::string, std::string>, nlohmann::json> metrics_;  // ns, metric
  std::vector<Write> writes_;
  int64_t rv_ = 100;
  int64_t compacted_ = 0;
  int requests_ = 0;
  int uid_counter_ = 0;
  int pod_counter_ = 0;
  bool simulate_pods_ = true;
};

// "Conflict", "NotFound", ... for an HTTP code, as metav1.Status reasons.
std::string StatusReasonOf(int code);

}  // namespace oomcast::testing
