#include "oomcast/http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>
#include <vector>

#include "oomcast/log.h"

namespace oomcast {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpHandler* handler)
      : stream_(std::move(socket)), handler_(handler) {}

  void Start() { Read(); }

 private:
  void Read() {
    req_ = {};
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, req_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->Handle();
                     });
  }

  void Handle() {
    HttpServerRequest r;
    r.method = std::string(req_.method_string());
    r.target = std::string(req_.target());
    size_t q = r.target.find('?');
    r.path = q == std::string::npos ? r.target : r.target.substr(0, q);
    for (const auto& f : req_) {
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      r.headers[name] = std::string(f.value());
    }
    HttpServerResponse out;
    try {
      out = (*handler_)(r);
    } catch (const std::exception& e) {
      out = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what()};
    }
    res_ = {};
    res_.result(static_cast<http::status>(out.status));
    res_.version(req_.version());
    res_.set(http::field::content_type, out.content_type);
    res_.keep_alive(req_.keep_alive());
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
  http::request<http::empty_body> req_;
  http::response<http::string_body> res_;
  const HttpHandler* handler_;
};

class BeastHttpServer final : public HttpServer {
 public:
  explicit BeastHttpServer(HttpHandler handler) : handler_(std::move(handler)), acceptor_(io_) {}
  ~BeastHttpServer() override { Stop(); }

  Status Listen(const std::string& host, int port, int threads) {
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
    Accept();
    for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { io_.run(); });
    return Status::Ok();
  }

  int port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
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
  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (stopped_) return;
      } else {
        std::make_shared<Session>(std::move(s), &handler_)->Start();
      }
      Accept();
    });
  }

  HttpHandler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  int port_ = 0;
};

}  // namespace

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
                                                      HttpHandler handler, int threads) {
  std::string host;
  int port = 0;
  OOMCAST_RETURN_IF_ERROR(ParseListenAddress(listen_address, &host, &port));
  auto server = std::make_unique<BeastHttpServer>(std::move(handler));
  OOMCAST_RETURN_IF_ERROR(server->Listen(host, port, threads));
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace oomcast
