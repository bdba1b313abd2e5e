// The HTTP client boundary: the one client stack of every outgoing call (Prometheus API,
// Kubernetes API with its watches, the adapter's upstream provider). Domain code talks to this
// interface; the implementation (Boost.Beast + OpenSSL, lib/src/http_client.cc) is built by
// NewHttpClient() in main, and tests use a table-driven fake (tests/support/fake_http_client.h).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oomcast/status.h"

namespace oomcast {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // Absolute: scheme://host:port/path?query (oomcast/url.h ParseUrl).
  // Sent in order; names may repeat (X-Remote-Group). Host and User-Agent are added when absent;
  // a body without a Content-Type is sent as application/octet-stream.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double timeout_seconds = 30;  // Whole request, connect to last byte (seconds; <= 0: 30).
  // Bound on connect + TLS handshake within timeout_seconds (seconds; <= 0: no extra bound).
  // Lets a long watch fail fast when the server is unreachable.
  double connect_timeout_seconds = 0;
};

struct HttpResponse {
  int status_code = 0;
  std::map<std::string, std::string> headers;  // Lowercased names; a repeated name keeps the last.
  std::string body;
};

// TLS and limits of one client. Files are read, and all PEM material checked, when the client
// is built (kInvalidArgument naming the file otherwise). A *_file wins over its *_pem.
struct HttpClientOptions {
  std::string ca_file;  // PEM bundle that verifies servers; with ca_pem empty too: system roots.
  std::string ca_pem;
  std::string client_cert_file;  // PEM client certificate chain (mutual TLS); empty: none.
  std::string client_cert_pem;
  std::string client_key_file;  // PEM key of the client certificate; given with the certificate.
  std::string client_key_pem;
  bool insecure_skip_verify = false;       // No certificate or host name verification.
  size_t max_response_bytes = 256u << 20;  // Do(): larger bodies fail with kResourceExhausted.
};

// Thread-safe: Do() and Stream() may be called concurrently.
class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Performs one request. Any HTTP status is a successful StatusOr (the caller interprets it);
  // errors are transport failures only: kUnavailable (resolve/connect/reset/TLS/malformed
  // response head), kDeadlineExceeded (timeout_seconds passed), kResourceExhausted (body over
  // max_response_bytes), kDataLoss (body cut short or malformed chunking); and kInvalidArgument
  // for a malformed URL or method. Messages name the method and the URL.
  virtual StatusOr<HttpResponse> Do(const HttpRequest& request) = 0;

  // Performs one request and hands the response over as it arrives: `on_head` once with the
  // status and headers (empty body), then `on_body` with successive pieces of the body (sizes
  // are arbitrary: a piece may hold part of a line or several lines). Either returning false
  // ends the call with OK and closes the connection. The body is not size-capped (the caller
  // bounds what it keeps). Returns OK when the body ends cleanly, else the errors of Do();
  // kDeadlineExceeded also once the head has arrived (a watch's own deadline).
  // The default implementation (for fakes) calls Do() and passes the whole body at once.
  virtual Status Stream(const HttpRequest& request,
                        const std::function<bool(const HttpResponse& head)>& on_head,
                        const std::function<bool(std::string_view piece)>& on_body);
};

// The Beast + OpenSSL client: one connection per request (closed afterwards), TLS 1.2+, SNI and
// host name verification (IP addresses against IP SANs). Name resolution is the system
// resolver's and not bounded by timeout_seconds.
StatusOr<std::unique_ptr<HttpClient>> NewHttpClient(const HttpClientOptions& options);

}  // namespace oomcast
