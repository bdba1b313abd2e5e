// The HTTPS server of the adapter: Boost.Beast over Boost.Asio + OpenSSL, asynchronous, a small
// pool of I/O threads, HTTP/1.1 keep-alive. It requests (never requires) a client certificate,
// classifies it once per connection with a CertificateVerifier, and hands each request to a
// RequestHandler. The serving certificate and key are re-read when their files change.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/metrics_adapter/auth.h"
#include "oomcast/status.h"

namespace oomcast::metrics_adapter {

struct ServerRequest {
  std::string method;
  std::string target;                  // As sent: path?query.
  std::string_view path;               // Into target.
  std::string_view query;              // Into target, without '?'.
  Headers headers;                     // Names lowercased, in order.
  const PeerIdentity* peer = nullptr;  // Never null while the handler runs.
  std::string remote_address;

  // First value of header `lower_name`, or empty.
  std::string_view Header(std::string_view lower_name) const;
};

struct ServerResponse {
  int code = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Extra headers.
};

// Called concurrently from the server's threads. With may_block = false (an I/O thread) the
// handler returns nullopt when answering needs a blocking call (an uncached TokenReview or
// SubjectAccessReview); the server then calls again with may_block = true from a worker pool.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual std::optional<ServerResponse> Handle(const ServerRequest& request, bool may_block) = 0;
};

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 6443;  // 0: pick a free port (see HttpsServer::port()).
  int io_threads = 2;
  int blocking_threads = 4;
  std::string cert_file;                    // PEM certificate chain.
  std::string key_file;                     // PEM private key.
  double reload_poll_seconds = 1;           // How often the files' mtimes are checked (on accept).
  std::vector<std::string> client_ca_pems;  // Advertised acceptable client CAs (union).
  double idle_timeout_seconds = 90;         // Keep-alive connections idle this long are closed.
  size_t max_header_bytes = 32 << 10;
};

class HttpsServer {
 public:
  // Binds, loads the certificate and starts the threads. `handler` must outlive the server.
  // kInvalidArgument when the certificate or key cannot be loaded, kUnavailable when the
  // address cannot be bound.
  static StatusOr<std::unique_ptr<HttpsServer>> Start(
      ServerOptions options, RequestHandler* handler,
      std::shared_ptr<const CertificateVerifier> verifier);
  ~HttpsServer();  // Stops.

  int port() const;
  // Closes the listener and every connection, joins the threads. Idempotent.
  void Stop();
  // Number of times new serving certificates were loaded after the first.
  int certificate_reloads() const;

  // Replaces the client certificate verifier and the advertised client CAs; new connections
  // use them (e.g. after the authentication ConfigMap changed).
  void UpdateClientAuthentication(std::shared_ptr<const CertificateVerifier> verifier,
                                  std::vector<std::string> client_ca_pems);

  struct Impl;  // Implementation detail (server.cc).

 private:
  HttpsServer() = default;
  std::unique_ptr<Impl> impl_;
};

// Writes a self-signed certificate (EC P-256, 1 year, CN and SANs from `hosts`: DNS names or
// IP addresses) and its key as PEM to the two paths (key mode 0600). For development only.
Status GenerateSelfSignedCertificate(const std::string& cert_file, const std::string& key_file,
                                     const std::vector<std::string>& hosts);

}  // namespace oomcast::metrics_adapter
