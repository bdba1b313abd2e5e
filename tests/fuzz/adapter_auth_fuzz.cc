// libFuzzer target: the adapter's authentication header handling and the JSON bodies it
// builds. The input is split into header lines ("name: value", names lowercased as the server
// does) and a path. Only input the server's checks accept goes on (as in the server):
// Authenticator (front-proxy headers, bearer tokens) with a fake TokenReview, the request
// attributes of the path, the access-cache key, and the TokenReview / SubjectAccessReview
// bodies sent to the Kubernetes API, which must be valid JSON that parses back to the same
// user, token and path. Invariants: no crash, no exception, no abort.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "oomcast/http_server.h"
#include "oomcast/log.h"
#include "oomcast/metrics_adapter/auth.h"

namespace ma = oomcast::metrics_adapter;
using nlohmann::json;

namespace {

class FixedClock final : public oomcast::Clock {
 public:
  double NowUnixSeconds() const override { return 1767225600; }
  void SleepFor(double) override {}
};

// Records the body of every request and answers as an API server that allows everything.
class RecordingKube final : public oomcast::KubeClient {
 public:
  oomcast::StatusOr<oomcast::KubeResponse> Request(const std::string&, const std::string&,
                                                   const std::string& body, const std::string&,
                                                   const std::string&) override {
    last_body = body;
    return oomcast::KubeResponse{
        201, R"({"status":{"authenticated":true,"allowed":true,"user":{"username":"u"}}})", {}};
  }
  oomcast::Status Watch(const std::string&, double,
                        const std::function<bool(const oomcast::WatchEvent&)>&,
                        const std::string&) override {
    return oomcast::UnavailableError("no watch");
  }
  std::string last_body;
};

class EchoTokens final : public ma::TokenReviewer {
 public:
  explicit EchoTokens(oomcast::KubeClient* kube) : real_(kube) {}
  oomcast::StatusOr<std::optional<ma::UserInfo>> Review(const std::string& token) override {
    auto r = real_.Review(token);
    if (!r.ok()) return r;
    if (token.size() % 2) return std::optional<ma::UserInfo>();
    return r;
  }

 private:
  ma::KubeTokenReviewer real_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  oomcast::SetLogLevel(oomcast::LogLevel::kError);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ma::Headers headers;
  std::string path = "/";
  size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == text.npos ? text.npos : nl - start);
    if (first) {
      auto decoded = oomcast::DecodeRequestPath(line);
      if (decoded.ok()) path = *decoded;
      first = false;
    } else if (size_t colon = line.find(':'); colon != line.npos) {
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (oomcast::IsPrintableUtf8(value, true)) headers.emplace_back(name, value);
    }
    if (nl == text.npos) break;
    start = nl + 1;
  }
  FixedClock clock;
  RecordingKube kube;
  EchoTokens tokens(&kube);
  ma::AuthOptions options;
  options.token_cache_size = 4;
  ma::Authenticator authn(ma::AuthnConfig{}, &tokens, &clock, options);
  ma::KubeAccessReviewer access(&kube);
  ma::Authorizer authz(&access, &clock, options);
  for (auto kind : {ma::PeerIdentity::Kind::kNone, ma::PeerIdentity::Kind::kFrontProxy,
                    ma::PeerIdentity::Kind::kClientCert, ma::PeerIdentity::Kind::kInvalid}) {
    ma::PeerIdentity peer;
    peer.kind = kind;
    peer.user.name = "cert-user";
    kube.last_body.clear();
    ma::AuthnResult a = authn.Authenticate(peer, headers, true);
    if (!kube.last_body.empty()) {
      json body = json::parse(kube.last_body);  // Throws (and the fuzzer reports) if invalid.
      if (body["kind"] != "TokenReview") std::abort();
    }
    if (!a.status.ok()) continue;
    ma::RequestAttributes attrs = ma::AttributesForPath("GET", path);
    (void)ma::AccessCacheKey(a.user, attrs);
    kube.last_body.clear();
    ma::AuthzResult z = authz.Authorize(a.user, attrs, true);
    // Everything that passed the checks can be encoded: the review must have been sent.
    if (z.status.code() == oomcast::StatusCode::kUnavailable) std::abort();
    if (!kube.last_body.empty()) {
      json body = json::parse(kube.last_body);
      const json& spec = body["spec"];
      if (spec["user"] != a.user.name) std::abort();
      if (!attrs.resource_request && spec["nonResourceAttributes"]["path"] != path) std::abort();
    }
  }
  return 0;
}
