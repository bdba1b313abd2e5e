// A small plain-HTTP/1.1 server for operational endpoints (/metrics, /healthz, /readyz).
// Not for the aggregated API (that is HTTPS, in metrics-adapter/). Boost.Beast inside; no
// third-party types here.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "oomcast/status.h"

namespace oomcast {

struct HttpServerRequest {
  std::string method;
  std::string target;                          // Path and query as sent.
  std::string path;                            // Target without the query, percent-decoded.
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
  // Connections open now.
  virtual int active_connections() const = 0;
  // Stops accepting, closes connections and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

// Limits of the server; every request beyond them gets a precise answer or waits in the
// listen backlog, and the process never spins (see oomcast/accept_loop.h).
struct HttpServerOptions {
  int threads = 2;
  // Connections open at once; more wait in the kernel's listen backlog.
  int max_connections = 256;
  // A connection is closed when a whole request has not arrived this long after the previous
  // response (or the accept): keep-alive idleness and slow senders alike.
  double idle_timeout_seconds = 30;
  // Request line and headers; larger requests get 431 and the connection closes. Requests
  // with a body get 413 (the ops endpoints take none).
  size_t max_header_bytes = 16 << 10;
};

// Listens on `listen_address` ("host:port", ":port" = all interfaces; port 0 picks a free one).
// kInvalidArgument for a malformed address, kUnavailable when the address cannot be bound.
// Malformed requests, request paths (percent-decoded) or header values that are not printable
// UTF-8 get 400 and the connection closes, before the handler sees them; `path` is decoded.
// An exception from the handler gives 500.
StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(const std::string& listen_address,
                                                      HttpHandler handler,
                                                      HttpServerOptions options);
StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(const std::string& listen_address,
                                                      HttpHandler handler, int threads = 2);

// The operational endpoints every binary serves: /healthz and /livez (200 "ok", 500 when
// `healthy` says so), /readyz (200 or 503), /metrics (Prometheus text format), 405 for methods
// other than GET and HEAD, 404 otherwise. Unset functions mean healthy, ready, no metrics.
struct OpsEndpoints {
  std::function<bool()> healthy;
  std::function<bool()> ready;
  std::function<std::string()> metrics;
};
HttpHandler OpsHandler(OpsEndpoints endpoints);

// Input checks every server applies where request bytes enter, before any of them reaches an
// encoder (JSON, logs) or a decision:
// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF).
bool IsValidUtf8(std::string_view s);
// True when `s` is valid UTF-8 without control characters (U+0000..U+001F, U+007F); horizontal
// tab is allowed when `allow_tab` (header values, RFC 9110 field-value).
bool IsPrintableUtf8(std::string_view s, bool allow_tab = false);
// Percent-decodes a request path (RFC 3986; '+' stays '+'). kInvalidArgument for a malformed
// escape, or when the decoded path is not printable UTF-8 (IsPrintableUtf8) or does not start
// with '/'.
StatusOr<std::string> DecodeRequestPath(std::string_view raw_path);

// Splits "host:port" / ":port" / "[::1]:port". Errors name the address.
Status ParseListenAddress(const std::string& address, std::string* host, int* port);

}  // namespace oomcast
