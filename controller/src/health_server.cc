#include "oomcast/controller/health_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace oomcast::controller {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HealthHandlers* handlers)
      : stream_(std::move(socket)), handlers_(handlers) {}

  void Start() {
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->Respond();
                     });
  }

 private:
  void Respond() {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(request_.version());
    res->keep_alive(false);
    std::string target(request_.target());
    std::string path = target.substr(0, target.find('?'));
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      res->result(http::status::method_not_allowed);
      res->body() = "method not allowed\n";
    } else if (path == "/healthz" || path == "/livez") {
      bool ok = !handlers_->healthy || handlers_->healthy();
      res->result(ok ? http::status::ok : http::status::internal_server_error);
      res->body() = ok ? "ok\n" : "unhealthy\n";
    } else if (path == "/readyz") {
      bool ok = !handlers_->ready || handlers_->ready();
      res->result(ok ? http::status::ok : http::status::service_unavailable);
      res->body() = ok ? "ok\n" : "not ready\n";
    } else if (path == "/metrics") {
      res->result(http::status::ok);
      res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res->body() = handlers_->metrics ? handlers_->metrics() : "";
    } else {
      res->result(http::status::not_found);
      res->body() = "not found\n";
    }
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  const HealthHandlers* handlers_;
};

}  // namespace

struct HealthServer::Impl {
  HealthHandlers handlers;
  asio::io_context ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  int port = 0;

  void Accept() {
    acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // Closed by Stop().
      std::make_shared<Session>(std::move(socket), &handlers)->Start();
      Accept();
    });
  }
};

HealthServer::HealthServer(HealthHandlers handlers) : impl_(std::make_unique<Impl>()) {
  impl_->handlers = std::move(handlers);
}

HealthServer::~HealthServer() { Stop(); }

Status HealthServer::Start(const std::string& listen_address) {
  size_t colon = listen_address.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("listen address \"" + listen_address + "\": expected HOST:PORT");
  }
  std::string host = listen_address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  int port = 0;
  try {
    port = std::stoi(listen_address.substr(colon + 1));
  } catch (const std::exception&) {
    return InvalidArgumentError("listen address \"" + listen_address + "\": bad port");
  }
  try {
    beast::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return InvalidArgumentError("listen address \"" + listen_address + "\": bad host");
    tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
    impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->ioc);
    impl_->acceptor->open(endpoint.protocol());
    impl_->acceptor->set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor->bind(endpoint, ec);
    if (ec) return UnavailableError("listen " + listen_address + ": " + ec.message());
    impl_->acceptor->listen();
    impl_->port = impl_->acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    return UnavailableError("listen " + listen_address + ": " + e.what());
  }
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
  return Status::Ok();
}

void HealthServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->ioc.stop();
  impl_->thread.join();
}

int HealthServer::port() const { return impl_->port; }

}  // namespace oomcast::controller
