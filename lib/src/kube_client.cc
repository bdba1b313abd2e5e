// KubeClient on the one HttpClient stack (oomcast/http_client.h): bearer tokens re-read per
// request, TLS material from the kubeconfig or the service account, watch streams split into
// JSON lines as they arrive.
#include "oomcast/kube_client.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "oomcast/http_client.h"
#include "oomcast/url.h"

namespace oomcast {
namespace {

constexpr size_t kMaxErrorBodyBytes = 1u << 20;
// One event is one object (etcd keeps objects under 1.5 MiB); a stream that sends more than
// this without a newline is broken or hostile, not buffered forever.
constexpr size_t kMaxWatchLineBytes = 16u << 20;

StatusOr<std::string> ReadWholeFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError(std::string("kube: cannot read ") + what + " " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return std::string(s);
}

class HttpKubeClient final : public KubeClient {
 public:
  HttpKubeClient(KubeRestConfig config, std::string base_url, std::unique_ptr<HttpClient> http)
      : config_(std::move(config)), base_url_(std::move(base_url)), http_(std::move(http)) {}

  StatusOr<KubeResponse> Request(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& content_type,
                                 const std::string& accept) override {
    const std::string what = "kube " + method + " " + path;
    StatusOr<HttpRequest> req = NewRequest(method, path, accept);
    if (!req.ok()) return req.status();
    req->timeout_seconds = config_.timeout_seconds;
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      req->headers.emplace_back("Content-Type", content_type);
      req->body = body;
    }
    StatusOr<HttpResponse> resp = http_->Do(*req);
    if (!resp.ok()) return resp.status().WithContext(what);
    KubeResponse out;
    out.status_code = resp->status_code;
    out.body = std::move(resp->body);
    out.headers = std::move(resp->headers);
    return out;
  }

  Status Watch(const std::string& path, double timeout_seconds,
               const std::function<bool(const WatchEvent&)>& on_event,
               const std::string& accept) override {
    const std::string what = "kube watch " + path;
    StatusOr<HttpRequest> req = NewRequest("GET", path, accept);
    if (!req.ok()) return req.status();
    req->timeout_seconds = timeout_seconds > 0 ? timeout_seconds : 0.001;
    req->connect_timeout_seconds = config_.timeout_seconds;
    int code = 0;
    std::string error_body;  // Of a non-200 answer: its metav1.Status.
    std::string pending;     // Bytes of an event line not complete yet.
    bool stopped = false;    // on_event returned false.
    Status line_error;
    Status st = http_->Stream(
        *req,
        [&](const HttpResponse& head) {
          code = head.status_code;
          return true;
        },
        [&](std::string_view piece) {
          if (code != 200) {
            error_body.append(piece.substr(0, kMaxErrorBodyBytes - error_body.size()));
            return error_body.size() < kMaxErrorBodyBytes;
          }
          pending.append(piece);
          size_t begin = 0;
          for (size_t nl; (nl = pending.find('\n', begin)) != std::string::npos; begin = nl + 1) {
            std::string line = TrimSpace(std::string_view(pending).substr(begin, nl - begin));
            if (!line.empty() && !Dispatch(line, on_event)) {
              stopped = true;
              return false;
            }
          }
          pending.erase(0, begin);
          if (pending.size() > kMaxWatchLineBytes) {
            line_error = ResourceExhaustedError(what + ": watch event longer than " +
                                                std::to_string(kMaxWatchLineBytes) + " bytes");
            return false;
          }
          return true;
        });
    if (stopped) return Status::Ok();
    if (!line_error.ok()) return line_error;
    if (code != 0 && code != 200) {
      Status api = KubeResponseStatus(KubeResponse{code, error_body, {}}, what);
      if (code == 410) return AbortedError(api.message());
      return api;
    }
    if (!st.ok()) {
      // Our own deadline once the stream is open: a clean end (the caller watches again).
      if (st.code() == StatusCode::kDeadlineExceeded && code == 200) return Status::Ok();
      // A stream cut mid-chunk: the connection failed, retry.
      if (st.code() == StatusCode::kDataLoss) return UnavailableError(what + ": " + st.message());
      return st.WithContext(what);
    }
    std::string rest = TrimSpace(pending);
    if (!rest.empty()) Dispatch(rest, on_event);
    return Status::Ok();
  }

 private:
  // Returns the callback's verdict; malformed lines are skipped (and do not stop the watch).
  static bool Dispatch(const std::string& line,
                       const std::function<bool(const WatchEvent&)>& on_event) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("type")) return true;
    WatchEvent ev;
    ev.type = j["type"].is_string() ? j["type"].get<std::string>() : "";
    ev.object_json = j.contains("object") ? j["object"].dump() : "{}";
    return on_event(ev);
  }

  // The request with the headers every call carries; the token file is re-read every time
  // (projected service account tokens rotate).
  StatusOr<HttpRequest> NewRequest(const std::string& method, const std::string& path,
                                   const std::string& accept) const {
    HttpRequest req;
    req.method = method;
    req.url = base_url_ + path;
    req.headers.emplace_back("Accept", accept);
    if (!config_.bearer_token_file.empty()) {
      auto token = ReadWholeFile(config_.bearer_token_file, "bearer token file");
      if (!token.ok()) return token.status();
      req.headers.emplace_back("Authorization", "Bearer " + TrimSpace(*token));
    } else if (!config_.bearer_token.empty()) {
      req.headers.emplace_back("Authorization", "Bearer " + config_.bearer_token);
    }
    return req;
  }

  const KubeRestConfig config_;
  const std::string base_url_;  // config_.server without trailing '/'.
  const std::unique_ptr<HttpClient> http_;
};

}  // namespace

Status KubeResponseStatus(const KubeResponse& response, std::string_view what) {
  int code = response.status_code;
  if (code >= 200 && code < 300) return Status::Ok();
  std::string reason;
  std::string message;
  nlohmann::json j = nlohmann::json::parse(response.body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (j.contains("reason") && j["reason"].is_string()) reason = j["reason"].get<std::string>();
    if (j.contains("message") && j["message"].is_string()) {
      message = j["message"].get<std::string>();
    }
  }
  if (message.empty()) message = response.body.substr(0, 200);
  std::string text = std::string(what) + ": HTTP " + std::to_string(code) +
                     (reason.empty() ? "" : " " + reason) + ": " + message;
  switch (code) {
    case 400:
    case 422:
      return InvalidArgumentError(text);
    case 401:
      return UnauthenticatedError(text);
    case 403:
      return PermissionDeniedError(text);
    case 404:
      return NotFoundError(text);
    case 409:
      if (reason == "AlreadyExists") return Status(StatusCode::kAlreadyExists, text);
      return AbortedError(text);
    case 410:
      return FailedPreconditionError(text);
    case 429:
      return ResourceExhaustedError(text);
    default:
      break;
  }
  if (code >= 500) return UnavailableError(text);
  return InternalError(text);
}

StatusOr<std::unique_ptr<KubeClient>> NewKubeClient(const KubeRestConfig& config) {
  StatusOr<Url> url = ParseUrl(config.server);
  if (!url.ok()) return url.status().WithContext("kube: server");
  HttpClientOptions options;
  if (url->tls()) {
    if (!config.insecure_skip_verify) {  // As kubectl: a CA and the insecure flag exclude
      options.ca_file = config.ca_file;  // each other; insecure wins.
      options.ca_pem = config.ca_pem;
    }
    options.client_cert_file = config.client_cert_file;
    options.client_cert_pem = config.client_cert_pem;
    options.client_key_file = config.client_key_file;
    options.client_key_pem = config.client_key_pem;
    options.insecure_skip_verify = config.insecure_skip_verify;
  }
  StatusOr<std::unique_ptr<HttpClient>> http = NewHttpClient(options);
  if (!http.ok()) return http.status().WithContext("kube: TLS");
  std::string base = config.server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return std::unique_ptr<KubeClient>(
      std::make_unique<HttpKubeClient>(config, std::move(base), std::move(http).value()));
}

}  // namespace oomcast
