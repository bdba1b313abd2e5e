// KubeClient over Boost.Beast + OpenSSL: one connection per call (the API server is reached
// rarely enough; a watch owns its connection), every operation asynchronous under a
// beast::tcp_stream deadline and driven to completion on a private io_context, so timeouts hold
// for connect, TLS handshake, request and body alike.
#include "oomcast/kube_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

namespace oomcast {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

constexpr size_t kMaxBodyBytes = 256u << 20;

struct ServerUrl {
  bool tls = true;
  std::string host;
  std::string port;
  std::string base_path;  // Without trailing slash.
};

StatusOr<ServerUrl> ParseServerUrl(const std::string& server) {
  ServerUrl url;
  std::string rest;
  if (server.rfind("https://", 0) == 0) {
    rest = server.substr(8);
  } else if (server.rfind("http://", 0) == 0) {
    url.tls = false;
    rest = server.substr(7);
  } else {
    return InvalidArgumentError("kube: server URL must start with https:// or http://: \"" +
                                server + "\"");
  }
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) url.base_path = rest.substr(slash);
  while (!url.base_path.empty() && url.base_path.back() == '/') url.base_path.pop_back();
  if (!hostport.empty() && hostport[0] == '[') {  // [::1]:6443
    size_t close = hostport.find(']');
    if (close == std::string::npos) return InvalidArgumentError("kube: bad server URL " + server);
    url.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') {
      url.port = hostport.substr(close + 2);
    }
  } else {
    size_t colon = hostport.rfind(':');
    url.host = hostport.substr(0, colon);
    if (colon != std::string::npos) url.port = hostport.substr(colon + 1);
  }
  if (url.host.empty()) return InvalidArgumentError("kube: server URL has no host: " + server);
  if (url.port.empty()) url.port = url.tls ? "443" : "80";
  return url;
}

StatusOr<std::string> ReadWholeFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError(std::string("kube: cannot read ") + what + " " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TrimSpace(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// Runs one asynchronous operation to completion on `ioc` and returns its error code.
template <typename Start>
ErrorCode RunOp(asio::io_context& ioc, Start&& start) {
  ErrorCode result;
  bool done = false;
  start([&](ErrorCode ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  if (!done) return asio::error::operation_aborted;
  return result;
}

Status TransportError(const ErrorCode& ec, const std::string& what) {
  if (ec == beast::error::timeout) return DeadlineExceededError(what + ": timed out");
  return UnavailableError(what + ": " + ec.message());
}

// One connection to the API server, plain or TLS.
class Connection {
 public:
  Connection(asio::io_context& ioc, ssl::context* ctx) : ioc_(ioc) {
    if (ctx != nullptr) {
      tls_.emplace(ioc, *ctx);
    } else {
      plain_.emplace(ioc);
    }
  }

  beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  Status Open(const ServerUrl& url, double timeout_seconds, const std::string& what) {
    tcp().expires_after(ToDuration(timeout_seconds));
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type endpoints;
    ErrorCode ec = RunOp(ioc_, [&](auto handler) {
      resolver.async_resolve(url.host, url.port,
                             [&, handler](ErrorCode e, tcp::resolver::results_type r) mutable {
                               endpoints = r;
                               handler(e);
                             });
    });
    if (ec) return UnavailableError(what + ": resolve " + url.host + ": " + ec.message());
    ec = RunOp(ioc_, [&](auto handler) { tcp().async_connect(endpoints, handler); });
    if (ec) return TransportError(ec, what + ": connect " + url.host + ":" + url.port);
    if (tls_) {
      // SNI and host name verification (IP addresses are matched against IP SANs).
      boost::system::error_code addr_ec;
      asio::ip::make_address(url.host, addr_ec);
      if (addr_ec) SSL_set_tlsext_host_name(tls_->native_handle(), url.host.c_str());
      if (!insecure_) tls_->set_verify_callback(ssl::host_name_verification(url.host));
      ec = RunOp(ioc_,
                 [&](auto handler) { tls_->async_handshake(ssl::stream_base::client, handler); });
      if (ec) return TransportError(ec, what + ": TLS handshake with " + url.host);
    }
    return Status::Ok();
  }

  void SetInsecure() {
    insecure_ = true;
    if (tls_) tls_->set_verify_mode(ssl::verify_none);
  }

  template <typename Message>
  ErrorCode Write(Message& msg) {
    if (tls_) return RunOp(ioc_, [&](auto h) { http::async_write(*tls_, msg, h); });
    return RunOp(ioc_, [&](auto h) { http::async_write(*plain_, msg, h); });
  }
  template <typename Parser>
  ErrorCode Read(beast::flat_buffer& buffer, Parser& parser) {
    if (tls_) return RunOp(ioc_, [&](auto h) { http::async_read(*tls_, buffer, parser, h); });
    return RunOp(ioc_, [&](auto h) { http::async_read(*plain_, buffer, parser, h); });
  }
  template <typename Parser>
  ErrorCode ReadHeader(beast::flat_buffer& buffer, Parser& parser) {
    if (tls_)
      return RunOp(ioc_, [&](auto h) { http::async_read_header(*tls_, buffer, parser, h); });
    return RunOp(ioc_, [&](auto h) { http::async_read_header(*plain_, buffer, parser, h); });
  }
  template <typename Parser>
  ErrorCode ReadSome(beast::flat_buffer& buffer, Parser& parser) {
    if (tls_) return RunOp(ioc_, [&](auto h) { http::async_read_some(*tls_, buffer, parser, h); });
    return RunOp(ioc_, [&](auto h) { http::async_read_some(*plain_, buffer, parser, h); });
  }

  static std::chrono::steady_clock::duration ToDuration(double seconds) {
    if (seconds <= 0) seconds = 0.001;
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(seconds));
  }

 private:
  asio::io_context& ioc_;
  bool insecure_ = false;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::optional<beast::tcp_stream> plain_;
};

class BeastKubeClient final : public KubeClient {
 public:
  BeastKubeClient(KubeRestConfig config, ServerUrl url, std::unique_ptr<ssl::context> ctx)
      : config_(std::move(config)), url_(std::move(url)), ctx_(std::move(ctx)) {}

  StatusOr<KubeResponse> Request(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& content_type,
                                 const std::string& accept) override {
    const std::string what = "kube " + method + " " + path;
    try {
      http::verb verb = http::string_to_verb(method);
      if (verb == http::verb::unknown) return InvalidArgumentError(what + ": unknown method");
      auto auth = AuthorizationHeader();
      if (!auth.ok()) return auth.status();
      asio::io_context ioc;
      Connection conn(ioc, ctx_.get());
      if (config_.insecure_skip_verify) conn.SetInsecure();
      OOMCAST_RETURN_IF_ERROR(conn.Open(url_, config_.timeout_seconds, what));
      http::request<http::string_body> req{verb, url_.base_path + path, 11};
      FillHeaders(req, *auth, accept);
      if (!body.empty() || verb == http::verb::post || verb == http::verb::put ||
          verb == http::verb::patch) {
        req.set(http::field::content_type, content_type);
        req.body() = body;
        req.prepare_payload();
      }
      ErrorCode ec = conn.Write(req);
      if (ec) return TransportError(ec, what + ": write");
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxBodyBytes);
      ec = conn.Read(buffer, parser);
      if (ec == http::error::body_limit) return ResourceExhaustedError(what + ": body too large");
      if (ec == http::error::partial_message) return DataLossError(what + ": truncated body");
      if (ec) return TransportError(ec, what + ": read");
      KubeResponse out;
      auto& res = parser.get();
      out.status_code = res.result_int();
      out.body = std::move(res.body());
      for (const auto& field : res) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(field.value());
      }
      return out;
    } catch (const std::exception& e) {
      return UnavailableError(what + ": " + e.what());
    }
  }

  Status Watch(const std::string& path, double timeout_seconds,
               const std::function<bool(const WatchEvent&)>& on_event,
               const std::string& accept) override {
    const std::string what = "kube watch " + path;
    try {
      auto auth = AuthorizationHeader();
      if (!auth.ok()) return auth.status();
      asio::io_context ioc;
      Connection conn(ioc, ctx_.get());
      if (config_.insecure_skip_verify) conn.SetInsecure();
      auto deadline = std::chrono::steady_clock::now() + Connection::ToDuration(timeout_seconds);
      OOMCAST_RETURN_IF_ERROR(
          conn.Open(url_, std::min(timeout_seconds, config_.timeout_seconds), what));
      http::request<http::empty_body> req{http::verb::get, url_.base_path + path, 11};
      FillHeaders(req, *auth, accept);
      conn.tcp().expires_at(deadline);
      ErrorCode ec = conn.Write(req);
      if (ec) return TransportError(ec, what + ": write");
      beast::flat_buffer buffer;
      http::response_parser<http::buffer_body> parser;
      parser.body_limit(boost::none);
      ec = conn.ReadHeader(buffer, parser);
      if (ec == beast::error::timeout) return Status::Ok();
      if (ec) return TransportError(ec, what + ": read header");
      int code = parser.get().result_int();
      if (code != 200) {
        // Drain the (small) error body so the caller sees the metav1.Status message.
        std::string err_body = DrainBody(conn, buffer, parser);
        KubeResponse r{code, err_body, {}};
        Status st = KubeResponseStatus(r, what);
        if (code == 410) return AbortedError(st.message());
        return st;
      }
      constexpr size_t kMaxWatchLineBytes = 16u << 20;
      std::string pending;
      char chunk[16384];
      while (!parser.is_done()) {
        parser.get().body().data = chunk;
        parser.get().body().size = sizeof(chunk);
        ec = conn.ReadSome(buffer, parser);
        if (ec == http::error::need_buffer) ec = {};
        if (ec == beast::error::timeout) return Status::Ok();  // Our own deadline: a clean end.
        if (ec == http::error::end_of_stream || ec == asio::error::eof) break;
        if (ec) return TransportError(ec, what + ": read");
        size_t got = sizeof(chunk) - parser.get().body().size;
        pending.append(chunk, got);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::string line = TrimSpace(pending.substr(0, nl));
          pending.erase(0, nl + 1);
          if (line.empty()) continue;
          if (!Dispatch(line, on_event, what)) return Status::Ok();
        }
        // One event is one object (etcd keeps objects under 1.5 MiB); a stream that sends more
        // than kMaxWatchLineBytes without a newline is broken or hostile, not buffered forever.
        if (pending.size() > kMaxWatchLineBytes) {
          return ResourceExhaustedError(what + ": watch event longer than " +
                                        std::to_string(kMaxWatchLineBytes) + " bytes");
        }
      }
      std::string rest = TrimSpace(pending);
      if (!rest.empty()) Dispatch(rest, on_event, what);
      return Status::Ok();
    } catch (const std::exception& e) {
      return UnavailableError(what + ": " + e.what());
    }
  }

 private:
  template <typename Parser>
  std::string DrainBody(Connection& conn, beast::flat_buffer& buffer, Parser& parser) {
    std::string out;
    char chunk[4096];
    while (!parser.is_done() && out.size() < (1u << 20)) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof(chunk);
      ErrorCode ec = conn.ReadSome(buffer, parser);
      if (ec == http::error::need_buffer) ec = {};
      out.append(chunk, sizeof(chunk) - parser.get().body().size);
      if (ec) break;
    }
    return out;
  }

  // Returns the callback's verdict; malformed lines are skipped (and do not stop the watch).
  static bool Dispatch(const std::string& line,
                       const std::function<bool(const WatchEvent&)>& on_event,
                       const std::string& what) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("type")) return true;
    WatchEvent ev;
    ev.type = j["type"].is_string() ? j["type"].get<std::string>() : "";
    ev.object_json = j.contains("object") ? j["object"].dump() : "{}";
    return on_event(ev);
  }

  StatusOr<std::string> AuthorizationHeader() const {
    if (!config_.bearer_token_file.empty()) {
      auto token = ReadWholeFile(config_.bearer_token_file, "bearer token file");
      if (!token.ok()) return token.status();
      return "Bearer " + TrimSpace(*token);
    }
    if (!config_.bearer_token.empty()) return "Bearer " + config_.bearer_token;
    return std::string();
  }

  template <typename Req>
  void FillHeaders(Req& req, const std::string& auth, const std::string& accept) const {
    req.set(http::field::host, url_.host);
    req.set(http::field::user_agent, "oomcast/0.1");
    req.set(http::field::accept, accept);
    if (!auth.empty()) req.set(http::field::authorization, auth);
  }

  KubeRestConfig config_;
  ServerUrl url_;
  std::unique_ptr<ssl::context> ctx_;  // Null for http://.
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
  auto url = ParseServerUrl(config.server);
  if (!url.ok()) return url.status();
  std::unique_ptr<ssl::context> ctx;
  if (url->tls) {
    try {
      ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      if (config.insecure_skip_verify) {
        ctx->set_verify_mode(ssl::verify_none);
      } else {
        ctx->set_verify_mode(ssl::verify_peer);
        if (!config.ca_file.empty()) {
          ErrorCode ec;
          ctx->load_verify_file(config.ca_file, ec);
          if (ec) return InvalidArgumentError("kube: cannot load CA file " + config.ca_file);
        } else if (!config.ca_pem.empty()) {
          ErrorCode ec;
          ctx->add_certificate_authority(asio::buffer(config.ca_pem), ec);
          if (ec) return InvalidArgumentError("kube: bad certificate-authority-data");
        } else {
          ctx->set_default_verify_paths();
        }
      }
      ErrorCode ec;
      if (!config.client_cert_file.empty()) {
        ctx->use_certificate_chain_file(config.client_cert_file, ec);
        if (ec)
          return InvalidArgumentError("kube: cannot load client certificate " +
                                      config.client_cert_file);
      } else if (!config.client_cert_pem.empty()) {
        ctx->use_certificate_chain(asio::buffer(config.client_cert_pem), ec);
        if (ec) return InvalidArgumentError("kube: bad client-certificate-data");
      }
      if (!config.client_key_file.empty()) {
        ctx->use_private_key_file(config.client_key_file, ssl::context::pem, ec);
        if (ec)
          return InvalidArgumentError("kube: cannot load client key " + config.client_key_file);
      } else if (!config.client_key_pem.empty()) {
        ctx->use_private_key(asio::buffer(config.client_key_pem), ssl::context::pem, ec);
        if (ec) return InvalidArgumentError("kube: bad client-key-data");
      }
    } catch (const std::exception& e) {
      return InvalidArgumentError(std::string("kube: TLS setup: ") + e.what());
    }
  }
  return std::unique_ptr<KubeClient>(
      std::make_unique<BeastKubeClient>(config, std::move(url).value(), std::move(ctx)));
}

}  // namespace oomcast
