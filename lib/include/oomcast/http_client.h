// The HTTP client boundary. Domain code talks to this interface; the cpprestsdk implementation
// lives behind NewCpprestHttpClient() so it can be replaced, and tests use a table-driven fake.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "oomcast/status.h"

namespace oomcast {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // Absolute: scheme://host:port/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double timeout_seconds = 30;  // Whole request, connect to last byte.
};

struct HttpResponse {
  int status_code = 0;
  std::map<std::string, std::string> headers;  // Lowercased names.
  std::string body;
};

// TLS and limits of one client. Paths are read when the client is built.
struct HttpClientOptions {
  std::string ca_file;           // PEM bundle to verify the server; empty: system roots.
  std::string client_cert_file;  // PEM client certificate (mutual TLS); empty: none.
  std::string client_key_file;   // PEM key of the client certificate.
  bool insecure_skip_verify = false;
  size_t max_response_bytes = 256u << 20;  // Larger bodies fail with kResourceExhausted.
};

// Thread-safe: Do() may be called concurrently.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Performs one request. Any HTTP status is a successful StatusOr (the caller interprets it);
  // errors are transport failures only: kUnavailable (connect/reset/TLS), kDeadlineExceeded
  // (timeout), kResourceExhausted (body over max_response_bytes), kDataLoss (truncated body);
  // and kInvalidArgument for a malformed URL. Messages name the method and the URL.
  virtual StatusOr<HttpResponse> Do(const HttpRequest& request) = 0;
};

// cpprestsdk-backed client. Fails with kInvalidArgument when a TLS file cannot be read.
StatusOr<std::unique_ptr<HttpClient>> NewCpprestHttpClient(const HttpClientOptions& options);

}  // namespace oomcast
