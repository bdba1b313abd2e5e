// HttpClient on Boost.Beast + OpenSSL. Each call owns one connection and a private io_context;
// every step is an asynchronous operation under a beast::tcp_stream deadline, run to
// completion on that io_context, so timeouts hold for connect, TLS handshake, request, headers
// and body alike. Every Boost, Beast and OpenSSL error is turned into a Status naming the
// method and URL here; nothing throws past this file.
#include "oomcast/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "oomcast/url.h"

namespace oomcast {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kReadPieceBytes = 64 << 10;
constexpr uint32_t kMaxHeaderBytes = 64 << 10;
constexpr size_t kMaxUrlInMessage = 300;
constexpr char kUserAgent[] = "oomcast/0.1";

std::chrono::steady_clock::duration ToDuration(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

std::string FormatSeconds(double s) {
  std::ostringstream ss;
  ss << s;
  return ss.str();
}

StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read " + std::string(what) + " " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return InvalidArgumentError("cannot read " + std::string(what) + " " + path);
  }
  return ss.str();
}

// The file's contents when `file` is set, else `pem`.
StatusOr<std::string> FileOrPem(const std::string& file, const std::string& pem,
                                std::string_view what) {
  if (file.empty()) return pem;
  return ReadFile(file, what);
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

// One connection, plain or TLS.
class Connection {
 public:
  Connection(asio::io_context& ioc, ssl::context* tls) {
    if (tls != nullptr) {
      tls_.emplace(ioc, *tls);
    } else {
      plain_.emplace(ioc);
    }
  }

  beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  bool is_tls() const { return tls_.has_value(); }

  // SNI (names only) and, unless `insecure`, host name verification: IP addresses are matched
  // against IP SANs.
  void PrepareTls(const std::string& host, bool insecure) {
    ErrorCode addr_ec;
    asio::ip::make_address(host, addr_ec);
    if (addr_ec) SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    if (!insecure) tls_->set_verify_callback(ssl::host_name_verification(host));
  }

  ErrorCode Handshake(asio::io_context& ioc) {
    return RunOp(ioc, [&](auto h) { tls_->async_handshake(ssl::stream_base::client, h); });
  }
  template <typename Message>
  ErrorCode Write(asio::io_context& ioc, Message& msg) {
    if (tls_) return RunOp(ioc, [&](auto h) { http::async_write(*tls_, msg, h); });
    return RunOp(ioc, [&](auto h) { http::async_write(*plain_, msg, h); });
  }
  template <typename Parser>
  ErrorCode ReadHeader(asio::io_context& ioc, beast::flat_buffer& buffer, Parser& parser) {
    if (tls_) return RunOp(ioc, [&](auto h) { http::async_read_header(*tls_, buffer, parser, h); });
    return RunOp(ioc, [&](auto h) { http::async_read_header(*plain_, buffer, parser, h); });
  }
  template <typename Parser>
  ErrorCode ReadSome(asio::io_context& ioc, beast::flat_buffer& buffer, Parser& parser) {
    if (tls_) return RunOp(ioc, [&](auto h) { http::async_read_some(*tls_, buffer, parser, h); });
    return RunOp(ioc, [&](auto h) { http::async_read_some(*plain_, buffer, parser, h); });
  }

 private:
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::optional<beast::tcp_stream> plain_;
};

// "GET http://host:9090/api/v1/query?..." as named in error messages (long URLs are cut).
std::string Describe(const HttpRequest& request) {
  if (request.url.size() <= kMaxUrlInMessage) return request.method + " " + request.url;
  return request.method + " " + request.url.substr(0, kMaxUrlInMessage) + "...";
}

bool IsTruncation(const ErrorCode& ec) {
  return ec == http::error::partial_message || ec == http::error::end_of_stream ||
         ec == asio::error::eof || ec == ssl::error::stream_truncated;
}

using HeadFn = std::function<bool(const HttpResponse&)>;
using BodyFn = std::function<bool(std::string_view)>;

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(HttpClientOptions options, std::unique_ptr<ssl::context> tls)
      : options_(std::move(options)), tls_(std::move(tls)) {}

  StatusOr<HttpResponse> Do(const HttpRequest& request) override {
    const size_t cap = options_.max_response_bytes;
    HttpResponse out;
    Status over_cap;
    Status st = Exchange(
        request,
        [&](const HttpResponse& head) {
          out.status_code = head.status_code;
          out.headers = head.headers;
          // Content-Length, when sent, is checked before reading a byte (Beast has validated it).
          if (auto it = out.headers.find("content-length"); it != out.headers.end()) {
            unsigned long long n = std::strtoull(it->second.c_str(), nullptr, 10);
            if (n > cap) {
              over_cap = ResourceExhaustedError(
                  Describe(request) + ": response of " + std::to_string(n) + " bytes exceeds the " +
                  std::to_string(cap) + " byte limit (Content-Length)");
              return false;
            }
            out.body.reserve(static_cast<size_t>(n));
          }
          return true;
        },
        [&](std::string_view piece) {
          if (piece.size() > cap - out.body.size()) {
            over_cap = ResourceExhaustedError(Describe(request) + ": response body exceeds the " +
                                              std::to_string(cap) + " byte limit");
            return false;
          }
          out.body.append(piece);
          return true;
        });
    if (!st.ok()) return st;
    if (!over_cap.ok()) return over_cap;
    return out;
  }

  Status Stream(const HttpRequest& request, const HeadFn& on_head, const BodyFn& on_body) override {
    return Exchange(request, on_head, on_body);
  }

 private:
  Status Exchange(const HttpRequest& request, const HeadFn& on_head, const BodyFn& on_body) {
    const std::string what = Describe(request);
    try {
      return ExchangeOrThrow(request, what, on_head, on_body);
    } catch (const std::exception& e) {  // Allocation, or a Beast/Asio call that throws.
      return UnavailableError(what + ": " + e.what());
    }
  }

  Status ExchangeOrThrow(const HttpRequest& request, const std::string& what, const HeadFn& on_head,
                         const BodyFn& on_body) {
    StatusOr<Url> url = ParseUrl(request.url);
    if (!url.ok()) return InvalidArgumentError(request.method + " " + url.status().message());
    const http::verb verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) return InvalidArgumentError(what + ": unsupported method");

    const double timeout_s = request.timeout_seconds > 0 ? request.timeout_seconds : 30;
    const SteadyTime start = std::chrono::steady_clock::now();
    const SteadyTime deadline = start + ToDuration(timeout_s);
    double connect_s = timeout_s;
    if (request.connect_timeout_seconds > 0 && request.connect_timeout_seconds < timeout_s) {
      connect_s = request.connect_timeout_seconds;
    }
    auto timed_out = [&](double seconds, std::string_view phase) {
      return DeadlineExceededError(what + ": timed out after " + FormatSeconds(seconds) + " s " +
                                   std::string(phase));
    };

    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    ErrorCode ec = RunOp(ioc, [&](auto handler) {
      resolver.async_resolve(url->host, url->port,
                             [&, handler](ErrorCode e, tcp::resolver::results_type r) mutable {
                               endpoints = std::move(r);
                               handler(e);
                             });
    });
    if (ec) return UnavailableError(what + ": resolve " + url->host + ": " + ec.message());

    Connection conn(ioc, url->tls() ? tls_.get() : nullptr);
    conn.tcp().expires_at(start + ToDuration(connect_s));
    ec = RunOp(ioc, [&](auto h) { conn.tcp().async_connect(endpoints, h); });
    if (ec == beast::error::timeout) return timed_out(connect_s, "connecting");
    if (ec) return UnavailableError(what + ": connect: " + ec.message());
    if (conn.is_tls()) {
      conn.PrepareTls(url->host, options_.insecure_skip_verify);
      ec = conn.Handshake(ioc);
      if (ec == beast::error::timeout) return timed_out(connect_s, "in the TLS handshake");
      if (ec) return UnavailableError(what + ": TLS handshake: " + ec.message());
    }

    conn.tcp().expires_at(deadline);
    http::request<http::string_body> req{verb, url->Target(), 11};
    for (const auto& [name, value] : request.headers) req.insert(name, value);
    if (req.find(http::field::host) == req.end()) req.set(http::field::host, url->HostHeader());
    if (req.find(http::field::user_agent) == req.end()) {
      req.set(http::field::user_agent, kUserAgent);
    }
    if (!request.body.empty() && req.find(http::field::content_type) == req.end()) {
      req.set(http::field::content_type, "application/octet-stream");
    }
    req.keep_alive(false);
    req.body() = request.body;
    req.prepare_payload();
    ec = conn.Write(ioc, req);
    if (ec == beast::error::timeout) return timed_out(timeout_s, "sending the request");
    if (ec) return UnavailableError(what + ": sending the request: " + ec.message());

    beast::flat_buffer buffer;
    // Beast reads at most the buffer's free capacity (>= 512 bytes, <= 64 KiB) per system call:
    // without room reserved, large bodies arrive in tiny reads at several times the CPU cost.
    buffer.reserve(kReadPieceBytes);
    http::response_parser<http::buffer_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    // Do() caps what it keeps; a watch never ends. (Not boost::none: Beast 1.74 compares a
    // Content-Length against an empty optional limit as exceeding it.)
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    ec = conn.ReadHeader(ioc, buffer, parser);
    if (ec == beast::error::timeout) return timed_out(timeout_s, "waiting for response headers");
    if (ec) return UnavailableError(what + ": reading response headers: " + ec.message());
    {
      HttpResponse head;
      const auto& msg = parser.get();
      head.status_code = static_cast<int>(msg.result_int());
      for (const auto& field : msg) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        head.headers[std::move(name)] = std::string(field.value());
      }
      if (!on_head(head)) return Status::Ok();
    }

    std::unique_ptr<char[]> piece(new char[kReadPieceBytes]);
    uint64_t total = 0;
    while (!parser.is_done()) {
      parser.get().body().data = piece.get();
      parser.get().body().size = kReadPieceBytes;
      ec = conn.ReadSome(ioc, buffer, parser);
      if (ec == http::error::need_buffer) ec = {};
      const size_t got = kReadPieceBytes - parser.get().body().size;
      if (got > 0) {
        total += got;
        if (!on_body(std::string_view(piece.get(), got))) return Status::Ok();
      }
      if (ec == beast::error::timeout) return timed_out(timeout_s, "reading the response body");
      if (ec) {
        std::string msg =
            what + ": truncated response body after " + std::to_string(total) + " bytes";
        if (auto n = parser.content_length()) {
          msg += " of " + std::to_string(*n) + " (Content-Length)";
        }
        if (!IsTruncation(ec)) msg += ": " + ec.message();
        return DataLossError(msg);
      }
    }
    return Status::Ok();
  }

  const HttpClientOptions options_;
  const std::unique_ptr<ssl::context> tls_;
};

}  // namespace

Status HttpClient::Stream(const HttpRequest& request,
                          const std::function<bool(const HttpResponse& head)>& on_head,
                          const std::function<bool(std::string_view piece)>& on_body) {
  StatusOr<HttpResponse> response = Do(request);
  if (!response.ok()) return response.status();
  HttpResponse head = *std::move(response);
  std::string body = std::move(head.body);
  head.body.clear();
  if (on_head(head) && !body.empty()) on_body(body);
  return Status::Ok();
}

StatusOr<std::unique_ptr<HttpClient>> NewHttpClient(const HttpClientOptions& options) {
  if (options.max_response_bytes == 0) {
    return InvalidArgumentError("max_response_bytes must be > 0");
  }
  StatusOr<std::string> ca = FileOrPem(options.ca_file, options.ca_pem, "TLS CA file");
  if (!ca.ok()) return ca.status();
  StatusOr<std::string> cert =
      FileOrPem(options.client_cert_file, options.client_cert_pem, "TLS client certificate");
  if (!cert.ok()) return cert.status();
  StatusOr<std::string> key =
      FileOrPem(options.client_key_file, options.client_key_pem, "TLS client key");
  if (!key.ok()) return key.status();
  if (cert->empty() != key->empty()) {
    return InvalidArgumentError("TLS client certificate and key must be given together");
  }
  // Names the material in errors: the file when there is one.
  auto name = [](const std::string& file, std::string_view inline_what) {
    return file.empty() ? std::string(inline_what) : file;
  };
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_client);
  ErrorCode ec;
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (!ca->empty()) {
    tls->add_certificate_authority(asio::buffer(*ca), ec);
    if (ec) {
      return InvalidArgumentError("bad TLS CA " + name(options.ca_file, "(inline PEM)") + ": " +
                                  ec.message());
    }
  } else {
    tls->set_default_verify_paths(ec);  // No system roots: verification fails per request.
  }
  tls->set_verify_mode(options.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer, ec);
  if (!cert->empty()) {
    tls->use_certificate_chain(asio::buffer(*cert), ec);
    if (ec) {
      return InvalidArgumentError("bad TLS client certificate " +
                                  name(options.client_cert_file, "(inline PEM)") + ": " +
                                  ec.message());
    }
    tls->use_private_key(asio::buffer(*key), ssl::context::pem, ec);
    if (ec) {
      return InvalidArgumentError("bad TLS client key " +
                                  name(options.client_key_file, "(inline PEM)") + ": " +
                                  ec.message());
    }
  }
  return std::unique_ptr<HttpClient>(std::make_unique<BeastHttpClient>(options, std::move(tls)));
}

}  // namespace oomcast
