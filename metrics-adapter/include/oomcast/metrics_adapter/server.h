// The HTTPS server of the adapter: Boost.Beast over Boost.Asio + OpenSSL, asynchronous, a small
// pool of I/O threads, HTTP/1.1 keep-alive. It requests (never requires) a client certificate,
// classifies it once per connection with a CertificateVerifier, and hands each request to a
// RequestHandler. The serving certificate and key are re-read when their files change.
//
// Every byte from the network is hostile here. Limits (all in ServerOptions, all flags):
// connections (oomcast/accept_loop.h: at the limit new clients wait in the listen backlog;
// accept errors back off), the TLS handshake and request read deadlines, header and body sizes,
// and one bounded worker pool per blocking stage (token review, access review, upstream): when
// a stage's pool and queue are full the request gets 429 with Retry-After at once. A request
// never waits for a stage it does not need, so certificate-authenticated requests never queue
// behind token reviews. Request paths and header values must be printable UTF-8 (400
// otherwise, before the handler sees them), and an exception from the handler is caught at the
// connection (500, connection closed): no request can take the process down.
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
  std::string target;                  // As sent: path?query (printable UTF-8).
  std::string path;                    // Percent-decoded path (printable UTF-8, starts with /).
  std::string_view query;              // Into target, without '?', still encoded.
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

// Where a request is being answered. kInline is an I/O thread, which must never block; each
// later stage has its own bounded worker pool and may block on its own kind of call (and on
// earlier stages' calls, which are then rare cache misses).
enum class Stage {
  kInline = 0,
  kTokenReview = 1,   // TokenReview of a bearer token.
  kAccessReview = 2,  // SubjectAccessReview.
  kUpstream = 3,      // Pass-through to the upstream provider.
};
inline constexpr int kStageCount = 4;
const char* StageName(Stage stage);

// Called concurrently from the server's threads, first with kInline. When answering needs a
// blocking call of a later stage the handler returns nullopt and sets *next to that stage
// (always later than `stage`); the server then calls again from that stage's pool.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual std::optional<ServerResponse> Handle(const ServerRequest& request, Stage stage,
                                               Stage* next) = 0;
};

// A blocking stage's pool: `workers` threads and up to `queue` requests waiting for them.
struct StageLimits {
  int workers = 4;
  int queue = 64;
};

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 6443;  // 0: pick a free port (see HttpsServer::port()).
  int io_threads = 2;
  std::string cert_file;                    // PEM certificate chain.
  std::string key_file;                     // PEM private key.
  double reload_poll_seconds = 1;           // How often the files' mtimes are checked (on accept).
  std::vector<std::string> client_ca_pems;  // Advertised acceptable client CAs (union).
  // A whole request must arrive within this many seconds of the previous response (or of the
  // handshake): keep-alive idleness and slow senders alike; the connection is then closed.
  double idle_timeout_seconds = 90;
  double handshake_timeout_seconds = 10;
  size_t max_header_bytes = 32 << 10;  // Request line and headers; more: 431, closed.
  size_t max_body_bytes = 64 << 10;    // More: 413, closed.
  int max_connections = 1000;          // Open at once; more wait in the listen backlog.
  StageLimits token_review;
  StageLimits access_review;
  StageLimits upstream;
  // TLS: "VersionTLS12" or "VersionTLS13" (kube-apiserver's --tls-min-version names), and
  // the TLS 1.2 cipher suites by IANA name (--tls-cipher-suites); empty: ECDHE with AEAD only.
  // TLS 1.3 suites are OpenSSL's defaults and not configurable (as in Go).
  std::string tls_min_version = "VersionTLS12";
  std::vector<std::string> tls_cipher_suites;
};

// The OpenSSL cipher list for TLS 1.2 suites given by IANA name (TLS_ECDHE_RSA_WITH_...), as
// kube-apiserver's --tls-cipher-suites takes them; TLS 1.3 names are accepted and ignored.
// Empty input: the default (ECDHE key exchange with AES-GCM or ChaCha20-Poly1305).
// kInvalidArgument naming an unknown suite.
StatusOr<std::string> OpenSslCipherList(const std::vector<std::string>& iana_names);
// kInvalidArgument unless `name` is VersionTLS12 or VersionTLS13.
Status CheckTlsMinVersion(const std::string& name);

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
  // Connections open now; requests refused with 429 because a stage was full, by stage.
  int active_connections() const;
  int64_t rejected(Stage stage) const;

  // Replaces the client certificate verifier and the advertised client CAs; new connections
  // use them (e.g. after the authentication ConfigMap changed).
  void UpdateClientAuthentication(std::shared_ptr<const CertificateVerifier> verifier,
                                  std::vector<std::string> client_ca_pems);

  struct Impl;  // Implementation detail (server.cc).

 private:
  HttpsServer() = default;
  std::unique_ptr<Impl> impl_;
};

// Writes a self-signed serving certificate (EC P-256, 1 year, CN and SANs from `hosts`: DNS
// names or IP addresses; basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
// serverAuth) and its key as PEM to the two paths (key created with mode 0600). For development
// only.
Status GenerateSelfSignedCertificate(const std::string& cert_file, const std::string& key_file,
                                     const std::vector<std::string>& hosts);

}  // namespace oomcast::metrics_adapter
