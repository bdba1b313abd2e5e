// HttpClient on cpprestsdk 2.10 (web::http::client, Boost.Asio backend). Every cpprest,
// Boost and pplx exception is caught here and turned into a Status naming the URL.
//
// Deadlines: the whole request (connect to last body byte) is bounded by
// HttpRequest::timeout_seconds, enforced here on a steady clock (cpprest's own timer, which is
// an inactivity timer, is set to the same value as a second line). Bodies are consumed in
// 256 KiB chunks as they arrive and the transfer is cancelled as soon as the size cap is passed,
// so memory stays near the cap (plus what cpprest's stream buffer received but we have not read).
#include <cpprest/http_client.h>
#include <cpprest/producerconsumerstream.h>

#include <boost/asio/ssl.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <system_error>
#include <tuple>

#include "oomcast/http_client.h"

namespace oomcast {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kReadChunkBytes = 256 << 10;
constexpr size_t kMaxUrlInMessage = 300;

StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read " + std::string(what) + " " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return InvalidArgumentError("cannot read " + std::string(what) + " " + path);
  }
  return ss.str();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Waits for `t` until `deadline`. Returns false on timeout (the task keeps running detached).
// The continuation observes the task's exception: pplx traps (SIGTRAP) on an exception that no
// one observed, which is what an abandoned, later-cancelled request would otherwise be.
template <typename T>
bool WaitUntil(const pplx::task<T>& t, SteadyTime deadline) {
  if (t.is_done()) return true;
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> f = done->get_future();
  t.then([done](pplx::task<T> finished) {
    try {
      finished.wait();
    } catch (...) {
      // Observed; the caller reads the outcome with get() when it is still waiting.
    }
    done->set_value();
  });
  return f.wait_until(deadline) == std::future_status::ready;
}

bool IsTimeout(const web::http::http_exception& e) {
  return e.error_code() == std::errc::timed_out ||
         e.error_code().value() == static_cast<int>(std::errc::timed_out);
}

// TLS material, read once when the client is built.
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

void ApplyTls(const TlsMaterial& tls, boost::asio::ssl::context& ctx) {
  if (!tls.ca_pem.empty()) {
    ctx.add_certificate_authority(boost::asio::buffer(tls.ca_pem.data(), tls.ca_pem.size()));
  }
  if (!tls.cert_pem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(tls.cert_pem.data(), tls.cert_pem.size()));
    ctx.use_private_key(boost::asio::buffer(tls.key_pem.data(), tls.key_pem.size()),
                        boost::asio::ssl::context::pem);
  }
}

class CpprestHttpClient final : public HttpClient {
 public:
  CpprestHttpClient(HttpClientOptions options, TlsMaterial tls)
      : options_(std::move(options)), tls_(std::move(tls)) {}

  StatusOr<HttpResponse> Do(const HttpRequest& request) override {
    const double timeout_s = request.timeout_seconds > 0 ? request.timeout_seconds : 30;
    const SteadyTime deadline = std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(timeout_s));
    // The URL as named in error messages; long query strings are cut.
    const std::string url = request.url.size() <= kMaxUrlInMessage
                                ? request.url
                                : request.url.substr(0, kMaxUrlInMessage) + "...";
    auto timeout_error = [&](std::string_view phase) {
      return DeadlineExceededError(request.method + " " + url + ": timed out after " +
                                   FormatSeconds(timeout_s) + " s " + std::string(phase));
    };

    std::shared_ptr<web::http::client::http_client> client;
    web::http::http_request req;
    try {
      web::uri uri(request.url);
      if (uri.scheme() != "http" && uri.scheme() != "https") {
        return InvalidArgumentError("unsupported URL scheme in " + url);
      }
      client = ClientFor(uri, timeout_s);
      req.set_method(request.method);
      req.set_request_uri(uri.resource());
      std::string content_type;
      for (const auto& [name, value] : request.headers) {
        if (Lower(name) == "content-type") {
          content_type = value;
          continue;
        }
        req.headers().add(name, value);
      }
      if (!req.headers().has("User-Agent")) req.headers().add("User-Agent", "oomcast/0.1");
      if (!request.body.empty() || !content_type.empty()) {
        req.set_body(request.body,
                     content_type.empty() ? "application/octet-stream" : content_type);
      }
    } catch (const web::uri_exception& e) {
      return InvalidArgumentError("bad URL " + url + ": " + e.what());
    } catch (const std::exception& e) {
      return InvalidArgumentError("cannot build request for " + url + ": " + e.what());
    }

    pplx::cancellation_token_source cts;
    // Cancels the transfer when this function returns early; a no-op after a full read.
    struct CancelOnExit {
      pplx::cancellation_token_source& cts;
      bool armed = true;
      ~CancelOnExit() {
        if (armed) cts.cancel();
      }
    } cancel_on_exit{cts};

    web::http::http_response response;
    try {
      pplx::task<web::http::http_response> t = client->request(req, cts.get_token());
      if (!WaitUntil(t, deadline)) return timeout_error("waiting for response headers");
      response = t.get();
    } catch (const web::http::http_exception& e) {
      if (IsTimeout(e)) return timeout_error("waiting for response headers");
      return UnavailableError(request.method + " " + url + ": " + e.what());
    } catch (const pplx::task_canceled&) {
      return timeout_error("waiting for response headers");
    } catch (const std::exception& e) {
      return UnavailableError(request.method + " " + url + ": " + e.what());
    }

    HttpResponse out;
    try {
      out.status_code = response.status_code();
      for (const auto& [name, value] : response.headers()) out.headers[Lower(name)] = value;
    } catch (const std::exception& e) {
      return UnavailableError(request.method + " " + url + ": bad response headers: " + e.what());
    }

    // Content-Length, when sent, is checked before reading a byte.
    std::optional<size_t> content_length;
    if (auto it = out.headers.find("content-length"); it != out.headers.end()) {
      try {
        content_length = static_cast<size_t>(std::stoull(it->second));
      } catch (const std::exception&) {
        return DataLossError(request.method + " " + url + ": bad Content-Length \"" + it->second +
                             "\"");
      }
      if (*content_length > options_.max_response_bytes) {
        return ResourceExhaustedError(request.method + " " + url + ": response of " +
                                      std::to_string(*content_length) + " bytes exceeds the " +
                                      std::to_string(options_.max_response_bytes) +
                                      " byte limit (Content-Length)");
      }
      out.body.reserve(*content_length);
    }

    size_t total = 0;
    try {
      concurrency::streams::streambuf<uint8_t> buf = response.body().streambuf();
      for (;;) {
        size_t want = kReadChunkBytes;
        // Read at most one byte past the cap: enough to know it was exceeded.
        size_t room = options_.max_response_bytes + 1 - total;
        if (want > room) want = room;
        out.body.resize(total + want);
        pplx::task<size_t> rt = buf.getn(reinterpret_cast<uint8_t*>(out.body.data()) + total, want);
        if (!WaitUntil(rt, deadline)) return timeout_error("reading the response body");
        size_t n = rt.get();
        out.body.resize(total + n);
        if (n == 0) break;
        total += n;
        if (total > options_.max_response_bytes) {
          return ResourceExhaustedError(
              request.method + " " + url + ": response body exceeds the " +
              std::to_string(options_.max_response_bytes) + " byte limit");
        }
      }
      // Surfaces a transfer error that ended the stream early (reset, truncated chunking).
      pplx::task<void> done = response.content_ready().then([](web::http::http_response) {});
      if (!WaitUntil(done, deadline)) return timeout_error("reading the response body");
      done.get();
    } catch (const web::http::http_exception& e) {
      if (IsTimeout(e)) return timeout_error("reading the response body");
      return DataLossError(request.method + " " + url + ": truncated response body after " +
                           std::to_string(total) + " bytes: " + e.what());
    } catch (const pplx::task_canceled&) {
      return timeout_error("reading the response body");
    } catch (const std::exception& e) {
      return DataLossError(request.method + " " + url + ": truncated response body after " +
                           std::to_string(total) + " bytes: " + e.what());
    }
    if (content_length && total != *content_length) {
      return DataLossError(request.method + " " + url + ": truncated response body: got " +
                           std::to_string(total) + " of " + std::to_string(*content_length) +
                           " bytes (Content-Length)");
    }
    cancel_on_exit.armed = false;
    return out;
  }

 private:
  static std::string FormatSeconds(double s) {
    std::ostringstream ss;
    ss << s;
    return ss.str();
  }

  // One cpprest client per (scheme://authority, timeout): keeps connection pools across calls.
  std::shared_ptr<web::http::client::http_client> ClientFor(const web::uri& uri, double timeout_s) {
    std::string authority = uri.scheme() + "://" + uri.host() + ":" + std::to_string(uri.port());
    auto key = std::make_pair(authority, timeout_s);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = clients_.find(key);
    if (it != clients_.end()) return it->second;
    web::http::client::http_client_config config;
    config.set_timeout(std::chrono::microseconds(static_cast<int64_t>(timeout_s * 1e6)));
    config.set_validate_certificates(!options_.insecure_skip_verify);
    TlsMaterial tls = tls_;
    config.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) { ApplyTls(tls, ctx); });
    web::uri_builder base;
    base.set_scheme(uri.scheme()).set_host(uri.host()).set_port(uri.port());
    auto client = std::make_shared<web::http::client::http_client>(base.to_uri(), config);
    clients_.emplace(key, client);
    return client;
  }

  const HttpClientOptions options_;
  const TlsMaterial tls_;
  std::mutex mu_;
  std::map<std::pair<std::string, double>, std::shared_ptr<web::http::client::http_client>>
      clients_;
};

}  // namespace

StatusOr<std::unique_ptr<HttpClient>> NewCpprestHttpClient(const HttpClientOptions& options) {
  TlsMaterial tls;
  if (!options.ca_file.empty()) {
    StatusOr<std::string> s = ReadFile(options.ca_file, "TLS CA file");
    if (!s.ok()) return s.status();
    tls.ca_pem = *std::move(s);
  }
  if (options.client_cert_file.empty() != options.client_key_file.empty()) {
    return InvalidArgumentError("TLS client certificate and key must be given together");
  }
  if (!options.client_cert_file.empty()) {
    StatusOr<std::string> c = ReadFile(options.client_cert_file, "TLS client certificate");
    if (!c.ok()) return c.status();
    StatusOr<std::string> k = ReadFile(options.client_key_file, "TLS client key");
    if (!k.ok()) return k.status();
    tls.cert_pem = *std::move(c);
    tls.key_pem = *std::move(k);
  }
  // Fail now, not on the first request, when the PEM material does not load.
  try {
    boost::asio::ssl::context probe(boost::asio::ssl::context::tls_client);
    ApplyTls(tls, probe);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("bad TLS material (ca_file=") + options.ca_file +
                                ", client_cert_file=" + options.client_cert_file +
                                ", client_key_file=" + options.client_key_file + "): " + e.what());
  }
  if (options.max_response_bytes == 0) {
    return InvalidArgumentError("max_response_bytes must be > 0");
  }
  return std::unique_ptr<HttpClient>(std::make_unique<CpprestHttpClient>(options, std::move(tls)));
}

}  // namespace oomcast
