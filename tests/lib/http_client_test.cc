// The Beast HttpClient (Do and Stream) against a small loopback HTTP/HTTPS server run inside the
// test (Boost.Asio, port 0, one thread, one connection at a time, "Connection: close"). Stalls are
// bounded: the server releases them when it is destroyed. TLS material is checked in under
// testdata/tls/ (throwaway EC keys, valid for 100 years, server SAN IP:127.0.0.1/localhost).

// clang-format off
// Must come first: Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>
// clang-format on
#include "oomcast/http_client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace oomcast {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string TlsPath(const std::string& name) {
  std::filesystem::path dir;
  if (const char* src = std::getenv("OOMCAST_SOURCE_DIR")) {
    dir = std::filesystem::path(src) / "tests/lib/testdata/tls";
  } else {
    dir = std::filesystem::path(__FILE__).parent_path() / "testdata/tls";
  }
  return (dir / name).string();
}

// What the server does with one request.
struct Reply {
  double stall_before_s = 0;  // Wait before sending anything (released early on shutdown).
  std::string bytes;          // Raw HTTP response bytes (status line, headers, body).
  double stall_after_s = 0;   // Wait after sending, before closing the connection.
  // Then, in order: wait `first` seconds, send `second` (a response in several TCP writes).
  std::vector<std::pair<double, std::string>> then = {};
};

struct ReceivedRequest {
  std::string head;  // Request line and headers.
  std::string body;
};

class LoopbackServer {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  // TLS when `tls` is non-null; `require_client_cert` asks for and verifies a client
  // certificate against testdata/tls/ca.pem.
  explicit LoopbackServer(Handler handler, bool tls = false, bool require_client_cert = false)
      : handler_(std::move(handler)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (tls) {
      tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(TlsPath("server.pem"));
      tls_->use_private_key_file(TlsPath("server-key.pem"), asio::ssl::context::pem);
      if (require_client_cert) {
        tls_->load_verify_file(TlsPath("ca.pem"));
        tls_->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      }
    }
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }

  ~LoopbackServer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    // Wake a blocking accept().
    try {
      asio::io_context io;
      tcp::socket s(io);
      s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    } catch (const std::exception&) {
    }
    thread_.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<ReceivedRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  // Sleeps up to `seconds`; returns early when the server stops.
  void Stall(double seconds) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return stop_; });
  }

  void Serve() {
    for (;;) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
      }
      if (ec) continue;
      try {
        if (tls_) {
          asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
          stream.handshake(asio::ssl::stream_base::server, ec);
          if (ec) continue;  // e.g. the client rejected our certificate.
          HandleConnection(stream);
          stream.shutdown(ec);
        } else {
          HandleConnection(socket);
        }
      } catch (const std::exception&) {
        // The client went away; next connection.
      }
    }
  }

  template <typename Stream>
  void HandleConnection(Stream& stream) {
    std::string data;
    size_t head_end;
    char buf[4096];
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      size_t n = stream.read_some(asio::buffer(buf));
      data.append(buf, n);
    }
    ReceivedRequest req;
    req.head = data.substr(0, head_end);
    size_t content_length = 0;
    std::string lower = req.head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (size_t p = lower.find("content-length:"); p != std::string::npos) {
      content_length = std::stoul(lower.substr(p + 15));
    }
    req.body = data.substr(head_end + 4);
    while (req.body.size() < content_length) {
      size_t n = stream.read_some(asio::buffer(buf));
      req.body.append(buf, n);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    Reply reply = handler_(req);
    if (reply.stall_before_s > 0) Stall(reply.stall_before_s);
    boost::system::error_code ec;
    asio::write(stream, asio::buffer(reply.bytes), ec);
    for (const auto& [pause_s, bytes] : reply.then) {
      if (ec) break;
      Stall(pause_s);
      asio::write(stream, asio::buffer(bytes), ec);
    }
    if (reply.stall_after_s > 0) Stall(reply.stall_after_s);
  }

  Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::unique_ptr<asio::ssl::context> tls_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<ReceivedRequest> requests_;
  std::thread thread_;
};

std::string Response(int code, const std::string& reason, const std::string& body,
                     const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra_headers + "Connection: close\r\n\r\n" + body;
}

std::unique_ptr<HttpClient> MakeClient(HttpClientOptions options = {}) {
  StatusOr<std::unique_ptr<HttpClient>> c = NewHttpClient(options);
  REQUIRE(c.ok());
  return std::move(c).value();
}

HttpRequest Get(const std::string& url, double timeout_s = 5) {
  HttpRequest r;
  r.url = url;
  r.timeout_seconds = timeout_s;
  return r;
}

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

const char kBody[] = R"({"status":"success","data":{"resultType":"vector","result":[]}})";

}  // namespace

TEST_CASE("http client: 200 with body, headers both ways", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return Reply{0, Response(200, "OK", kBody, "X-Answer: 42\r\n")};
  });
  auto client = MakeClient();
  HttpRequest req = Get(server.url("/api/v1/query?query=up&time=1767225600"));
  req.headers = {{"X-Scope-OrgID", "team-a"}, {"Authorization", "Bearer abc"}};
  StatusOr<HttpResponse> r = client->Do(req);
  REQUIRE(r.ok());
  CHECK(r->status_code == 200);
  CHECK(r->body == kBody);
  CHECK(r->headers.at("x-answer") == "42");
  CHECK(r->headers.at("content-type") == "application/json");
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK_THAT(reqs[0].head,
             Catch::StartsWith("GET /api/v1/query?query=up&time=1767225600 HTTP/1.1"));
  CHECK_THAT(reqs[0].head, Catch::Contains("X-Scope-OrgID: team-a"));
  CHECK_THAT(reqs[0].head, Catch::Contains("Authorization: Bearer abc"));
}

TEST_CASE("http client: POST with a form body", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return Reply{0, Response(200, "OK", kBody)};
  });
  auto client = MakeClient();
  HttpRequest req = Get(server.url("/api/v1/query"));
  req.method = "POST";
  req.body = "query=up&time=1";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  StatusOr<HttpResponse> r = client->Do(req);
  REQUIRE(r.ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK_THAT(reqs[0].head, Catch::StartsWith("POST /api/v1/query HTTP/1.1"));
  CHECK_THAT(reqs[0].head, Catch::Contains("application/x-www-form-urlencoded"));
  CHECK(reqs[0].body == "query=up&time=1");
}

TEST_CASE("http client: HTTP 500 is a response, not a transport error", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return Reply{0, Response(500, "Internal Server Error", "boom")};
  });
  StatusOr<HttpResponse> r = MakeClient()->Do(Get(server.url("/x")));
  REQUIRE(r.ok());
  CHECK(r->status_code == 500);
  CHECK(r->body == "boom");
}

TEST_CASE("http client: a stall past the timeout is kDeadlineExceeded", "[http]") {
  SECTION("before the headers") {
    LoopbackServer server([](const ReceivedRequest&) {
      return Reply{5, Response(200, "OK", kBody)};
    });
    auto start = std::chrono::steady_clock::now();
    StatusOr<HttpResponse> r = MakeClient()->Do(Get(server.url("/slow"), 0.3));
    double elapsed = SecondsSince(start);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
    CHECK_THAT(r.status().message(), Catch::Contains(server.url("/slow")));
    CHECK(elapsed >= 0.25);
    CHECK(elapsed < 2);
  }
  SECTION("in the middle of the body") {
    LoopbackServer server([](const ReceivedRequest&) {
      std::string full = Response(200, "OK", std::string(1000, 'x'));
      return Reply{0, full.substr(0, full.size() - 500), 5};
    });
    auto start = std::chrono::steady_clock::now();
    StatusOr<HttpResponse> r = MakeClient()->Do(Get(server.url("/slow-body"), 0.3));
    double elapsed = SecondsSince(start);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
    CHECK(elapsed < 2);
  }
}

TEST_CASE("http client: connection refused is kUnavailable naming the URL", "[http]") {
  int port;
  {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }  // Closed: nothing listens on `port` now.
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/query";
  StatusOr<HttpResponse> r = MakeClient()->Do(Get(url, 2));
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(r.status().message(), Catch::Contains(url));
}

TEST_CASE("http client: bodies over the cap are kResourceExhausted", "[http]") {
  HttpClientOptions options;
  options.max_response_bytes = 1000;
  SECTION("announced by Content-Length") {
    LoopbackServer server([](const ReceivedRequest&) {
      return Reply{0, Response(200, "OK", std::string(5000, 'x'))};
    });
    StatusOr<HttpResponse> r = MakeClient(options)->Do(Get(server.url("/big")));
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kResourceExhausted);
    CHECK_THAT(r.status().message(), Catch::Contains("1000 byte limit"));
  }
  SECTION("chunked, found while reading") {
    LoopbackServer server([](const ReceivedRequest&) {
      std::string bytes =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
          "Connection: close\r\n\r\n";
      for (int i = 0; i < 10; ++i) bytes += "1f4\r\n" + std::string(500, 'y') + "\r\n";
      bytes += "0\r\n\r\n";
      return Reply{0, bytes};
    });
    StatusOr<HttpResponse> r = MakeClient(options)->Do(Get(server.url("/big-chunked")));
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kResourceExhausted);
  }
  SECTION("exactly at the cap is fine") {
    LoopbackServer server([](const ReceivedRequest&) {
      return Reply{0, Response(200, "OK", std::string(1000, 'z'))};
    });
    StatusOr<HttpResponse> r = MakeClient(options)->Do(Get(server.url("/fits")));
    REQUIRE(r.ok());
    CHECK(r->body.size() == 1000);
  }
}

TEST_CASE("http client: a truncated body is kDataLoss", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return Reply{0,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
                 "Connection: close\r\n\r\n{\"status\":"};
  });
  StatusOr<HttpResponse> r = MakeClient()->Do(Get(server.url("/truncated")));
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kDataLoss);
  CHECK_THAT(r.status().message(), Catch::Contains("truncated"));
  CHECK_THAT(r.status().message(), Catch::Contains(server.url("/truncated")));
}

TEST_CASE("http client: a chunked body cut mid-chunk is kDataLoss", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return Reply{0,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                 "64\r\n{\"status\":\"succ"};
  });
  StatusOr<HttpResponse> r = MakeClient()->Do(Get(server.url("/chunked-cut")));
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kDataLoss);
}

TEST_CASE("http client: concurrent requests from several threads", "[http]") {
  LoopbackServer server([](const ReceivedRequest& req) {
    // Echo the request line back as the body.
    std::string line = req.head.substr(0, req.head.find("\r\n"));
    return Reply{0, Response(200, "OK", line)};
  });
  auto client = MakeClient();
  std::vector<std::thread> threads;
  std::vector<std::string> errors(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        StatusOr<HttpResponse> r = client->Do(Get(server.url(path)));
        if (!r.ok()) {
          errors[t] = r.status().ToString();
        } else if (r->body != "GET " + path + " HTTP/1.1") {
          errors[t] = "wrong body " + r->body;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& e : errors) CHECK(e.empty());
  CHECK(server.requests().size() == 20);
}

TEST_CASE("http client: TLS", "[http][tls]") {
  SECTION("verified with the CA file") {
    LoopbackServer server(
        [](const ReceivedRequest&) {
          return Reply{0, Response(200, "OK", kBody)};
        },
        true);
    HttpClientOptions options;
    options.ca_file = TlsPath("ca.pem");
    StatusOr<HttpResponse> r = MakeClient(options)->Do(Get(server.url("/tls")));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->body == kBody);
  }
  SECTION("an unknown CA fails verification") {
    LoopbackServer server(
        [](const ReceivedRequest&) {
          return Reply{0, Response(200, "OK", kBody)};
        },
        true);
    HttpClientOptions options;
    options.ca_file = TlsPath("other-ca.pem");
    StatusOr<HttpResponse> r = MakeClient(options)->Do(Get(server.url("/tls")));
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kUnavailable);
  }
  SECTION("insecure_skip_verify accepts it") {
    LoopbackServer server(
        [](const ReceivedRequest&) {
          return Reply{0, Response(200, "OK", kBody)};
        },
        true);
    HttpClientOptions options;
    options.insecure_skip_verify = true;
    StatusOr<HttpResponse> r = MakeClient(options)->Do(Get(server.url("/tls")));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }
  SECTION("mutual TLS with a client certificate") {
    LoopbackServer server(
        [](const ReceivedRequest&) {
          return Reply{0, Response(200, "OK", kBody)};
        },
        true,
        /*require_client_cert=*/true);
    HttpClientOptions options;
    options.ca_file = TlsPath("ca.pem");
    options.client_cert_file = TlsPath("client.pem");
    options.client_key_file = TlsPath("client-key.pem");
    StatusOr<HttpResponse> r = MakeClient(options)->Do(Get(server.url("/mtls")));
    INFO(r.status().ToString());
    REQUIRE(r.ok());

    HttpClientOptions no_cert;
    no_cert.ca_file = TlsPath("ca.pem");
    StatusOr<HttpResponse> denied = MakeClient(no_cert)->Do(Get(server.url("/mtls")));
    REQUIRE(!denied.ok());
    CHECK(denied.status().code() == StatusCode::kUnavailable);
  }
}

TEST_CASE("http client: bad options fail at construction", "[http]") {
  HttpClientOptions missing;
  missing.ca_file = "/nonexistent/ca.pem";
  StatusOr<std::unique_ptr<HttpClient>> a = NewHttpClient(missing);
  REQUIRE(!a.ok());
  CHECK(a.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(a.status().message(), Catch::Contains("/nonexistent/ca.pem"));

  HttpClientOptions half;
  half.client_cert_file = TlsPath("client.pem");
  CHECK(NewHttpClient(half).status().code() == StatusCode::kInvalidArgument);

  HttpClientOptions not_pem;
  not_pem.ca_file = TlsPath("../prometheus_query_vector.json");
  CHECK(NewHttpClient(not_pem).status().code() == StatusCode::kInvalidArgument);

  StatusOr<HttpResponse> bad_url = MakeClient()->Do(Get("not a url"));
  REQUIRE(!bad_url.ok());
  CHECK(bad_url.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("http client: a chunked body in several writes is reassembled", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    Reply reply{0,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{\"sta"};
    reply.then = {{0.05, "\r\n5\r\ntus\":\r"}, {0.05, "\n4\r\n1}  \r\n"}, {0.05, "0\r\n\r\n"}};
    return reply;
  });
  StatusOr<HttpResponse> r = MakeClient()->Do(Get(server.url("/chunked")));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->body == "{\"status\":1}  ");
}

TEST_CASE("http client: the Host header carries a non-default port", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return Reply{0, Response(200, "OK", kBody)};
  });
  REQUIRE(MakeClient()->Do(Get(server.url("/h"))).ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK_THAT(reqs[0].head, Catch::Contains("Host: 127.0.0.1:" + std::to_string(server.port())));
  CHECK_THAT(reqs[0].head, Catch::Contains("User-Agent: oomcast/"));
}

TEST_CASE("http client: a server that closes mid-body is kDataLoss naming the byte counts",
          "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    Reply reply{0,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n"
                "Connection: close\r\n\r\n0123"};
    reply.then = {{0.05, "4567"}};  // 8 of 20 bytes, then the connection closes.
    return reply;
  });
  StatusOr<HttpResponse> r = MakeClient()->Do(Get(server.url("/cut")));
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kDataLoss);
  CHECK_THAT(r.status().message(), Catch::Contains("after 8 bytes of 20"));
}

TEST_CASE("http client: a malformed status line is kUnavailable", "[http]") {
  LoopbackServer server([](const ReceivedRequest&) {
    return Reply{0, "HTTP/1.1 abc nonsense\r\n\r\n"};
  });
  StatusOr<HttpResponse> r = MakeClient()->Do(Get(server.url("/junk")));
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(r.status().message(), Catch::Contains("response headers"));
}

TEST_CASE("http client: Stream hands over a watch stream split across reads", "[http][stream]") {
  // Two events, the first split in the middle of its line, the chunk boundaries elsewhere.
  LoopbackServer server([](const ReceivedRequest&) {
    Reply reply{0,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                "8\r\n{\"type\":\r\n"};
    reply.then = {{0.05, "9\r\n\"ADDED\"}\n\r\n"},
                  {0.05, "11\r\n{\"type\":\"DELETED\"\r\n"},
                  {0.05, "2\r\n}\n\r\n0\r\n\r\n"}};
    return reply;
  });
  auto client = MakeClient();
  int head_code = 0;
  std::vector<std::string> pieces;
  Status st = client->Stream(
      Get(server.url("/watch")),
      [&](const HttpResponse& head) {
        head_code = head.status_code;
        CHECK(head.body.empty());
        CHECK(head.headers.at("content-type") == "application/json");
        return true;
      },
      [&](std::string_view piece) {
        pieces.emplace_back(piece);
        return true;
      });
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(head_code == 200);
  CHECK(pieces.size() >= 2);  // Delivered as it arrived, not at the end.
  std::string all;
  for (const auto& p : pieces) all += p;
  CHECK(all == "{\"type\":\"ADDED\"}\n{\"type\":\"DELETED\"}\n");
}

TEST_CASE("http client: Stream stops when a callback returns false", "[http][stream]") {
  // The server would keep each stream open for 5 s; the callbacks end them first (the server's
  // stall is released when it is destroyed).
  auto open_stream = [](const ReceivedRequest&) {
    Reply reply{0,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                "2\r\na\n\r\n"};
    reply.stall_after_s = 5;
    return reply;
  };
  SECTION("from the body callback") {
    LoopbackServer server(open_stream);
    auto start = std::chrono::steady_clock::now();
    std::string got;
    Status st = MakeClient()->Stream(
        Get(server.url("/w"), 10), [](const HttpResponse&) { return true; },
        [&](std::string_view piece) {
          got += piece;
          return false;
        });
    CHECK(st.ok());
    CHECK(got == "a\n");
    CHECK(SecondsSince(start) < 4);
  }
  SECTION("from the head callback: the body is not read") {
    LoopbackServer server(open_stream);
    bool body_called = false;
    Status st = MakeClient()->Stream(
        Get(server.url("/w"), 10), [](const HttpResponse& head) { return head.status_code != 200; },
        [&](std::string_view) {
          body_called = true;
          return true;
        });
    CHECK(st.ok());
    CHECK_FALSE(body_called);
  }
}

TEST_CASE("http client: Stream past its deadline after the head is kDeadlineExceeded",
          "[http][stream]") {
  LoopbackServer server([](const ReceivedRequest&) {
    Reply reply{0,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                "2\r\na\n\r\n"};
    reply.stall_after_s = 5;
    return reply;
  });
  bool got_head = false;
  std::string got;
  Status st = MakeClient()->Stream(
      Get(server.url("/w"), 0.3),
      [&](const HttpResponse&) {
        got_head = true;
        return true;
      },
      [&](std::string_view piece) {
        got += piece;
        return true;
      });
  CHECK(st.code() == StatusCode::kDeadlineExceeded);
  CHECK(got_head);
  CHECK(got == "a\n");
}

TEST_CASE("http client: TLS material given inline as PEM", "[http][tls]") {
  LoopbackServer server(
      [](const ReceivedRequest&) {
        return Reply{0, Response(200, "OK", kBody)};
      },
      true, /*require_client_cert=*/true);
  auto read = [](const std::string& name) {
    std::ifstream in(TlsPath(name));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  HttpClientOptions options;
  options.ca_pem = read("ca.pem");
  options.client_cert_pem = read("client.pem");
  options.client_key_pem = read("client-key.pem");
  StatusOr<HttpResponse> r = MakeClient(options)->Do(Get(server.url("/inline")));
  INFO(r.status().ToString());
  REQUIRE(r.ok());

  HttpClientOptions bad;
  bad.ca_pem = "not a certificate";
  CHECK(NewHttpClient(bad).status().code() == StatusCode::kInvalidArgument);
}

}  // namespace oomcast
