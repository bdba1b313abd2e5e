// The Prometheus API client over the fake HTTP client and the fake clock: URLs, headers,
// retries and back-off, error mapping and messages. No network, no sleeping.
#include "oomcast/prometheus_client.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/fake_clock.h"
#include "support/fake_http_client.h"
#include "support/fake_prometheus_client.h"
#include "support/testdata.h"

namespace oomcast {
namespace {

using testing::FakeClock;
using testing::FakeHttpClient;
using testing::FakePrometheusClient;
using testing::JsonResponse;

using testing::ReadTestdata;

// A file in a fresh temporary directory, removed at scope exit.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("oomcast-prom-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    Write(content);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  void Write(const std::string& content) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << content;
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

constexpr double kT = 1767225600;
const char kEmptyMatrix[] = R"({"status":"success","data":{"resultType":"matrix","result":[]}})";
const char kEmptyVector[] = R"({"status":"success","data":{"resultType":"vector","result":[]}})";

struct Fixture {
  FakeHttpClient http;
  FakeClock clock;
  double jitter = 0.5;
  PrometheusBackendConfig config;

  Fixture() {
    config.name = "prom-a";
    config.base_url = "http://prom.example:9090";
    config.max_retries = 2;
    config.retry_base_delay_seconds = 0.5;
    config.retry_max_delay_seconds = 5;
  }
  std::unique_ptr<PrometheusClient> Client() {
    return NewHttpPrometheusClient(config, &http, &clock, [this] { return jitter; });
  }
};

const std::string kUpQueryKey = "/api/v1/query?query=up&time=1767225600";

}  // namespace

TEST_CASE("prometheus client: URLs and parameter encoding", "[prometheus_client]") {
  Fixture f;
  f.http.SetHandler([](const HttpRequest& r) -> StatusOr<HttpResponse> {
    if (r.url.find("/series") != std::string::npos) {
      return JsonResponse(200, R"({"status":"success","data":[]})");
    }
    if (r.url.find("query_range") != std::string::npos) return JsonResponse(200, kEmptyMatrix);
    return JsonResponse(200, kEmptyVector);
  });

  SECTION("plain Prometheus") {
    auto c = f.Client();
    REQUIRE(
        c->QueryRange(R"(container_memory_rss{container!="",container!="POD"})", kT - 120, kT, 30)
            .ok());
    REQUIRE(c->Query("sum by (pod) (rate(x[5m])) > 0.5 + 1", kT + 0.5).ok());
    REQUIRE(c->Series("container_memory_rss", kT - 3600, kT).ok());
    auto reqs = f.http.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].method == "GET");
    CHECK(reqs[0].url ==
          "http://prom.example:9090/api/v1/query_range?query=container_memory_rss%7Bcontainer%21%"
          "3D%22%22%2Ccontainer%21%3D%22POD%22%7D&start=1767225480&end=1767225600&step=30");
    CHECK(reqs[1].url ==
          "http://prom.example:9090/api/v1/query?query=sum%20by%20%28pod%29%20%28rate%28x%5B5m%"
          "5D%29%29%20%3E%200.5%20%2B%201&time=1767225600.5");
    CHECK(reqs[2].url ==
          "http://prom.example:9090/api/v1/series?match%5B%5D=container_memory_rss&start="
          "1767222000&end=1767225600");
    CHECK(reqs[0].timeout_seconds == f.config.timeout_seconds);
    CHECK(FakeHttpClient::Header(reqs[0], "Accept") == "application/json");
    CHECK(FakeHttpClient::Header(reqs[0], "X-Scope-OrgID").empty());
    CHECK(FakeHttpClient::Header(reqs[0], "Authorization").empty());
  }

  SECTION("VictoriaMetrics cluster prefix, trailing slash, fractional step") {
    f.config.base_url = "http://vmselect.monitoring:8481/select/42/prometheus/";
    f.config.timeout_seconds = 7;
    auto c = f.Client();
    REQUIRE(c->QueryRange("up", kT - 1.25, kT, 0.25).ok());
    auto reqs = f.http.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].url ==
          "http://vmselect.monitoring:8481/select/42/prometheus/api/v1/query_range?query=up&"
          "start=1767225598.75&end=1767225600&step=0.25");
    CHECK(reqs[0].timeout_seconds == 7);
  }

  SECTION("very long queries are POSTed as a form") {
    std::string query = "up{pod=~\"" + std::string(5000, 'a') + "\"}";
    auto c = f.Client();
    REQUIRE(c->Query(query, kT).ok());
    auto reqs = f.http.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].method == "POST");
    CHECK(reqs[0].url == "http://prom.example:9090/api/v1/query");
    CHECK(FakeHttpClient::Header(reqs[0], "Content-Type") == "application/x-www-form-urlencoded");
    CHECK(reqs[0].body.rfind("query=up%7Bpod%3D~%22aaa", 0) == 0);
    CHECK(reqs[0].body.find("&time=1767225600") != std::string::npos);
  }
}

TEST_CASE("prometheus client: tenant, bearer token file, basic auth, extra headers",
          "[prometheus_client]") {
  Fixture f;
  f.http.Add(kUpQueryKey, JsonResponse(200, kEmptyVector));

  SECTION("tenant and bearer token, re-read on every request") {
    TempFile token("token-one\n");
    f.config.tenant = "team-a";
    f.config.bearer_token_file = token.path();
    auto c = f.Client();
    REQUIRE(c->Query("up", kT).ok());
    token.Write("token-two");
    REQUIRE(c->Query("up", kT).ok());
    auto reqs = f.http.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(FakeHttpClient::Header(reqs[0], "X-Scope-OrgID") == "team-a");
    CHECK(FakeHttpClient::Header(reqs[0], "Authorization") == "Bearer token-one");
    CHECK(FakeHttpClient::Header(reqs[1], "Authorization") == "Bearer token-two");
  }

  SECTION("basic auth with the password from a file") {
    TempFile password("secret\n");
    f.config.basic_auth_user = "user";
    f.config.basic_auth_password_file = password.path();
    auto c = f.Client();
    REQUIRE(c->Query("up", kT).ok());
    CHECK(FakeHttpClient::Header(f.http.requests().at(0), "Authorization") ==
          "Basic dXNlcjpzZWNyZXQ=");  // base64("user:secret")
  }

  SECTION("extra headers are sent and win over built-in ones") {
    f.config.tenant = "team-a";
    f.config.extra_headers = {{"x-scope-orgid", "team-b|team-c"}, {"X-Custom", "1"}};
    auto c = f.Client();
    REQUIRE(c->Query("up", kT).ok());
    const HttpRequest r = f.http.requests().at(0);
    CHECK(FakeHttpClient::Header(r, "X-Scope-OrgID") == "team-b|team-c");
    CHECK(FakeHttpClient::Header(r, "X-Custom") == "1");
    int tenant_headers = 0;
    for (const auto& h : r.headers) tenant_headers += (h.second.find("team-") == 0);
    CHECK(tenant_headers == 1);
  }

  SECTION("an unreadable token file fails before any request") {
    f.config.bearer_token_file = "/nonexistent/oomcast/token";
    auto c = f.Client();
    StatusOr<QueryResult> r = c->Query("up", kT);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(r.status().message(), Catch::Contains("/nonexistent/oomcast/token"));
    CHECK_THAT(r.status().message(), Catch::Contains("backend prom-a"));
    CHECK(f.http.request_count() == 0);
  }
}

TEST_CASE("prometheus client: decodes real responses", "[prometheus_client]") {
  Fixture f;
  f.http.Add("/api/v1/query_range?query=rss&start=1767225480&end=1767225600&step=30",
             JsonResponse(200, ReadTestdata("victoriametrics_query_range_matrix.json")));
  f.http.Add("/api/v1/series?match%5B%5D=rss&start=1767225480&end=1767225600",
             JsonResponse(200, ReadTestdata("prometheus_series.json")));
  auto c = f.Client();
  StatusOr<QueryResult> r = c->QueryRange("rss", kT - 120, kT, 30);
  REQUIRE(r.ok());
  CHECK(r->series.size() == 3);
  CHECK(r->samples == 15);
  StatusOr<std::vector<Labels>> s = c->Series("rss", kT - 120, kT);
  REQUIRE(s.ok());
  CHECK(s->size() == 3);
}

TEST_CASE("prometheus client: retries 5xx, timeouts and transport errors with back-off",
          "[prometheus_client]") {
  Fixture f;
  auto ok = JsonResponse(200, kEmptyVector);

  SECTION("503, 503, then 200") {
    f.http.AddSequence(kUpQueryKey,
                       {JsonResponse(503, "overloaded"), JsonResponse(503, "overloaded"), ok});
    REQUIRE(f.Client()->Query("up", kT).ok());
    CHECK(f.http.request_count() == 3);
    // Full jitter: 0.5 * min(5, 0.5 * 2^0) + 0.5 * min(5, 0.5 * 2^1).
    CHECK(f.clock.total_slept() == Approx(0.25 + 0.5));
  }

  SECTION("transport errors and timeouts of the HTTP client") {
    f.http.AddSequence(kUpQueryKey, {UnavailableError("connection refused"),
                                     DeadlineExceededError("timed out after 30 s"), ok});
    REQUIRE(f.Client()->Query("up", kT).ok());
    CHECK(f.http.request_count() == 3);
  }

  SECTION("a truncated body is retried") {
    f.http.AddSequence(kUpQueryKey, {DataLossError("truncated response body"), ok});
    REQUIRE(f.Client()->Query("up", kT).ok());
    CHECK(f.http.request_count() == 2);
  }

  SECTION("gives up after 1 + max_retries attempts with the last error") {
    f.http.Add(kUpQueryKey, JsonResponse(503, R"({"status":"error","errorType":"unavailable",)"
                                              R"("error":"too many concurrent queries"})"));
    StatusOr<QueryResult> r = f.Client()->Query("up", kT);
    REQUIRE(!r.ok());
    CHECK(f.http.request_count() == 3);
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(r.status().message(),
               Catch::Contains("backend prom-a (http://prom.example:9090): query \"up\": HTTP "
                               "503 (errorType=unavailable): too many concurrent queries"));
    CHECK_THAT(r.status().message(), Catch::Contains("after 3 attempts"));
  }

  SECTION("query timeouts reported by the server are kDeadlineExceeded") {
    f.http.Add(kUpQueryKey, JsonResponse(503, R"({"status":"error","errorType":"timeout",)"
                                              R"("error":"query timed out in query execution"})"));
    f.config.max_retries = 1;
    StatusOr<QueryResult> r = f.Client()->Query("up", kT);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
    CHECK(f.http.request_count() == 2);
  }

  SECTION("back-off is exponential and capped") {
    f.config.max_retries = 5;
    f.config.retry_base_delay_seconds = 1;
    f.config.retry_max_delay_seconds = 3;
    f.jitter = 1.0;
    f.http.Add(kUpQueryKey, JsonResponse(500, "boom"));
    StatusOr<QueryResult> r = f.Client()->Query("up", kT);
    REQUIRE(!r.ok());
    CHECK(f.http.request_count() == 6);
    CHECK(f.clock.total_slept() == Approx(1 + 2 + 3 + 3 + 3));
    CHECK_THAT(r.status().message(), Catch::Contains("HTTP 500: boom"));
  }

  SECTION("default jitter stays within [0, cap]") {
    f.http.Add(kUpQueryKey, JsonResponse(502, "bad gateway"));
    auto c = NewHttpPrometheusClient(f.config, &f.http, &f.clock);
    REQUIRE(!c->Query("up", kT).ok());
    CHECK(f.clock.total_slept() >= 0);
    CHECK(f.clock.total_slept() <= 0.5 + 1.0);
  }

  SECTION("max_retries = 0 means one attempt") {
    f.config.max_retries = 0;
    f.http.Add(kUpQueryKey, JsonResponse(500, "boom"));
    REQUIRE(!f.Client()->Query("up", kT).ok());
    CHECK(f.http.request_count() == 1);
    CHECK(f.clock.total_slept() == 0);
  }
}

TEST_CASE("prometheus client: 4xx are final and mapped to codes", "[prometheus_client]") {
  struct Case {
    int http;
    std::string body;
    StatusCode code;
    std::string want;
  };
  const std::string bad_data = ReadTestdata("prometheus_error_bad_data.json");
  const std::string vm_bad_data = ReadTestdata("victoriametrics_error_bad_data.json");
  const std::string execution = ReadTestdata("prometheus_error_execution.json");
  for (const Case& c : std::vector<Case>{
           {400, bad_data, StatusCode::kInvalidArgument,
            "HTTP 400 (errorType=bad_data): invalid parameter \"query\": 1:6: parse error: "
            "unclosed left parenthesis"},
           {422, vm_bad_data, StatusCode::kInvalidArgument, "HTTP 422 (errorType=422)"},
           {422, execution, StatusCode::kInvalidArgument, "HTTP 422 (errorType=execution)"},
           {401, "Unauthorized\n", StatusCode::kUnauthenticated, "HTTP 401: Unauthorized"},
           {403, "forbidden", StatusCode::kPermissionDenied, "HTTP 403: forbidden"},
           {404, "404 page not found", StatusCode::kNotFound, "HTTP 404: 404 page not found"},
           {429, "slow down", StatusCode::kResourceExhausted, "HTTP 429: slow down"},
       }) {
    INFO(c.http);
    Fixture f;
    f.http.Add(kUpQueryKey, JsonResponse(c.http, c.body));
    StatusOr<QueryResult> r = f.Client()->Query("up", kT);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == c.code);
    CHECK(f.http.request_count() == 1);
    CHECK(f.clock.total_slept() == 0);
    CHECK_THAT(r.status().message(), Catch::Contains("backend prom-a (http://prom.example:9090)"));
    CHECK_THAT(r.status().message(), Catch::Contains("query \"up\""));
    CHECK_THAT(r.status().message(), Catch::Contains(c.want));
    CHECK_THAT(r.status().message(), !Catch::Contains("attempts"));
  }
}

TEST_CASE("prometheus client: 429 is retried once after Retry-After", "[prometheus_client]") {
  Fixture f;
  HttpResponse limited = JsonResponse(429, "rate limited");
  limited.headers["retry-after"] = "2";

  SECTION("then succeeds") {
    f.http.AddSequence(kUpQueryKey, {limited, JsonResponse(200, kEmptyVector)});
    REQUIRE(f.Client()->Query("up", kT).ok());
    CHECK(f.http.request_count() == 2);
    CHECK(f.clock.total_slept() == 2);
  }
  SECTION("only once") {
    f.http.Add(kUpQueryKey, limited);
    StatusOr<QueryResult> r = f.Client()->Query("up", kT);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kResourceExhausted);
    CHECK(f.http.request_count() == 2);
  }
  SECTION("not when Retry-After exceeds the maximum back-off delay") {
    limited.headers["retry-after"] = "60";
    f.http.Add(kUpQueryKey, limited);
    REQUIRE(!f.Client()->Query("up", kT).ok());
    CHECK(f.http.request_count() == 1);
    CHECK(f.clock.total_slept() == 0);
  }
}

TEST_CASE("prometheus client: bodies that do not decode are final kDataLoss",
          "[prometheus_client]") {
  Fixture f;
  f.http.Add(kUpQueryKey, JsonResponse(200, "<html>proxy error</html>"));
  StatusOr<QueryResult> r = f.Client()->Query("up", kT);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kDataLoss);
  CHECK(f.http.request_count() == 1);
  CHECK_THAT(r.status().message(),
             Catch::StartsWith("backend prom-a (http://prom.example:9090): query \"up\": HTTP 200: "
                               "malformed JSON at byte 0"));

  FakeHttpClient http2;
  http2.Add(kUpQueryKey, ResourceExhaustedError("response body exceeds the 1024 byte limit"));
  auto c2 = NewHttpPrometheusClient(f.config, &http2, &f.clock, [] { return 0.5; });
  StatusOr<QueryResult> big = c2->Query("up", kT);
  REQUIRE(!big.ok());
  CHECK(big.status().code() == StatusCode::kResourceExhausted);
  CHECK(http2.request_count() == 1);
}

TEST_CASE("prometheus client: long queries are truncated in messages", "[prometheus_client]") {
  Fixture f;
  std::string query = "sum(rate(" + std::string(1000, 'x') + "[5m]))";
  f.http.SetHandler([](const HttpRequest&) -> StatusOr<HttpResponse> {
    return JsonResponse(400, R"({"status":"error","errorType":"bad_data","error":"nope"})");
  });
  StatusOr<QueryResult> r = f.Client()->QueryRange(query, kT - 60, kT, 15);
  REQUIRE(!r.ok());
  const std::string m = r.status().message();
  CHECK_THAT(m, Catch::Contains("query_range \"sum(rate(xxxx"));
  CHECK_THAT(m, Catch::Contains("...(1015 bytes)"));
  CHECK(m.size() < 600);
}

TEST_CASE("fake http client: table, sequences, handler, POST keys", "[fake]") {
  FakeHttpClient http;
  http.Add("/a?x=1", JsonResponse(200, "a"));
  http.AddSequence("/b", {UnavailableError("down"), JsonResponse(200, "b")});
  http.SetHandler([](const HttpRequest& r) -> StatusOr<HttpResponse> {
    return JsonResponse(200, "handler:" + FakeHttpClient::KeyOf(r));
  });
  HttpRequest r;
  r.url = "http://h:1/a?x=1";
  CHECK(http.Do(r)->body == "a");
  r.url = "https://h/b";
  CHECK(http.Do(r).status().code() == StatusCode::kUnavailable);
  CHECK(http.Do(r)->body == "b");
  CHECK(http.Do(r)->body == "b");  // The last entry repeats.
  r.url = "http://h/c";
  r.method = "POST";
  r.body = "q=1";
  CHECK(http.Do(r)->body == "handler:/c?q=1");
  CHECK(http.request_count() == 5);
  FakeHttpClient empty;
  StatusOr<HttpResponse> missing = empty.Do(r);
  REQUIRE(missing.ok());
  CHECK(missing->status_code == 404);
}

TEST_CASE("fake prometheus client: range filtering, instant lookback, errors", "[fake]") {
  FakePrometheusClient prom;
  const Labels a{{"namespace", "n"}, {"pod", "a"}, {"container", "c"}};
  const Labels b{{"namespace", "n"}, {"pod", "b"}, {"container", "c"}};
  prom.AddSamples("rss", a, {100, 115, 130}, {1, 2, 3});
  prom.AddSamples("rss", b, {100}, {10});
  prom.AddSamples("rss", a, {145}, {4});  // Appended later, as a live TSDB would.

  StatusOr<QueryResult> r = prom.QueryRange("rss", 115, 145, 15);
  REQUIRE(r.ok());
  CHECK(r->result_type == "matrix");
  REQUIRE(r->series.size() == 1);  // b has no sample in [115, 145].
  CHECK(r->series[0].labels == a);
  CHECK(r->series[0].timestamps_s == std::vector<double>{115, 130, 145});
  CHECK(r->series[0].values == std::vector<double>{2, 3, 4});
  CHECK(r->samples == 3);

  StatusOr<QueryResult> v = prom.Query("rss", 140);
  REQUIRE(v.ok());
  CHECK(v->result_type == "vector");
  REQUIRE(v->series.size() == 2);
  CHECK(v->series[0].values == std::vector<double>{3});  // a: latest at or before 140.
  CHECK(v->series[1].values == std::vector<double>{10});
  CHECK(prom.Query("rss", 100 + 300 + 1)->series.size() == 1);  // b is past the lookback.
  CHECK(prom.Query("unknown", 140)->series.empty());

  CHECK(prom.Series("rss", 120, 200)->size() == 1);
  prom.SetSeriesResult("rss", {a, b});
  CHECK(prom.Series("rss", 120, 200)->size() == 2);

  prom.SetError("rss", UnavailableError("down"));
  CHECK(prom.QueryRange("rss", 0, 200, 15).status().code() == StatusCode::kUnavailable);
  prom.ClearError("rss");
  int n = 0;
  prom.SetErrorFunc([&n](const FakePrometheusClient::Call&) {
    return ++n == 2 ? DeadlineExceededError("slow") : Status::Ok();
  });
  CHECK(prom.Query("rss", 140).ok());
  CHECK(prom.Query("rss", 140).status().code() == StatusCode::kDeadlineExceeded);
  CHECK(prom.Query("rss", 140).ok());
  auto calls = prom.calls();
  REQUIRE(calls.size() == 10);
  CHECK(calls[0].kind == "query_range");
  CHECK(calls[0].start_s == 115);
  CHECK(calls[0].end_s == 145);
  CHECK(calls[0].step_s == 15);
}

}  // namespace oomcast
