#include "oomcast/metrics_adapter/auth.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "oomcast/http_server.h"
#include "oomcast/log.h"

namespace oomcast::metrics_adapter {
namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string PercentUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // Fetched once: an implicit fetch per call (EVP_sha256()) costs a provider lookup in OpenSSL 3.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_Digest(data.data(), data.size(), md, &len, kSha256, nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

void AddGroupOnce(std::vector<std::string>* groups, const std::string& g) {
  if (std::find(groups->begin(), groups->end(), g) == groups->end()) groups->push_back(g);
}

StatusOr<X509_STORE*> StoreFromPem(const std::string& pem, std::string_view what) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_STORE* store = X509_STORE_new();
  int n = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    ++n;
  }
  BIO_free(bio);
  if (n == 0) {
    X509_STORE_free(store);
    return InvalidArgumentError(std::string(what) + ": no PEM certificate found");
  }
  return store;
}

std::vector<std::string> NameEntries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  int idx = -1;
  while ((idx = X509_NAME_get_index_by_NID(name, nid, idx)) >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0) out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
  }
  return out;
}

bool VerifyChain(X509_STORE* store, X509* leaf, STACK_OF(X509) * intermediates,
                 std::string* error) {
  if (store == nullptr) {
    *error = "no CA configured";
    return false;
  }
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, intermediates);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  bool ok = X509_verify_cert(ctx) == 1;
  if (!ok) *error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  return ok;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

StatusOr<AuthnConfig> LoadAuthnConfigFromCluster(KubeClient* kube, AuthnConfig base) {
  const std::string path =
      "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication";
  auto resp = kube->Request("GET", path);
  if (!resp.ok()) return resp.status().WithContext("reading " + path);
  if (resp->status_code != 200) {
    return Status(resp->status_code == 404 ? StatusCode::kNotFound : StatusCode::kUnavailable,
                  "reading " + path + ": HTTP " + std::to_string(resp->status_code));
  }
  try {
    json cm = json::parse(resp->body);
    const json& data = cm.value("data", json::object());
    auto str = [&](const char* key) -> std::string {
      return data.contains(key) && data[key].is_string() ? data[key].get<std::string>() : "";
    };
    auto list = [&](const char* key) -> StatusOr<std::vector<std::string>> {
      std::string v = str(key);
      if (v.empty()) return std::vector<std::string>{};
      try {
        return json::parse(v).get<std::vector<std::string>>();
      } catch (const std::exception& e) {
        return InvalidArgumentError(
            "configmap kube-system/extension-apiserver-authentication key " + std::string(key) +
            ": not a JSON list of strings: " + e.what());
      }
    };
    if (base.client_ca_pem.empty()) base.client_ca_pem = str("client-ca-file");
    if (base.requestheader_ca_pem.empty()) {
      base.requestheader_ca_pem = str("requestheader-client-ca-file");
      auto allowed = list("requestheader-allowed-names");
      if (!allowed.ok()) return allowed.status();
      if (base.requestheader_allowed_names.empty()) base.requestheader_allowed_names = *allowed;
      struct {
        const char* key;
        std::vector<std::string>* field;
      } lists[] = {{"requestheader-username-headers", &base.username_headers},
                   {"requestheader-group-headers", &base.group_headers},
                   {"requestheader-extra-headers-prefix", &base.extra_headers_prefixes}};
      for (auto& l : lists) {
        auto v = list(l.key);
        if (!v.ok()) return v.status();
        if (!v->empty()) *l.field = *v;
      }
    }
  } catch (const std::exception& e) {
    return DataLossError("configmap kube-system/extension-apiserver-authentication: " +
                         std::string(e.what()));
  }
  return base;
}

// ---------------------------------------------------------------------------------------------

struct CertificateVerifier::Impl {
  X509_STORE* client_store = nullptr;
  X509_STORE* requestheader_store = nullptr;
  std::set<std::string> allowed_names;
  ~Impl() {
    if (client_store) X509_STORE_free(client_store);
    if (requestheader_store) X509_STORE_free(requestheader_store);
  }
};

CertificateVerifier::~CertificateVerifier() = default;

StatusOr<std::shared_ptr<const CertificateVerifier>> CertificateVerifier::Create(
    const AuthnConfig& config) {
  std::shared_ptr<CertificateVerifier> v(new CertificateVerifier());
  v->impl_ = std::make_unique<Impl>();
  if (!config.client_ca_pem.empty()) {
    auto s = StoreFromPem(config.client_ca_pem, "client CA");
    if (!s.ok()) return s.status();
    v->impl_->client_store = *s;
  }
  if (!config.requestheader_ca_pem.empty()) {
    auto s = StoreFromPem(config.requestheader_ca_pem, "requestheader client CA");
    if (!s.ok()) return s.status();
    v->impl_->requestheader_store = *s;
  }
  v->impl_->allowed_names.insert(config.requestheader_allowed_names.begin(),
                                 config.requestheader_allowed_names.end());
  return std::shared_ptr<const CertificateVerifier>(std::move(v));
}

PeerIdentity CertificateVerifier::Classify(const std::vector<std::string>& chain_der) const {
  PeerIdentity id;
  if (chain_der.empty()) return id;
  std::vector<X509*> certs;
  for (const std::string& der : chain_der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (c) certs.push_back(c);
  }
  if (certs.empty()) {
    id.kind = PeerIdentity::Kind::kInvalid;
    id.error = "unparseable client certificate";
    return id;
  }
  STACK_OF(X509)* intermediates = sk_X509_new_null();
  for (size_t i = 1; i < certs.size(); ++i) sk_X509_push(intermediates, certs[i]);
  X509* leaf = certs[0];
  X509_NAME* subject = X509_get_subject_name(leaf);
  auto cns = NameEntries(subject, NID_commonName);
  std::string cn = cns.empty() ? "" : cns[0];
  id.subject = cn;

  std::string client_err, rh_err;
  bool client_ok = VerifyChain(impl_->client_store, leaf, intermediates, &client_err);
  std::optional<UserInfo> client_user;
  if (client_ok && !cn.empty()) {
    UserInfo u;
    u.name = cn;
    u.groups = NameEntries(subject, NID_organizationName);
    client_user = u;
  }
  bool rh_ok = VerifyChain(impl_->requestheader_store, leaf, intermediates, &rh_err);
  if (rh_ok && !impl_->allowed_names.empty() && !impl_->allowed_names.count(cn)) {
    rh_ok = false;
    rh_err = "common name \"" + cn + "\" is not an allowed requestheader name";
  }
  if (rh_ok) {
    id.kind = PeerIdentity::Kind::kFrontProxy;
    id.client_cert_user = client_user;
  } else if (client_user) {
    id.kind = PeerIdentity::Kind::kClientCert;
    id.user = *client_user;
  } else {
    id.kind = PeerIdentity::Kind::kInvalid;
    id.error = client_ok ? "client certificate has no common name"
                         : "client certificate verifies against no configured CA (client CA: " +
                               client_err + "; requestheader CA: " + rh_err + ")";
  }
  sk_X509_free(intermediates);
  for (X509* c : certs) X509_free(c);
  return id;
}

// ---------------------------------------------------------------------------------------------

namespace {

UserInfo UserFromJson(const json& u) {
  UserInfo user;
  user.name = u.value("username", "");
  user.uid = u.value("uid", "");
  if (u.contains("groups") && u["groups"].is_array()) {
    user.groups = u["groups"].get<std::vector<std::string>>();
  }
  if (u.contains("extra") && u["extra"].is_object()) {
    for (const auto& [k, v] : u["extra"].items()) {
      if (v.is_array()) user.extra[k] = v.get<std::vector<std::string>>();
    }
  }
  return user;
}

}  // namespace

// The JSON text of `body`; kInvalidArgument (never an exception) when a string in it is not
// valid UTF-8. The server rejects such input before it gets here; this is the second wall.
StatusOr<std::string> DumpJson(const json& body, std::string_view what) {
  try {
    return body.dump();
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string(what) + ": cannot encode the request: " + e.what());
  }
}

namespace {

// POSTs the review `body` (of kind `kind`) to `path` and reads the answer's "status" object with
// `read`. The API's error, kUnavailable for an HTTP code other than 200 or 201, kDataLoss when the
// answer is not JSON or `read` throws on it (a field of the wrong type).
template <typename T>
StatusOr<T> PostReview(KubeClient* kube, const std::string& path, const json& body,
                       const std::string& kind, const std::function<T(const json&)>& read) {
  auto text = DumpJson(body, kind);
  if (!text.ok()) return text.status();
  auto resp = kube->Request("POST", path, *text);
  if (!resp.ok()) return resp.status().WithContext(kind);
  if (resp->status_code != 200 && resp->status_code != 201) {
    return UnavailableError(kind + ": HTTP " + std::to_string(resp->status_code));
  }
  try {
    json r = json::parse(resp->body);
    return read(r.value("status", json::object()));
  } catch (const std::exception& e) {
    return DataLossError(kind + ": malformed response: " + e.what());
  }
}

}  // namespace

StatusOr<std::optional<UserInfo>> KubeTokenReviewer::Review(const std::string& token) {
  json body = {{"apiVersion", "authentication.k8s.io/v1"},
               {"kind", "TokenReview"},
               {"spec", {{"token", token}}}};
  return PostReview<std::optional<UserInfo>>(
      kube_, "/apis/authentication.k8s.io/v1/tokenreviews", body, "TokenReview",
      [](const json& st) -> std::optional<UserInfo> {
        if (!st.value("authenticated", false)) return std::nullopt;
        return UserFromJson(st.value("user", json::object()));
      });
}

StatusOr<AccessDecision> KubeAccessReviewer::Review(const UserInfo& user,
                                                    const RequestAttributes& a) {
  json spec = {{"user", user.name}, {"groups", user.groups}};
  if (!user.uid.empty()) spec["uid"] = user.uid;
  if (!user.extra.empty()) spec["extra"] = user.extra;
  if (a.resource_request) {
    json ra = {
        {"verb", a.verb}, {"group", a.group}, {"version", a.version}, {"resource", a.resource}};
    if (!a.namespace_name.empty()) ra["namespace"] = a.namespace_name;
    spec["resourceAttributes"] = ra;
  } else {
    spec["nonResourceAttributes"] = {{"path", a.path}, {"verb", a.verb}};
  }
  json body = {
      {"apiVersion", "authorization.k8s.io/v1"}, {"kind", "SubjectAccessReview"}, {"spec", spec}};
  return PostReview<AccessDecision>(kube_, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                    body, "SubjectAccessReview", [](const json& st) {
                                      AccessDecision d;
                                      d.allowed =
                                          st.value("allowed", false) && !st.value("denied", false);
                                      d.reason = st.value("reason", "");
                                      return d;
                                    });
}

RequestAttributes AttributesForPath(std::string_view method, std::string_view path) {
  RequestAttributes a;
  std::string verb = Lower(method);
  if (verb == "head") verb = "get";
  std::vector<std::string_view> parts;
  size_t start = 1;
  while (start <= path.size() && path.size() > 1) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == path.npos ? path.npos : slash - start));
    if (slash == path.npos) break;
    start = slash + 1;
  }
  // /apis/{group}/{version}/namespaces/{ns}/{resource}[/{name}]
  if (parts.size() >= 4 && parts[0] == "apis") {
    a.resource_request = true;
    a.group = std::string(parts[1]);
    a.version = std::string(parts[2]);
    size_t i = 3;
    if (parts[i] == "namespaces" && parts.size() >= 5) {
      a.namespace_name = std::string(parts[4]);
      i = 5;
    }
    bool has_name = false;
    if (i < parts.size()) {
      a.resource = std::string(parts[i]);
      has_name = i + 1 < parts.size();
    } else {
      a.resource = "namespaces";  // GET /apis/g/v/namespaces/{ns}: the namespace object.
      has_name = true;
    }
    a.verb = verb == "get" && !has_name ? "list" : verb;
    return a;
  }
  a.resource_request = false;
  a.verb = verb;
  a.path = std::string(path);
  return a;
}

// ---------------------------------------------------------------------------------------------

Authenticator::Authenticator(AuthnConfig config, TokenReviewer* tokens, const Clock* clock,
                             AuthOptions options)
    : tokens_(tokens), clock_(clock), options_(options), token_cache_(options.token_cache_size) {
  UpdateConfig(std::move(config));
}

void Authenticator::UpdateConfig(AuthnConfig config) {
  for (auto* list :
       {&config.username_headers, &config.group_headers, &config.extra_headers_prefixes}) {
    for (std::string& h : *list) h = Lower(h);
  }
  auto fresh = std::make_shared<const AuthnConfig>(std::move(config));
  std::lock_guard<std::mutex> lock(config_mu_);
  config_ = std::move(fresh);
}

std::shared_ptr<const AuthnConfig> Authenticator::config() const {
  std::lock_guard<std::mutex> lock(config_mu_);
  return config_;
}

AuthnResult Authenticator::Authenticate(const PeerIdentity& peer, const Headers& headers,
                                        bool may_block) {
  AuthnResult result;
  const std::shared_ptr<const AuthnConfig> config_ptr = config();
  const AuthnConfig& cfg = *config_ptr;
  auto finish = [&](UserInfo user) {
    AddGroupOnce(&user.groups, "system:authenticated");
    result.user = std::move(user);
    return result;
  };
  // 1. Front proxy.
  if (peer.kind == PeerIdentity::Kind::kFrontProxy) {
    UserInfo user;
    for (const std::string& h : cfg.username_headers) {
      for (const auto& [name, value] : headers) {
        if (name == h && !value.empty()) {
          user.name = value;
          break;
        }
      }
      if (!user.name.empty()) break;
    }
    if (!user.name.empty()) {
      for (const auto& [name, value] : headers) {
        for (const std::string& h : cfg.group_headers) {
          if (name == h) user.groups.push_back(value);
        }
        for (const std::string& prefix : cfg.extra_headers_prefixes) {
          if (StartsWith(name, prefix) && name.size() > prefix.size()) {
            // The key is percent-encoded in the header name; a key that does not decode to
            // printable UTF-8 is dropped (it could not be sent on in a SubjectAccessReview).
            std::string key = Lower(PercentUnescape(name.substr(prefix.size())));
            if (IsPrintableUtf8(key)) user.extra[key].push_back(value);
          }
        }
      }
      return finish(std::move(user));
    }
    // No user header: the x509 authenticator may still accept the same certificate.
    if (peer.client_cert_user) return finish(*peer.client_cert_user);
  }
  // 2. Client certificate.
  if (peer.kind == PeerIdentity::Kind::kClientCert) return finish(peer.user);
  // 3. Bearer token.
  std::string token;
  for (const auto& [name, value] : headers) {
    if (name != "authorization") continue;
    std::string_view v = value;
    size_t sp = v.find(' ');
    if (sp != v.npos && Lower(v.substr(0, sp)) == "bearer") {
      std::string_view t = v.substr(sp + 1);
      while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
      while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
      token = std::string(t);
    }
    break;
  }
  if (!token.empty() && tokens_ != nullptr) {
    const std::string key = Sha256Hex(token);
    const double now = clock_->NowUnixSeconds();
    if (auto cached = token_cache_.Get(key, now)) {
      if (*cached) return finish(**cached);
      result.status = UnauthenticatedError("invalid bearer token");
      return result;
    }
    if (!may_block) {
      result.would_block = true;
      return result;
    }
    auto reviewed = tokens_->Review(token);
    if (!reviewed.ok()) {
      LogWarn("token review failed", {{"err", reviewed.status().ToString()}});
      result.status = UnauthenticatedError("token review failed");
      return result;
    }
    token_cache_.Put(key, *reviewed, now + options_.token_cache_ttl_seconds);
    if (*reviewed) return finish(**reviewed);
    result.status = UnauthenticatedError("invalid bearer token");
    return result;
  }
  if (peer.kind == PeerIdentity::Kind::kInvalid) {
    result.status = UnauthenticatedError("invalid client certificate: " + peer.error);
  } else if (!token.empty()) {
    result.status = UnauthenticatedError("bearer tokens are not accepted (no TokenReview)");
  } else {
    result.status = UnauthenticatedError("no credentials");
  }
  return result;
}

Authorizer::Authorizer(AccessReviewer* reviewer, const Clock* clock, AuthOptions options)
    : reviewer_(reviewer), clock_(clock), options_(options), cache_(options.access_cache_size) {}

std::string AccessCacheKey(const UserInfo& user, const RequestAttributes& a) {
  // Every field length-prefixed and every list counted: no two distinct inputs share a key
  // (["a,b"] and ["a","b"] differ).
  std::string key;
  key.reserve(256);
  auto field = [&](std::string_view v) {
    key += std::to_string(v.size());
    key += ':';
    key += v;
  };
  auto count = [&](size_t n) {
    key += '#';
    key += std::to_string(n);
    key += ';';
  };
  field(user.name);
  field(user.uid);
  count(user.groups.size());
  for (const auto& g : user.groups) field(g);
  count(user.extra.size());
  for (const auto& [k, vs] : user.extra) {
    field(k);
    count(vs.size());
    for (const auto& v : vs) field(v);
  }
  key += a.resource_request ? 'r' : 'n';
  for (const std::string* f :
       {&a.verb, &a.namespace_name, &a.group, &a.version, &a.resource, &a.path}) {
    field(*f);
  }
  return key;
}

AuthzResult Authorizer::Authorize(const UserInfo& user, const RequestAttributes& a,
                                  bool may_block) {
  AuthzResult result;
  if (options_.always_allow) return result;
  for (const std::string& g : user.groups) {
    if (g == "system:masters") return result;
  }
  auto deny = [&](const std::string& reason) {
    std::string msg =
        a.resource_request
            ? "user \"" + user.name + "\" cannot " + a.verb + " resource \"" + a.resource +
                  "\" in API group \"" + a.group + "\" in the namespace \"" + a.namespace_name +
                  "\""
            : "user \"" + user.name + "\" cannot " + a.verb + " path \"" + a.path + "\"";
    if (!reason.empty()) msg += ": " + reason;
    result.status = PermissionDeniedError(msg);
    return result;
  };
  if (reviewer_ == nullptr) return deny("no authorizer configured");
  const std::string key = AccessCacheKey(user, a);
  const double now = clock_->NowUnixSeconds();
  if (auto cached = cache_.Get(key, now)) {
    if (cached->allowed) return result;
    return deny(cached->reason);
  }
  if (!may_block) {
    result.would_block = true;
    return result;
  }
  auto d = reviewer_->Review(user, a);
  if (!d.ok()) {
    LogWarn("subject access review failed", {{"err", d.status().ToString()}});
    result.status = UnavailableError("authorization failed: " + d.status().message());
    return result;
  }
  cache_.Put(key, *d,
             now + (d->allowed ? options_.authorized_cache_ttl_seconds
                               : options_.unauthorized_cache_ttl_seconds));
  if (d->allowed) return result;
  return deny(d->reason);
}

}  // namespace oomcast::metrics_adapter
