// The Kubernetes API boundary: connection settings (in-cluster or kubeconfig) and a small
// JSON REST client with list/watch. Controller and metrics-adapter talk to this interface;
// tests run the real implementation against a local API stand-in, or use a fake.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/status.h"

namespace oomcast {

// Where and how to reach the API server.
struct KubeRestConfig {
  std::string server;  // https://host:port
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  std::string bearer_token_file;  // Re-read on every request (projected tokens rotate).
  std::string bearer_token;       // Literal token (kubeconfig `token:`).
  // PEM contents (kubeconfig `*-data:` fields, base64-decoded). Used when the file is empty.
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure_skip_verify = false;
  std::string namespace_name = "default";  // In-cluster namespace or the context's namespace.
  double timeout_seconds = 30;
};

// In-cluster config from KUBERNETES_SERVICE_HOST/PORT and the service account files under
// `sa_dir` (default /var/run/secrets/kubernetes.io/serviceaccount). kFailedPrecondition when
// not in a cluster.
StatusOr<KubeRestConfig> LoadInClusterConfig(
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// kubeconfig at `path` (empty: $KUBECONFIG, then ~/.kube/config), current context unless
// `context` is set. Supports certificate-authority(-data), client-certificate(-data),
// client-key(-data), token, tokenFile, insecure-skip-tls-verify. Errors name the file and key.
StatusOr<KubeRestConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

struct KubeResponse {
  int status_code = 0;
  std::string body;  // JSON as sent (an object, or a metav1.Status on errors).
  std::map<std::string, std::string> headers;  // Lowercased names (e.g. "retry-after").
};

// Maps an API answer to a Status: 2xx OK; 400 kInvalidArgument, 401 kUnauthenticated,
// 403 kPermissionDenied, 404 kNotFound, 409 kAborted (reason Conflict) or kAlreadyExists
// (reason AlreadyExists), 410 kFailedPrecondition (Expired/Gone), 429 kResourceExhausted,
// 5xx kUnavailable. The message is "`what`: HTTP <code> <reason>: <metav1.Status message>".
Status KubeResponseStatus(const KubeResponse& response, std::string_view what);

// One event of a watch stream: type ADDED, MODIFIED, DELETED, BOOKMARK or ERROR; object JSON.
struct WatchEvent {
  std::string type;
  std::string object_json;
};

// Thread-safe.
class KubeClient {
 public:
  virtual ~KubeClient() = default;
  // One request; `path` starts with /api or /apis and may carry a query. Any HTTP status is a
  // successful StatusOr; transport failures are kUnavailable / kDeadlineExceeded.
  // `accept` is the Accept header, e.g. "application/json;as=PartialObjectMetadataList;
  // g=meta.k8s.io;v=v1,application/json" for a metadata-only list.
  virtual StatusOr<KubeResponse> Request(const std::string& method, const std::string& path,
                                         const std::string& body = "",
                                         const std::string& content_type = "application/json",
                                         const std::string& accept = "application/json") = 0;
  // Streams a watch (`path` must include watch=true). Calls on_event for every event until it
  // returns false, the server closes the stream, or timeout_seconds pass. Returns OK on a clean
  // end; a 410 Gone arrives as an ERROR event (or kAborted when sent as an HTTP status).
  virtual Status Watch(const std::string& path, double timeout_seconds,
                       const std::function<bool(const WatchEvent&)>& on_event,
                       const std::string& accept = "application/json") = 0;
};

StatusOr<std::unique_ptr<KubeClient>> NewKubeClient(const KubeRestConfig& config);

}  // namespace oomcast
