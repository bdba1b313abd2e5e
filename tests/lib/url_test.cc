// The URL module: parsing, percent-encoding and -decoding, query strings.
#include "oomcast/url.h"

#include <catch2/catch.hpp>

namespace oomcast {
namespace {

TEST_CASE("ParseUrl splits http and https URLs") {
  auto u = ParseUrl("https://Kube.Example:6443/base/path?x=1&y=%20#frag");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->tls());
  CHECK(u->host == "Kube.Example");
  CHECK(u->port == "6443");
  CHECK(u->path == "/base/path");
  CHECK(u->query == "x=1&y=%20");
  CHECK(u->Target() == "/base/path?x=1&y=%20");
  CHECK(u->HostHeader() == "Kube.Example:6443");

  auto plain = ParseUrl("HTTP://127.0.0.1");
  REQUIRE(plain.ok());
  CHECK(plain->scheme == "http");
  CHECK(plain->port == "80");
  CHECK(plain->path.empty());
  CHECK(plain->Target() == "/");
  CHECK(plain->HostHeader() == "127.0.0.1");

  auto v6 = ParseUrl("https://[::1]:8443?q");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == "8443");
  CHECK(v6->Target() == "/?q");
  CHECK(v6->HostHeader() == "[::1]:8443");
  CHECK(ParseUrl("https://[::1]")->port == "443");
  CHECK(ParseUrl("https://host:443/")->HostHeader() == "host");
  CHECK(ParseUrl("http://h:0080/")->port == "80");
}

TEST_CASE("ParseUrl rejects what no client can reach, naming the URL") {
  for (const char* bad :
       {"ftp://example", "example:80", "http://", "http://:80/", "http://h:x/", "http://h:0/",
        "http://h:65536/", "http://h:99999999999999999999/", "http://[::1/", "http://[::1]x/",
        "http://::1/", "http://user:pw@h/", "http://h/a b", "http://h/\n", ""}) {
    INFO(bad);
    auto u = ParseUrl(bad);
    CHECK(u.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK_THAT(ParseUrl("ftp://example").status().message(), Catch::Contains("ftp://example"));
}

TEST_CASE("PercentEncode keeps only unreserved characters") {
  CHECK(PercentEncode("app=web,oomcast.io/aggregate in (max)") ==
        "app%3Dweb%2Coomcast.io%2Faggregate%20in%20%28max%29");
  CHECK(PercentEncode("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(PercentEncode("\xc3\xbc+%") == "%C3%BC%2B%25");
  CHECK(PercentEncode("") == "");
}

TEST_CASE("PercentEncodePath keeps path characters and escapes the rest") {
  CHECK(PercentEncodePath("/apis/x/namespaces/a b/m?x#") == "/apis/x/namespaces/a%20b/m%3Fx%23");
  CHECK(PercentEncodePath("/a:b@c!$&'()*+,;=") == "/a:b@c!$&'()*+,;=");
  CHECK(PercentEncodePath("/%\xff") == "/%25%FF");
}

TEST_CASE("PercentDecode: paths keep '+', forms make it a space, bad escapes are errors") {
  CHECK(*PercentDecode("/apis/a%2Fb/%c3%BC+") == "/apis/a/b/\xc3\xbc+");
  CHECK(*PercentDecode("a+b%20c%2B", true) == "a b c+");
  CHECK(*FormDecode("a+b%20c%2B") == "a b c+");
  CHECK(*PercentDecode("%41") == "A");
  for (const char* bad : {"%", "%4", "%g0", "ab%4", "%%41"}) {
    INFO(bad);
    CHECK(PercentDecode(bad).status().code() == StatusCode::kInvalidArgument);
  }
  CHECK_THAT(PercentDecode("ab%zz").status().message(), Catch::Contains("position 2"));
  // Round trip of every byte.
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  CHECK(*PercentDecode(PercentEncode(all)) == all);
  CHECK(*PercentDecode(PercentEncodePath(all)) == all);
}

TEST_CASE("BuildQuery and QueryParameter") {
  CHECK(BuildQuery({}) == "");
  CHECK(BuildQuery({{"query", "rate(x{a=\"b\"}[5m])"}, {"match[]", "up"}, {"t", ""}}) ==
        "query=rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29&match%5B%5D=up&t=");
  CHECK(*QueryParameter("x=1&labelSelector=a%3Db&labelSelector=c", "labelSelector") == "a=b");
  CHECK_FALSE(QueryParameter("x=1", "labelSelector")->has_value());
  CHECK(*QueryParameter("labelSelector", "labelSelector") == "");
  CHECK(*QueryParameter("a+b=c+d", "a b") == "c d");
  CHECK_FALSE(QueryParameter("", "x")->has_value());
  CHECK_FALSE(QueryParameter("x=%zz", "x").ok());
  std::string q = BuildQuery({{"k", "v w&=+"}});
  CHECK(*QueryParameter(q, "k") == "v w&=+");
}

}  // namespace
}  // namespace oomcast
