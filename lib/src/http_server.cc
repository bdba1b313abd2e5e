#include "oomcast/http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "oomcast/accept_loop.h"
#include "oomcast/log.h"
#include "oomcast/url.h"

namespace oomcast {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpServerResponse PlainResponse(int status, std::string body) {
  HttpServerResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpHandler* handler, const HttpServerOptions* options,
          AcceptLoop::Slot slot)
      : stream_(std::move(socket)), handler_(handler), options_(options), slot_(std::move(slot)) {}

  void Start() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options_->max_header_bytes));
    parser_->body_limit(0);
    stream_.expires_after(
        std::chrono::milliseconds(static_cast<int64_t>(options_->idle_timeout_seconds * 1000)));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
                           ec == asio::error::eof || ec == asio::error::connection_reset ||
                           ec == asio::error::operation_aborted) {
                         return self->Close();
                       }
                       if (ec) {
                         // A malformed request: a precise answer, then the connection closes.
                         const int code = ec == http::error::header_limit ? 431
                                          : ec == http::error::body_limit ? 413
                                                                          : 400;
                         return self->Write(
                             PlainResponse(code, "bad request: " + ec.message() + "\n"), 11, false);
                       }
                       self->Handle();
                     });
  }

  void Handle() {
    const auto& req = parser_->get();
    HttpServerRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    size_t q = r.target.find('?');
    auto path = DecodeRequestPath(std::string_view(r.target).substr(0, q));
    bool valid = path.ok() && IsPrintableUtf8(r.target);
    for (const auto& f : req) {
      if (!IsPrintableUtf8(std::string_view(f.value().data(), f.value().size()), true)) {
        valid = false;
      }
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      r.headers[name] = std::string(f.value());
    }
    if (!valid) {
      return Write(PlainResponse(400,
                                 "bad request: the path and header values must be printable "
                                 "UTF-8\n"),
                   req.version(), false);
    }
    r.path = std::move(path).value();
    HttpServerResponse out;
    try {
      out = (*handler_)(r);
    } catch (const std::exception& e) {
      LogError("request handler failed", {{"path", r.path}, {"err", e.what()}});
      out = PlainResponse(500, "internal error\n");
    }
    Write(std::move(out), req.version(), req.keep_alive());
  }

  void Write(HttpServerResponse out, unsigned version, bool keep_alive) {
    res_ = {};
    res_.result(static_cast<http::status>(out.status));
    res_.version(version);
    res_.set(http::field::content_type, out.content_type);
    res_.keep_alive(keep_alive);
    res_.body() = std::move(out.body);
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->res_.keep_alive()) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> res_;
  const HttpHandler* handler_;
  const HttpServerOptions* options_;
  AcceptLoop::Slot slot_;  // Released when the session ends.
};

class BeastHttpServer final : public HttpServer {
 public:
  BeastHttpServer(HttpHandler handler, HttpServerOptions options)
      : handler_(std::move(handler)), options_(options), acceptor_(io_) {}
  ~BeastHttpServer() override { Stop(); }

  Status Listen(const std::string& host, int port) {
    beast::error_code ec;
    auto addr = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) return InvalidArgumentError("listen address: bad host \"" + host + "\"");
    tcp::endpoint ep(addr, static_cast<unsigned short>(port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return UnavailableError("listen on " + host + ":" + std::to_string(port) + ": " +
                              ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    accept_.emplace(
        io_, acceptor_, options_.max_connections, "http",
        [this](tcp::socket s, AcceptLoop::Slot slot) {
          std::make_shared<Session>(std::move(s), &handler_, &options_, std::move(slot))->Start();
        });
    accept_->Start();
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    return Status::Ok();
  }

  int port() const override { return port_; }
  int active_connections() const override { return accept_ ? accept_->active() : 0; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    if (accept_) accept_->Stop();
    asio::post(io_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    io_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  HttpHandler handler_;
  const HttpServerOptions options_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::optional<AcceptLoop> accept_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  int port_ = 0;
};

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // Allowed range of the second byte.
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // Overlong.
      if (c == 0xED) hi = 0x9F;  // Surrogates.
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // Overlong.
      if (c == 0xF4) hi = 0x8F;  // Above U+10FFFF.
    } else {
      return false;
    }
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

bool IsPrintableUtf8(std::string_view s, bool allow_tab) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7F) return false;
  }
  return IsValidUtf8(s);
}

StatusOr<std::string> DecodeRequestPath(std::string_view raw) {
  StatusOr<std::string> decoded = PercentDecode(raw);
  if (!decoded.ok()) return decoded.status().WithContext("request path");
  std::string out = *std::move(decoded);
  if (out.empty() || out.front() != '/') {
    return InvalidArgumentError("request path: must start with /");
  }
  if (!IsPrintableUtf8(out)) {
    return InvalidArgumentError("request path: not printable UTF-8 (after percent-decoding)");
  }
  return out;
}

Status ParseListenAddress(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("listen address \"" + address + "\": want host:port or :port");
  }
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string p = address.substr(colon + 1);
  char* end = nullptr;
  long v = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end != '\0' || v < 0 || v > 65535) {
    return InvalidArgumentError("listen address \"" + address + "\": bad port \"" + p + "\"");
  }
  *host = h.empty() ? "0.0.0.0" : h;
  *port = static_cast<int>(v);
  return Status::Ok();
}

StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(const std::string& listen_address,
                                                      HttpHandler handler,
                                                      HttpServerOptions options) {
  std::string host;
  int port = 0;
  OOMCAST_RETURN_IF_ERROR(ParseListenAddress(listen_address, &host, &port));
  auto server = std::make_unique<BeastHttpServer>(std::move(handler), options);
  OOMCAST_RETURN_IF_ERROR(server->Listen(host, port));
  return std::unique_ptr<HttpServer>(std::move(server));
}

StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(const std::string& listen_address,
                                                      HttpHandler handler, int threads) {
  HttpServerOptions options;
  options.threads = threads;
  return StartHttpServer(listen_address, std::move(handler), options);
}

HttpHandler OpsHandler(OpsEndpoints endpoints) {
  return [e = std::move(endpoints)](const HttpServerRequest& r) {
    if (r.method != "GET" && r.method != "HEAD") {
      return PlainResponse(405, "method not allowed\n");
    }
    if (r.path == "/healthz" || r.path == "/livez") {
      const bool ok = !e.healthy || e.healthy();
      return PlainResponse(ok ? 200 : 500, ok ? "ok\n" : "unhealthy\n");
    }
    if (r.path == "/readyz") {
      const bool ok = !e.ready || e.ready();
      return PlainResponse(ok ? 200 : 503, ok ? "ok\n" : "not ready\n");
    }
    if (r.path == "/metrics") {
      HttpServerResponse res = PlainResponse(200, e.metrics ? e.metrics() : "");
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return res;
    }
    return PlainResponse(404, "not found; try /metrics, /healthz, /readyz\n");
  };
}

}  // namespace oomcast
