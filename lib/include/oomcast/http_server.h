// A small plain-HTTP/1.1 server for operational endpoints (/metrics, /healthz, /readyz).
// Not for the aggregated API (that is HTTPS, in metrics-adapter/). Boost.Beast inside; no
// third-party types here.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "oomcast/status.h"

namespace oomcast {

struct HttpServerRequest {
  std::string method;
  std::string target;                          // Path and query as sent.
  std::string path;                            // Target without the query.
  std::map<std::string, std::string> headers;  // Lowercased names.
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called concurrently from the server's threads; must be thread-safe.
using HttpHandler = std::function<HttpServerResponse(const HttpServerRequest&)>;

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // The bound TCP port (useful with port 0).
  virtual int port() const = 0;
  // Stops accepting, closes connections and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

// Listens on `listen_address` ("host:port", ":port" = all interfaces; port 0 picks a free one)
// with `threads` worker threads. kInvalidArgument for a malformed address, kUnavailable when
// the address cannot be bound.
StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(const std::string& listen_address,
                                                      HttpHandler handler, int threads = 2);

// Splits "host:port" / ":port" / "[::1]:port". Errors name the address.
Status ParseListenAddress(const std::string& address, std::string* host, int* port);

}  // namespace oomcast
