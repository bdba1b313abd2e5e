// Authentication and authorization the way an aggregated API server does them (k8s.io/apiserver
// delegated authn/authz), in this order:
//   1. front-proxy: a client certificate that verifies against the requestheader client CA and
//      whose CN is allowed; only then are X-Remote-User / X-Remote-Group / X-Remote-Extra-*
//      (configurable names) trusted;
//   2. client certificates verifying against the client CA: user = CN, groups = O;
//   3. bearer tokens, checked with an authentication.k8s.io/v1 TokenReview (cached).
// Every authenticated user also gets the group system:authenticated. Authorization uses an
// authorization.k8s.io/v1 SubjectAccessReview (cached); members of system:masters are always
// allowed.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/kube_client.h"
#include "oomcast/metrics_adapter/lru_cache.h"
#include "oomcast/status.h"

namespace oomcast::metrics_adapter {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

// Where credentials come from. PEM contents, not paths (the cluster ConfigMap carries PEM).
struct AuthnConfig {
  std::string client_ca_pem;         // Empty: client certificates are not accepted.
  std::string requestheader_ca_pem;  // Empty: front-proxy headers are never trusted.
  std::vector<std::string> requestheader_allowed_names;  // CNs; empty: any CN signed by the CA.
  std::vector<std::string> username_headers = {"X-Remote-User"};
  std::vector<std::string> group_headers = {"X-Remote-Group"};
  std::vector<std::string> extra_headers_prefixes = {"X-Remote-Extra-"};

  bool operator==(const AuthnConfig&) const = default;
};

// Reads kube-system/extension-apiserver-authentication (client-ca-file,
// requestheader-client-ca-file, requestheader-allowed-names, requestheader-*-headers,
// requestheader-extra-headers-prefix) and fills the fields of `base` that are still empty, so
// flags win over the cluster. Errors name the ConfigMap and key.
StatusOr<AuthnConfig> LoadAuthnConfigFromCluster(KubeClient* kube, AuthnConfig base);

// What the client certificate of a connection proves; computed once per TLS connection.
struct PeerIdentity {
  enum class Kind {
    kNone,        // No certificate presented.
    kFrontProxy,  // Verified against the requestheader CA with an allowed CN.
    kClientCert,  // Verified against the client CA (user set).
    kInvalid,     // Presented but verified by neither CA (error set).
  };
  Kind kind = Kind::kNone;
  UserInfo user;        // For kClientCert: CN and O.
  std::string subject;  // Common name of the certificate, for logs.
  std::string error;
  // kFrontProxy certificates also verifying against the client CA (the requestheader
  // authenticator falls through to x509 when no user header is present).
  std::optional<UserInfo> client_cert_user;
};

// Verifies client certificate chains against the two CAs. Thread-safe.
class CertificateVerifier {
 public:
  static StatusOr<std::shared_ptr<const CertificateVerifier>> Create(const AuthnConfig& config);
  ~CertificateVerifier();

  // `chain_der`: the peer certificate first, then intermediates as sent, DER encoded.
  PeerIdentity Classify(const std::vector<std::string>& chain_der) const;

 private:
  CertificateVerifier() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Request headers, names lowercased.
using Headers = std::vector<std::pair<std::string, std::string>>;

// Checks a bearer token. Returns the user, or nullopt when the token is rejected; errors are
// transport or server failures (the request then fails with 401 and is not cached).
class TokenReviewer {
 public:
  virtual ~TokenReviewer() = default;
  virtual StatusOr<std::optional<UserInfo>> Review(const std::string& token) = 0;
};

// TokenReview through the Kubernetes API. `kube` must outlive it. Thread-safe.
class KubeTokenReviewer final : public TokenReviewer {
 public:
  explicit KubeTokenReviewer(KubeClient* kube) : kube_(kube) {}
  StatusOr<std::optional<UserInfo>> Review(const std::string& token) override;

 private:
  KubeClient* kube_;
};

// Authorization attributes, as the apiserver's RequestInfo would derive them.
struct RequestAttributes {
  bool resource_request = true;
  std::string verb;  // "list" for GET of a metric collection; "get" for non-resource paths.
  std::string namespace_name;
  std::string group;
  std::string version;
  std::string resource;
  std::string path;  // Non-resource requests.
};

// Derives the attributes of a GET of `path` (without query): resource attributes for
// /apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}, non-resource otherwise.
RequestAttributes AttributesForPath(std::string_view method, std::string_view path);

struct AccessDecision {
  bool allowed = false;
  std::string reason;
};

class AccessReviewer {
 public:
  virtual ~AccessReviewer() = default;
  virtual StatusOr<AccessDecision> Review(const UserInfo& user, const RequestAttributes& a) = 0;
};

// SubjectAccessReview through the Kubernetes API. `kube` must outlive it. Thread-safe.
class KubeAccessReviewer final : public AccessReviewer {
 public:
  explicit KubeAccessReviewer(KubeClient* kube) : kube_(kube) {}
  StatusOr<AccessDecision> Review(const UserInfo& user, const RequestAttributes& a) override;

 private:
  KubeClient* kube_;
};

// Outcome of an auth step. `would_block` is set when the answer needs a network round trip
// and the caller passed may_block = false: call again from a thread that may block.
struct AuthnResult {
  Status status;  // OK or kUnauthenticated.
  UserInfo user;
  bool would_block = false;
};
struct AuthzResult {
  Status status;  // OK, kPermissionDenied, or kUnavailable when the review failed.
  bool would_block = false;
};

struct AuthOptions {
  double token_cache_ttl_seconds = 10;
  double authorized_cache_ttl_seconds = 10;
  double unauthorized_cache_ttl_seconds = 10;
  // Entries kept at most; the least recently used is evicted beyond (flags
  // --authentication-token-webhook-cache-size, --authorization-webhook-cache-size).
  size_t token_cache_size = 10000;
  size_t access_cache_size = 10000;
  bool always_allow = false;  // Authorization mode AlwaysAllow (development only).
};

// Thread-safe. Reviewers may be null: no token authentication / every SAR is denied.
class Authenticator {
 public:
  Authenticator(AuthnConfig config, TokenReviewer* tokens, const Clock* clock,
                AuthOptions options = {});

  // Authenticates a request on a connection whose certificate proved `peer`.
  AuthnResult Authenticate(const PeerIdentity& peer, const Headers& headers, bool may_block);

  // Replaces the configuration (e.g. after the authentication ConfigMap changed). Requests in
  // flight finish with the previous one.
  void UpdateConfig(AuthnConfig config);
  std::shared_ptr<const AuthnConfig> config() const;

 private:
  mutable std::mutex config_mu_;
  std::shared_ptr<const AuthnConfig> config_;  // Header names lowercased. Guarded by config_mu_.
  TokenReviewer* tokens_;
  const Clock* clock_;
  AuthOptions options_;
  LruCache<std::optional<UserInfo>> token_cache_;  // By SHA-256 of the token; nullopt: rejected.
};

// The key of an access decision: an unambiguous encoding of the user and the attributes.
std::string AccessCacheKey(const UserInfo& user, const RequestAttributes& attributes);

class Authorizer {
 public:
  Authorizer(AccessReviewer* reviewer, const Clock* clock, AuthOptions options = {});

  AuthzResult Authorize(const UserInfo& user, const RequestAttributes& attributes, bool may_block);

 private:
  AccessReviewer* reviewer_;
  const Clock* clock_;
  AuthOptions options_;
  LruCache<AccessDecision> cache_;
};

}  // namespace oomcast::metrics_adapter
