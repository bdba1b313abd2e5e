#include "oomcast/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace oomcast {
namespace {

TEST_CASE("IsValidUtf8 is RFC 3629 strict") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain ascii"));
  CHECK(IsValidUtf8("gr\xc3\xbc\xc3\x9f"));  // ü ß
  CHECK(IsValidUtf8("\xe2\x82\xac"));        // €
  CHECK(IsValidUtf8("\xf0\x9f\x98\x80"));    // U+1F600
  CHECK(IsValidUtf8("\xf4\x8f\xbf\xbf"));    // U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xff"));
  CHECK_FALSE(IsValidUtf8("\xc0\xaf"));          // Overlong '/'.
  CHECK_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // Overlong.
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));      // Surrogate.
  CHECK_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // Above U+10FFFF.
  CHECK_FALSE(IsValidUtf8("\xe2\x82"));          // Truncated.
  CHECK_FALSE(IsValidUtf8("\x80"));              // Lone continuation.
}

TEST_CASE("IsPrintableUtf8 refuses control characters") {
  CHECK(IsPrintableUtf8("Bearer abc"));
  CHECK_FALSE(IsPrintableUtf8(std::string("a\0b", 3)));
  CHECK_FALSE(IsPrintableUtf8("a\nb"));
  CHECK_FALSE(IsPrintableUtf8("a\x7f"));
  CHECK_FALSE(IsPrintableUtf8("a\tb"));
  CHECK(IsPrintableUtf8("a\tb", /*allow_tab=*/true));
}

TEST_CASE("DecodeRequestPath decodes and validates") {
  CHECK(*DecodeRequestPath("/apis/a%2Fb/%C3%BC") == "/apis/a/b/\xc3\xbc");
  CHECK(*DecodeRequestPath("/a+b") == "/a+b");
  CHECK_FALSE(DecodeRequestPath("/%ff").ok());
  CHECK_FALSE(DecodeRequestPath("/%0a").ok());
  CHECK_FALSE(DecodeRequestPath("/%zz").ok());
  CHECK_FALSE(DecodeRequestPath("/%4").ok());
  CHECK_FALSE(DecodeRequestPath("noslash").ok());
  CHECK_FALSE(DecodeRequestPath("").ok());
}

TEST_CASE("OpsHandler serves health, readiness and metrics") {
  bool ready = false;
  HttpHandler h = OpsHandler({nullptr, [&] { return ready; }, [] { return std::string("m 1\n"); }});
  auto get = [&](const std::string& path, std::string method = "GET") {
    HttpServerRequest r;
    r.method = method;
    r.path = path;
    return h(r);
  };
  CHECK(get("/healthz").status == 200);
  CHECK(get("/livez").status == 200);
  CHECK(get("/readyz").status == 503);
  ready = true;
  CHECK(get("/readyz").status == 200);
  CHECK(get("/metrics").body == "m 1\n");
  CHECK(get("/metrics").content_type.find("version=0.0.4") != std::string::npos);
  CHECK(get("/nope").status == 404);
  CHECK(get("/healthz", "POST").status == 405);
}

// A blocking loopback client: connects, sends `raw`, returns what came back until close or
// the first complete response head ("" when the connection could not be made).
std::string Exchange(int port, const std::string& raw) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ::send(fd, raw.data(), raw.size(), 0);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      if (out.find("\r\n\r\n") != std::string::npos) break;
    }
  }
  ::close(fd);
  return out;
}

TEST_CASE("the ops server refuses malformed input and limits connections") {
  HttpServerOptions o;
  o.threads = 1;
  o.max_connections = 2;
  o.idle_timeout_seconds = 1;
  auto server = StartHttpServer("127.0.0.1:0", OpsHandler({}), o);
  REQUIRE(server.ok());
  const int port = (*server)->port();
  CHECK(Exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
  CHECK(Exchange(port, "GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
  CHECK(Exchange(port, "GET /healthz HTTP/1.1\r\nX-A: \xff\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
  CHECK(Exchange(port, "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n")
            .rfind("HTTP/1.1 431", 0) == 0);
  CHECK(Exchange(port, "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
  // Two idle connections take both places; a third waits in the backlog until the idle
  // timeout frees one, and is then served.
  std::vector<int> idle;
  for (int i = 0; i < 2; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    idle.push_back(fd);
  }
  CHECK(Exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
  CHECK((*server)->active_connections() <= 2);
  for (int fd : idle) ::close(fd);
  (*server)->Stop();
}

}  // namespace
}  // namespace oomcast
