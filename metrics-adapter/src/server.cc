#include "oomcast/metrics_adapter/server.h"

#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "oomcast/accept_loop.h"
#include "oomcast/file_stamp.h"
#include "oomcast/http_server.h"
#include "oomcast/log.h"
#include "oomcast/lookup_table.h"
#include "oomcast/metrics_adapter/metrics_api.h"

namespace oomcast::metrics_adapter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string_view ServerRequest::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

namespace {

int AlpnSelect(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  // Only HTTP/1.1 is spoken; choose it when offered.
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (len == 8 && i + 1 + len <= inlen && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// IANA names (as Go's crypto/tls and kube-apiserver's --tls-cipher-suites spell them) of the
// TLS 1.2 suites OpenSSL offers, with OpenSSL's names.
const std::map<std::string, std::string>& Tls12Suites() {
  static const std::map<std::string, std::string> k = {
      {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
      {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
      // Insecure (no forward secrecy or CBC); accepted because kube-apiserver accepts them.
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
      {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
      {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
      {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
      {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
      {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
      {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
      {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
      {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
  };
  return k;
}

StatusOr<std::shared_ptr<ssl::context>> BuildContext(const ServerOptions& o) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                   SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (Status st = CheckTlsMinVersion(o.tls_min_version); !st.ok()) return st;
  SSL_CTX_set_min_proto_version(
      ctx->native_handle(), o.tls_min_version == "VersionTLS13" ? TLS1_3_VERSION : TLS1_2_VERSION);
  auto ciphers = OpenSslCipherList(o.tls_cipher_suites);
  if (!ciphers.ok()) return ciphers.status();
  if (SSL_CTX_set_cipher_list(ctx->native_handle(), ciphers->c_str()) != 1) {
    return InvalidArgumentError("--tls-cipher-suites: OpenSSL accepts none of " + *ciphers);
  }
  ctx->use_certificate_chain_file(o.cert_file, ec);
  if (ec) return InvalidArgumentError("tls certificate " + o.cert_file + ": " + ec.message());
  ctx->use_private_key_file(o.key_file, ssl::context::pem, ec);
  if (ec) return InvalidArgumentError("tls private key " + o.key_file + ": " + ec.message());
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_check_private_key(native) != 1) {
    return InvalidArgumentError("tls private key " + o.key_file + " does not match " + o.cert_file);
  }
  // Request a client certificate without requiring one; chains are verified per CA afterwards
  // (CertificateVerifier), so the handshake accepts any certificate.
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  static const unsigned char kSid[] = "oomcast-metrics-adapter";
  SSL_CTX_set_session_id_context(native, kSid, sizeof kSid - 1);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  for (const std::string& pem : o.client_ca_pems) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(cert)));
      X509_free(cert);
    }
    BIO_free(bio);
  }
  SSL_CTX_set_client_CA_list(native, names);
  SSL_CTX_set_alpn_select_cb(native, AlpnSelect, nullptr);
  return ctx;
}

}  // namespace

const char* StageName(Stage stage) {
  static constexpr std::pair<Stage, const char*> kNames[] = {
      {Stage::kInline, "inline"},
      {Stage::kTokenReview, "token_review"},
      {Stage::kAccessReview, "access_review"},
      {Stage::kUpstream, "upstream"}};
  return Lookup(kNames, stage).value_or("unknown");
}

StatusOr<std::string> OpenSslCipherList(const std::vector<std::string>& iana_names) {
  if (iana_names.empty()) {
    return std::string(
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  }
  std::string out;
  for (const std::string& name : iana_names) {
    if (name == "TLS_AES_128_GCM_SHA256" || name == "TLS_AES_256_GCM_SHA384" ||
        name == "TLS_CHACHA20_POLY1305_SHA256") {
      continue;  // TLS 1.3: not configurable.
    }
    auto it = Tls12Suites().find(name);
    if (it == Tls12Suites().end()) {
      return InvalidArgumentError("--tls-cipher-suites: unknown cipher suite \"" + name + "\"");
    }
    if (!out.empty()) out += ':';
    out += it->second;
  }
  if (out.empty()) {
    return InvalidArgumentError("--tls-cipher-suites: no TLS 1.2 suite given");
  }
  return out;
}

Status CheckTlsMinVersion(const std::string& name) {
  if (name == "VersionTLS12" || name == "VersionTLS13") return Status::Ok();
  if (name == "VersionTLS10" || name == "VersionTLS11") {
    return InvalidArgumentError("--tls-min-version: " + name +
                                " is not supported (TLS 1.2 is the minimum)");
  }
  return InvalidArgumentError("--tls-min-version: want VersionTLS12 or VersionTLS13, got \"" +
                              name + "\"");
}

// One blocking stage: a pool of workers and a bound on the requests in it (running or queued).
struct StagePool {
  StagePool(StageLimits l) : limits(l), pool(static_cast<size_t>(std::max(1, l.workers))) {}
  StageLimits limits;
  asio::thread_pool pool;
  std::atomic<int> in_flight{0};
  std::atomic<int64_t> rejected{0};

  // Takes a place, or false when workers + queue are all taken.
  bool TryEnter() {
    const int capacity = std::max(1, limits.workers) + std::max(0, limits.queue);
    if (in_flight.fetch_add(1) >= capacity) {
      in_flight--;
      rejected++;
      return false;
    }
    return true;
  }
};

struct HttpsServer::Impl {
  ServerOptions options;
  RequestHandler* handler = nullptr;
  std::shared_ptr<const CertificateVerifier> verifier;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::optional<AcceptLoop> accept_loop;
  std::unique_ptr<StagePool> pools[kStageCount];  // [kInline] unused.
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  int port = 0;

  std::mutex ctx_mu;
  std::shared_ptr<ssl::context> ctx;
  std::string cert_stamp, key_stamp;
  std::chrono::steady_clock::time_point next_check;
  std::atomic<int> reloads{0};
  bool force_reload = false;  // Guarded by ctx_mu.

  std::shared_ptr<const CertificateVerifier> Verifier() {
    std::lock_guard<std::mutex> lock(ctx_mu);
    return verifier;
  }

  // The serving context for a new connection, reloaded when the files changed.
  std::shared_ptr<ssl::context> CurrentContext() {
    std::lock_guard<std::mutex> lock(ctx_mu);
    auto now = std::chrono::steady_clock::now();
    if (force_reload) {
      force_reload = false;
      cert_stamp.clear();
      next_check = now;
    }
    if (now >= next_check) {
      next_check =
          now + std::chrono::milliseconds(static_cast<int64_t>(options.reload_poll_seconds * 1000));
      std::string cs = FileStamp(options.cert_file), ks = FileStamp(options.key_file);
      if (!cs.empty() && !ks.empty() && (cs != cert_stamp || ks != key_stamp)) {
        auto fresh = BuildContext(options);
        if (fresh.ok()) {
          ctx = *fresh;
          cert_stamp = cs;
          key_stamp = ks;
          reloads++;
          LogInfo("reloaded serving certificate", {{"cert", options.cert_file}});
        } else {
          LogWarn("serving certificate changed but cannot be loaded; keeping the previous one",
                  {{"err", fresh.status().ToString()}});
        }
      }
    }
    return ctx;
  }
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<ssl::context> ctx, HttpsServer::Impl* server,
          AcceptLoop::Slot slot)
      : ctx_(std::move(ctx)),
        stream_(std::move(socket), *ctx_),
        server_(server),
        slot_(std::move(slot)) {}

  void Run() {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ec);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(
        static_cast<int64_t>(server_->options.handshake_timeout_seconds * 1000)));
    stream_.async_handshake(ssl::stream_base::server,
                            beast::bind_front_handler(&Session::OnHandshake, shared_from_this()));
  }

 private:
  void OnHandshake(beast::error_code ec) {
    if (ec) return;  // Failed handshakes (scanners, wrong CA on the client) are not logged.
    SSL* ssl = stream_.native_handle();
    std::vector<std::string> chain;
    if (X509* leaf = SSL_get1_peer_certificate(ssl)) {
      auto der = [&](X509* c) {
        int len = i2d_X509(c, nullptr);
        std::string out(static_cast<size_t>(std::max(len, 0)), '\0');
        unsigned char* p = reinterpret_cast<unsigned char*>(out.data());
        i2d_X509(c, &p);
        return out;
      };
      chain.push_back(der(leaf));
      X509_free(leaf);
      if (STACK_OF(X509)* sk = SSL_get_peer_cert_chain(ssl)) {
        // On the server side the chain excludes the leaf.
        for (int i = 0; i < sk_X509_num(sk); ++i) chain.push_back(der(sk_X509_value(sk, i)));
      }
    }
    std::shared_ptr<const CertificateVerifier> verifier = server_->Verifier();
    if (!chain.empty() && verifier)
      peer_ = verifier->Classify(chain);
    else if (!chain.empty()) {
      peer_.kind = PeerIdentity::Kind::kInvalid;
      peer_.error = "client certificates are not accepted";
    }
    DoRead();
  }

  void DoRead() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(
        static_cast<int64_t>(server_->options.idle_timeout_seconds * 1000)));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream) return DoClose();
    if (ec) {
      // Transport ends (timeouts, resets, truncated TLS) close silently; a malformed request
      // gets a Status naming the problem, then the connection closes.
      if (ec.category() != http::make_error_code(http::error::bad_target).category()) return;
      const int code = ec == http::error::body_limit     ? 413
                       : ec == http::error::header_limit ? 431
                                                         : 400;
      return Reject(code, "malformed HTTP request: " + ec.message());
    }
    auto& msg = parser_->get();
    req_.headers.clear();  // Keeps its capacity across requests on this connection.
    req_.method = std::string(msg.method_string());
    req_.target = std::string(msg.target());
    keep_alive_ = msg.keep_alive();
    head_request_ = msg.method() == http::verb::head;
    // Validated where the bytes enter: nothing below sees a path or header value that is not
    // printable UTF-8 (the JSON encoder of review bodies and the log writer would otherwise).
    if (!IsPrintableUtf8(req_.target)) {
      return Reject(400, "the request target must be printable UTF-8");
    }
    std::string_view t = req_.target;
    size_t q = t.find('?');
    auto path = DecodeRequestPath(t.substr(0, q));
    if (!path.ok()) return Reject(400, path.status().message());
    req_.path = std::move(path).value();
    req_.query = q == t.npos ? std::string_view() : t.substr(q + 1);
    req_.headers.reserve(16);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!IsPrintableUtf8(std::string_view(field.value().data(), field.value().size()), true)) {
        return Reject(400, "the value of header " + name +
                               " must be printable UTF-8 (no control characters)");
      }
      req_.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    req_.peer = &peer_;
    req_.remote_address = remote_;
    Stage next = Stage::kInline;
    std::optional<ServerResponse> resp = SafeHandle(Stage::kInline, &next);
    if (resp) return Write(std::move(*resp));
    Dispatch(next);
  }

  // Runs the handler; an exception never leaves the connection (500, then closed).
  std::optional<ServerResponse> SafeHandle(Stage stage, Stage* next) {
    const char* what = "unknown exception";
    try {
      std::optional<ServerResponse> r = server_->handler->Handle(req_, stage, next);
      if (!r && static_cast<int>(*next) <= static_cast<int>(stage)) {
        keep_alive_ = false;
        return StatusReply(500, "internal error: the request made no progress");
      }
      return r;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    LogError("request handler threw; answering 500 and closing the connection",
             {{"stage", StageName(stage)}, {"err", what}});
    keep_alive_ = false;
    return StatusReply(500, "internal error");
  }

  // Hands the request to `stage`'s pool, or answers 429 when that pool is full.
  void Dispatch(Stage stage) {
    StagePool& pool = *server_->pools[static_cast<int>(stage)];
    if (!pool.TryEnter()) {
      ServerResponse r = StatusReply(
          429, std::string("too many requests waiting for ") + StageName(stage) + "; retry later");
      r.headers.emplace_back("Retry-After", "1");
      return Write(std::move(r));
    }
    asio::post(pool.pool, [self = shared_from_this(), stage, &pool] {
      Stage next = stage;
      std::optional<ServerResponse> r = self->SafeHandle(stage, &next);
      pool.in_flight--;
      asio::post(self->stream_.get_executor(), [self, r = std::move(r), next]() mutable {
        if (r) return self->Write(std::move(*r));
        self->Dispatch(next);
      });
    });
  }

  static ServerResponse StatusReply(int code, std::string_view message) {
    ApiResponse api = StatusResponse(code, message);
    ServerResponse r;
    r.code = api.code;
    r.body = std::move(api.body);
    return r;
  }

  void Reject(int code, std::string_view message) {
    keep_alive_ = false;
    head_request_ = false;
    Write(StatusReply(code, message));
  }

  // Serializes the whole response into one contiguous buffer: one TLS write per response and
  // no buffer coalescing copies in the stream layers.
  void Write(ServerResponse r) {
    out_.clear();
    out_.reserve(256 + r.body.size());
    out_.append("HTTP/1.1 ");
    out_.append(std::to_string(r.code));
    out_.push_back(' ');
    beast::string_view reason = http::obsolete_reason(static_cast<http::status>(r.code));
    out_.append(reason.data(), reason.size());
    out_.append("\r\nContent-Type: ");
    out_.append(r.content_type);
    out_.append("\r\nCache-Control: no-cache, private\r\nX-Content-Type-Options: nosniff\r\n");
    for (const auto& [k, v] : r.headers) {
      out_.append(k);
      out_.append(": ");
      out_.append(v);
      out_.append("\r\n");
    }
    out_.append("Content-Length: ");
    out_.append(std::to_string(r.body.size()));
    out_.append(keep_alive_ ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
    if (!head_request_) out_.append(r.body);
    asio::async_write(stream_, asio::buffer(out_),
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (ec) return;
    if (!keep_alive_ || server_->stopped) return DoClose();
    DoRead();
  }

  void DoClose() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  std::shared_ptr<ssl::context> ctx_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  HttpsServer::Impl* server_;
  AcceptLoop::Slot slot_;  // This connection's place under max_connections.
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string out_;
  bool head_request_ = false;
  ServerRequest req_;
  PeerIdentity peer_;
  std::string remote_;
  bool keep_alive_ = true;
};

}  // namespace

StatusOr<std::unique_ptr<HttpsServer>> HttpsServer::Start(
    ServerOptions options, RequestHandler* handler,
    std::shared_ptr<const CertificateVerifier> verifier) {
  std::unique_ptr<HttpsServer> server(new HttpsServer());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = handler;
  impl->verifier = std::move(verifier);
  auto ctx = BuildContext(options);
  if (!ctx.ok()) return ctx.status();
  impl->ctx = *ctx;
  impl->cert_stamp = FileStamp(options.cert_file);
  impl->key_stamp = FileStamp(options.key_file);
  impl->next_check = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options.bind_address, ec);
  if (ec) return InvalidArgumentError("bind address " + options.bind_address + ": " + ec.message());
  tcp::endpoint ep(addr, static_cast<unsigned short>(options.port));
  impl->acceptor.emplace(impl->ioc);
  impl->acceptor->open(ep.protocol(), ec);
  if (!ec) impl->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(ep, ec);
  if (!ec) impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("listen on " + options.bind_address + ":" +
                            std::to_string(options.port) + ": " + ec.message());
  }
  impl->port = impl->acceptor->local_endpoint().port();
  impl->pools[static_cast<int>(Stage::kTokenReview)] =
      std::make_unique<StagePool>(options.token_review);
  impl->pools[static_cast<int>(Stage::kAccessReview)] =
      std::make_unique<StagePool>(options.access_review);
  impl->pools[static_cast<int>(Stage::kUpstream)] = std::make_unique<StagePool>(options.upstream);
  Impl* p = impl.get();
  impl->accept_loop.emplace(
      impl->ioc, *impl->acceptor, options.max_connections, "https",
      [p](tcp::socket s, AcceptLoop::Slot slot) {
        std::make_shared<Session>(std::move(s), p->CurrentContext(), p, std::move(slot))->Run();
      });
  impl->accept_loop->Start();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    impl->threads.emplace_back([p = impl.get()] { p->ioc.run(); });
  }
  server->impl_ = std::move(impl);
  return server;
}

HttpsServer::~HttpsServer() { Stop(); }

int HttpsServer::port() const { return impl_->port; }
int HttpsServer::certificate_reloads() const { return impl_->reloads.load(); }

void HttpsServer::UpdateClientAuthentication(std::shared_ptr<const CertificateVerifier> verifier,
                                             std::vector<std::string> client_ca_pems) {
  std::lock_guard<std::mutex> lock(impl_->ctx_mu);
  impl_->verifier = std::move(verifier);
  impl_->options.client_ca_pems = std::move(client_ca_pems);
  impl_->force_reload = true;
}

int HttpsServer::active_connections() const { return impl_->accept_loop->active(); }
int64_t HttpsServer::rejected(Stage stage) const {
  const auto& pool = impl_->pools[static_cast<int>(stage)];
  return pool ? pool->rejected.load() : 0;
}

void HttpsServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl_->accept_loop->Stop();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  for (auto& pool : impl_->pools) {
    if (pool) pool->pool.join();
  }
  boost::system::error_code ec;
  impl_->acceptor->close(ec);
}

// ---------------------------------------------------------------------------------------------

Status GenerateSelfSignedCertificate(const std::string& cert_file, const std::string& key_file,
                                     const std::vector<std::string>& hosts) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  if (!pkey) return InternalError("generating an EC key failed");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(std::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
  X509_set_pubkey(x, pkey);
  std::string cn = hosts.empty() ? "oomcast-metrics-adapter" : hosts[0];
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  std::string san;
  for (const std::string& h : hosts) {
    boost::system::error_code ec;
    asio::ip::make_address(h, ec);
    if (!san.empty()) san += ",";
    san += (ec ? "DNS:" : "IP:") + h;
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  auto add_ext = [&](int nid, const std::string& value) {
    if (value.empty()) return;
    if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str())) {
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
  };
  add_ext(NID_subject_alt_name, san);
  add_ext(NID_basic_constraints, "critical,CA:FALSE");
  add_ext(NID_key_usage, "critical,digitalSignature");
  add_ext(NID_ext_key_usage, "serverAuth");
  add_ext(NID_subject_key_identifier, "hash");
  X509_sign(x, pkey, EVP_sha256());
  Status result;
  // Created 0600 (not chmod-ed after the fact: the key is never readable by others).
  int kfd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FILE* kf = kfd >= 0 ? ::fdopen(kfd, "w") : nullptr;
  if (kf) {
    ::fchmod(kfd, 0600);
    PEM_write_PrivateKey(kf, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(kf);
  } else {
    result = InvalidArgumentError("cannot write " + key_file);
  }
  FILE* cf = std::fopen(cert_file.c_str(), "w");
  if (cf) {
    PEM_write_X509(cf, x);
    std::fclose(cf);
  } else if (result.ok()) {
    result = InvalidArgumentError("cannot write " + cert_file);
  }
  X509_free(x);
  EVP_PKEY_free(pkey);
  return result;
}

}  // namespace oomcast::metrics_adapter
