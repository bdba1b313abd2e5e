#include "oomcast/metrics_adapter/upstream.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "oomcast/log.h"
#include "oomcast/metrics_adapter/api_objects.h"
#include "oomcast/metrics_adapter/metrics_api.h"

namespace oomcast::metrics_adapter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct ParsedUrl {
  bool tls = true;
  std::string host;
  std::string port;
  std::string target;  // Path and query; "/" when empty.
};

StatusOr<ParsedUrl> ParseUrl(const std::string& url) {
  ParsedUrl u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    u.tls = false;
    rest = url.substr(7);
  } else {
    return InvalidArgumentError("url " + url + ": scheme must be http or https");
  }
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string::npos) return InvalidArgumentError("url " + url + ": bad IPv6 host");
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      u.port = hostport.substr(close + 2);
  } else {
    size_t colon = hostport.rfind(':');
    u.host = hostport.substr(0, colon);
    if (colon != std::string::npos) u.port = hostport.substr(colon + 1);
  }
  if (u.host.empty()) return InvalidArgumentError("url " + url + ": no host");
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return u;
}

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(HttpClientOptions options, std::shared_ptr<ssl::context> ctx)
      : options_(std::move(options)), ctx_(std::move(ctx)) {}

  StatusOr<HttpResponse> Do(const HttpRequest& request) override {
    auto url = ParseUrl(request.url);
    if (!url.ok()) return url.status();
    const auto deadline =
        std::chrono::milliseconds(static_cast<int64_t>(request.timeout_seconds * 1000));
    asio::io_context ioc;
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(url->host, url->port, ec);
    if (ec) return UnavailableError("resolve " + url->host + ": " + ec.message());
    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(url->target);
    req.version(11);
    req.set(http::field::host, url->host);
    req.set(http::field::user_agent, "oomcast-metrics-adapter");
    for (const auto& [k, v] : request.headers) req.insert(k, v);
    if (!request.body.empty()) req.body() = request.body;
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    beast::flat_buffer buffer;
    auto run = [&](auto& stream, auto& lowest) -> Status {
      lowest.expires_after(deadline);
      lowest.async_connect(results, [&](beast::error_code e, const auto&) { ec = e; });
      ioc.run();
      ioc.restart();
      if (ec) return UnavailableError("connect " + request.url + ": " + ec.message());
      if constexpr (!std::is_same_v<std::decay_t<decltype(stream)>, beast::tcp_stream>) {
        SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str());
        if (!options_.insecure_skip_verify) {
          stream.set_verify_callback(ssl::host_name_verification(url->host));
        }
        stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
        ioc.run();
        ioc.restart();
        if (ec) return UnavailableError("tls handshake with " + request.url + ": " + ec.message());
      }
      http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
      ioc.run();
      ioc.restart();
      if (ec) return UnavailableError("write " + request.url + ": " + ec.message());
      http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
      ioc.run();
      ioc.restart();
      if (ec == beast::error::timeout) {
        return DeadlineExceededError("read " + request.url + ": timeout");
      }
      if (ec == http::error::body_limit) {
        return ResourceExhaustedError("read " + request.url + ": response too large");
      }
      if (ec) return UnavailableError("read " + request.url + ": " + ec.message());
      return Status::Ok();
    };
    Status st;
    if (url->tls) {
      beast::ssl_stream<beast::tcp_stream> stream(ioc, *ctx_);
      st = run(stream, beast::get_lowest_layer(stream));
    } else {
      beast::tcp_stream stream(ioc);
      st = run(stream, stream);
    }
    if (!st.ok()) return st;
    HttpResponse resp;
    auto& msg = parser.get();
    resp.status_code = static_cast<int>(msg.result_int());
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      resp.headers[name] = std::string(f.value());
    }
    resp.body = std::move(msg.body());
    return resp;
  }

 private:
  HttpClientOptions options_;
  std::shared_ptr<ssl::context> ctx_;
};

}  // namespace

StatusOr<std::unique_ptr<HttpClient>> NewBeastHttpClient(const HttpClientOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  if (options.insecure_skip_verify) {
    ctx->set_verify_mode(ssl::verify_none);
  } else {
    ctx->set_verify_mode(ssl::verify_peer);
    if (!options.ca_file.empty()) {
      ctx->load_verify_file(options.ca_file, ec);
      if (ec) return InvalidArgumentError("ca file " + options.ca_file + ": " + ec.message());
    } else {
      ctx->set_default_verify_paths(ec);
    }
  }
  if (!options.client_cert_file.empty()) {
    ctx->use_certificate_chain_file(options.client_cert_file, ec);
    if (ec) {
      return InvalidArgumentError("client certificate " + options.client_cert_file + ": " +
                                  ec.message());
    }
    ctx->use_private_key_file(options.client_key_file, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgumentError("client key " + options.client_key_file + ": " + ec.message());
    }
  }
  return std::unique_ptr<HttpClient>(new BeastHttpClient(options, std::move(ctx)));
}

// ---------------------------------------------------------------------------------------------

Upstream::Upstream(UpstreamOptions options, HttpClient* http, const Clock* clock)
    : options_(std::move(options)), http_(http), clock_(clock) {
  while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
}

std::string EncodePath(std::string_view path) {
  static const std::string_view kKeep =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/:@!$&'()*+,;=";
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (kKeep.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

ServerResponse Upstream::Forward(const ServerRequest& request, const UserInfo& user) {
  HttpRequest req;
  req.method = "GET";
  // The decoded path that was authorized, re-encoded canonically: what the upstream serves is
  // exactly what the caller was allowed to read.
  req.url = options_.url + EncodePath(request.path);
  if (!request.query.empty()) req.url += "?" + std::string(request.query);
  req.timeout_seconds = options_.timeout_seconds;
  req.headers.emplace_back("Accept", "application/json");
  if (!options_.token_file.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + ReadTrimmed(options_.token_file));
  }
  if (!options_.client_cert_file.empty()) {
    req.headers.emplace_back("X-Remote-User", user.name);
    for (const std::string& g : user.groups) req.headers.emplace_back("X-Remote-Group", g);
    for (const auto& [k, vs] : user.extra) {
      std::string escaped;
      for (char c : k) {
        unsigned char u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
          escaped.push_back(c);
        } else {
          char buf[4];
          std::snprintf(buf, sizeof buf, "%%%02X", u);
          escaped += buf;
        }
      }
      for (const std::string& v : vs) req.headers.emplace_back("X-Remote-Extra-" + escaped, v);
    }
  }
  auto resp = http_->Do(req);
  if (!resp.ok()) {
    LogWarn("upstream request failed", {{"url", req.url}, {"err", resp.status().ToString()}});
    return {503,
            "application/json",
            StatusObjectJson(
                503, "ServiceUnavailable",
                "upstream external metrics provider unavailable: " + resp.status().message()),
            {}};
  }
  ServerResponse out;
  out.code = resp->status_code;
  out.body = std::move(resp->body);
  return out;
}

Status Upstream::RefreshDiscovery() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_refresh_attempt_ = clock_->NowUnixSeconds();
  }
  HttpRequest req;
  req.url = options_.url + "/apis/external.metrics.k8s.io/v1beta1";
  req.timeout_seconds = options_.timeout_seconds;
  req.headers.emplace_back("Accept", "application/json");
  if (!options_.token_file.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + ReadTrimmed(options_.token_file));
  }
  if (!options_.client_cert_file.empty()) {
    req.headers.emplace_back("X-Remote-User", "system:serviceaccount:oomcast:discovery");
    req.headers.emplace_back("X-Remote-Group", "system:authenticated");
  }
  auto resp = http_->Do(req);
  if (!resp.ok()) return resp.status().WithContext("upstream discovery");
  if (resp->status_code != 200) {
    return UnavailableError("upstream discovery: HTTP " + std::to_string(resp->status_code));
  }
  std::vector<std::pair<std::string, std::string>> resources;
  try {
    auto j = nlohmann::json::parse(resp->body);
    for (const auto& r : j.at("resources")) {
      std::string name = r.at("name").get<std::string>();
      if (MetricIndex(name) >= 0) continue;  // Ours win.
      resources.emplace_back(name, r.dump());
    }
  } catch (const std::exception& e) {
    return DataLossError(std::string("upstream discovery: malformed APIResourceList: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  resources_ = std::move(resources);
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> Upstream::Resources() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resources_;
}

bool Upstream::DiscoveryDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  return clock_->NowUnixSeconds() - last_refresh_attempt_ >= options_.discovery_refresh_seconds;
}

}  // namespace oomcast::metrics_adapter
