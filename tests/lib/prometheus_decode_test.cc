// Decoding of Prometheus API bodies. The fixtures in testdata/ are real responses captured from
// Prometheus 2.42 and VictoriaMetrics 1.79 (single-node) on loopback, loaded with three cAdvisor
// container_memory_rss series and container_spec_memory_limit_bytes (2026-01-01T00:00:00Z =
// 1767225600), queried with curl:
//   *_query_range_matrix          query_range container_memory_rss{container!="",container!="POD"}
//                                 start=1767225480 end=1767225600 step=30
//   *_query_vector                query container_spec_memory_limit_bytes time=1767225600
//   *_query_range_selector_matrix query container_memory_rss{namespace="shop"}[1m]
//   *_query_vector_special_values +Inf / -Inf / NaN via x/0 (VictoriaMetrics drops NaN)
//   *_series                      series match[]=container_memory_rss
//   *_error_bad_data              query rate(       (Prometheus 400 bad_data, VM 422 "422")
//   *_error_execution             duplicate label sets after label_replace (422 execution)
//   *_empty, *_scalar (VM answers 1+1 as a vector), prometheus_query_string
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "oomcast/prometheus_client.h"
#include "support/testdata.h"

namespace oomcast {
namespace {

using testing::ReadTestdata;

// Decodes with both decoders and checks they agree; returns the fast decoder's result.
StatusOr<QueryResult> DecodeBoth(std::string_view body) {
  StatusOr<QueryResult> fast = DecodeQueryResponse(body);
  StatusOr<QueryResult> sax = DecodeQueryResponseSax(body);
  INFO("fast: " << fast.status().ToString() << "\nsax: " << sax.status().ToString());
  REQUIRE(fast.ok() == sax.ok());
  if (!fast.ok()) {
    CHECK(fast.status().code() == sax.status().code());
    return fast;
  }
  CHECK(fast->result_type == sax->result_type);
  CHECK(fast->warnings == sax->warnings);
  CHECK(fast->samples == sax->samples);
  CHECK(fast->response_bytes == sax->response_bytes);
  REQUIRE(fast->series.size() == sax->series.size());
  for (size_t i = 0; i < fast->series.size(); ++i) {
    CHECK(fast->series[i].labels == sax->series[i].labels);
    CHECK(fast->series[i].timestamps_s == sax->series[i].timestamps_s);
    REQUIRE(fast->series[i].values.size() == sax->series[i].values.size());
    for (size_t j = 0; j < fast->series[i].values.size(); ++j) {
      double a = fast->series[i].values[j], b = sax->series[i].values[j];
      CHECK(((std::isnan(a) && std::isnan(b)) || a == b));
    }
  }
  return fast;
}

const SeriesData* FindPod(const QueryResult& r, const std::string& pod) {
  for (const SeriesData& s : r.series) {
    auto it = s.labels.find("pod");
    if (it != s.labels.end() && it->second == pod) return &s;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("decode: query_range matrix from Prometheus and VictoriaMetrics", "[decode]") {
  for (std::string backend : {"prometheus", "victoriametrics"}) {
    SECTION(backend) {
      std::string body = ReadTestdata(backend + "_query_range_matrix.json");
      StatusOr<QueryResult> r = DecodeBoth(body);
      REQUIRE(r.ok());
      CHECK(r->result_type == "matrix");
      CHECK(r->series.size() == 3);
      CHECK(r->samples == 15);
      CHECK(r->response_bytes == body.size());
      CHECK(r->warnings.empty());
      const SeriesData* cart = FindPod(*r, "cart-7d9f-abcde");
      REQUIRE(cart != nullptr);
      CHECK(cart->labels.size() == 13);
      CHECK(cart->labels.at("__name__") == "container_memory_rss");
      CHECK(cart->labels.at("namespace") == "shop");
      CHECK(cart->labels.at("container") == "cart");
      CHECK(cart->labels.at("metrics_path") == "/metrics/cadvisor");
      CHECK(cart->timestamps_s ==
            std::vector<double>{1767225480, 1767225510, 1767225540, 1767225570, 1767225600});
      CHECK(cart->values ==
            std::vector<double>{105316352, 105324544, 105332736, 105340928, 105349120});
      const SeriesData* etl = FindPod(*r, "etl-0");
      REQUIRE(etl != nullptr);
      CHECK(etl->values.front() == 106233856);
    }
  }
}

TEST_CASE("decode: instant vector", "[decode]") {
  for (std::string backend : {"prometheus", "victoriametrics"}) {
    SECTION(backend) {
      StatusOr<QueryResult> r = DecodeBoth(ReadTestdata(backend + "_query_vector.json"));
      REQUIRE(r.ok());
      CHECK(r->result_type == "vector");
      REQUIRE(r->series.size() == 3);
      CHECK(r->samples == 3);
      const SeriesData* web = FindPod(*r, "web-5c6b-xyz12");
      REQUIRE(web != nullptr);
      CHECK(web->labels == Labels{{"__name__", "container_spec_memory_limit_bytes"},
                                  {"container", "nginx"},
                                  {"namespace", "shop"},
                                  {"pod", "web-5c6b-xyz12"}});
      CHECK(web->timestamps_s == std::vector<double>{1767225600});
      CHECK(web->values == std::vector<double>{0});
      CHECK(FindPod(*r, "etl-0")->values == std::vector<double>{536870912});
    }
  }
}

TEST_CASE("decode: instant query of a range selector returns raw samples", "[decode]") {
  StatusOr<QueryResult> p = DecodeBoth(ReadTestdata("prometheus_query_range_selector_matrix.json"));
  REQUIRE(p.ok());
  CHECK(p->result_type == "matrix");
  CHECK(p->series.size() == 2);
  CHECK(FindPod(*p, "cart-7d9f-abcde")->timestamps_s.size() == 5);
  // VictoriaMetrics excludes the left edge of the window and sends labels unsorted.
  StatusOr<QueryResult> v =
      DecodeBoth(ReadTestdata("victoriametrics_query_range_selector_matrix.json"));
  REQUIRE(v.ok());
  CHECK(v->series.size() == 2);
  CHECK(FindPod(*v, "cart-7d9f-abcde")->timestamps_s ==
        std::vector<double>{1767225555, 1767225570, 1767225585, 1767225600});
  CHECK(FindPod(*v, "cart-7d9f-abcde")->labels == FindPod(*p, "cart-7d9f-abcde")->labels);
}

TEST_CASE("decode: NaN, +Inf and -Inf sample values", "[decode]") {
  StatusOr<QueryResult> p = DecodeBoth(ReadTestdata("prometheus_query_vector_special_values.json"));
  REQUIRE(p.ok());
  REQUIRE(p->series.size() == 3);
  std::map<std::string, double> by_v;
  for (const SeriesData& s : p->series) by_v[s.labels.at("v")] = s.values.at(0);
  CHECK(std::isinf(by_v["pinf"]));
  CHECK(by_v["pinf"] > 0);
  CHECK(std::isinf(by_v["ninf"]));
  CHECK(by_v["ninf"] < 0);
  CHECK(std::isnan(by_v["nan"]));

  StatusOr<QueryResult> v =
      DecodeBoth(ReadTestdata("victoriametrics_query_vector_special_values.json"));
  REQUIRE(v.ok());
  CHECK(v->series.size() == 2);  // VictoriaMetrics drops NaN results.

  for (auto [text, want] : std::vector<std::pair<std::string, double>>{{"Inf", INFINITY},
                                                                       {"1e400", INFINITY},
                                                                       {"-1e400", -INFINITY},
                                                                       {"1.5e-3", 1.5e-3},
                                                                       {"-0", -0.0},
                                                                       {"+7", 7}}) {
    std::string body = R"({"status":"success","data":{"resultType":"vector","result":[)"
                       R"({"metric":{},"value":[1,")" +
                       text + R"("]}]}})";
    StatusOr<QueryResult> r = DecodeBoth(body);
    INFO(text);
    REQUIRE(r.ok());
    CHECK(r->series.at(0).values.at(0) == want);
  }
}

TEST_CASE("decode: empty results", "[decode]") {
  for (std::string name :
       {"prometheus_query_range_empty.json", "prometheus_query_vector_empty.json",
        "victoriametrics_query_range_empty.json", "victoriametrics_query_vector_empty.json"}) {
    StatusOr<QueryResult> r = DecodeBoth(ReadTestdata(name));
    INFO(name);
    REQUIRE(r.ok());
    CHECK(r->series.empty());
    CHECK(r->samples == 0);
  }
}

TEST_CASE("decode: scalar and string results are rejected", "[decode]") {
  for (std::string name : {"prometheus_query_scalar.json", "prometheus_query_string.json"}) {
    StatusOr<QueryResult> r = DecodeBoth(ReadTestdata(name));
    INFO(name);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains("resultType"));
  }
  // VictoriaMetrics answers a scalar expression with a vector.
  StatusOr<QueryResult> v = DecodeBoth(ReadTestdata("victoriametrics_query_scalar.json"));
  REQUIRE(v.ok());
  CHECK(v->series.at(0).values == std::vector<double>{2});
  CHECK(v->series.at(0).labels.empty());
}

TEST_CASE("decode: error bodies map errorType to a code", "[decode]") {
  struct Case {
    std::string file;
    StatusCode code;
    std::string type;
    std::string text;
  };
  for (const Case& c :
       std::vector<Case>{{"prometheus_error_bad_data.json", StatusCode::kInvalidArgument,
                          "errorType=bad_data", "unclosed left parenthesis"},
                         {"victoriametrics_error_bad_data.json", StatusCode::kInvalidArgument,
                          "errorType=422", "unexpected token"},
                         {"prometheus_error_execution.json", StatusCode::kInvalidArgument,
                          "errorType=execution", "same labelset"},
                         {"victoriametrics_error_execution.json", StatusCode::kInvalidArgument,
                          "errorType=422", "duplicate output timeseries"}}) {
    INFO(c.file);
    std::string body = ReadTestdata(c.file);
    StatusOr<QueryResult> r = DecodeBoth(body);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == c.code);
    CHECK_THAT(r.status().message(), Catch::Contains(c.type));
    CHECK_THAT(r.status().message(), Catch::Contains(c.text));
    PrometheusApiError e;
    REQUIRE(ParsePrometheusErrorBody(body, &e));
    CHECK("errorType=" + e.error_type == c.type);
    CHECK_THAT(e.error, Catch::Contains(c.text));
  }
  PrometheusApiError e;
  CHECK_FALSE(ParsePrometheusErrorBody(ReadTestdata("prometheus_query_vector.json"), &e));
  CHECK_FALSE(ParsePrometheusErrorBody("<html>502 Bad Gateway</html>", &e));
  CHECK_FALSE(ParsePrometheusErrorBody(R"({"status":"error","err)", &e));

  CHECK(StatusCodeFromPrometheusErrorType("timeout") == StatusCode::kDeadlineExceeded);
  CHECK(StatusCodeFromPrometheusErrorType("canceled") == StatusCode::kUnavailable);
  CHECK(StatusCodeFromPrometheusErrorType("unavailable") == StatusCode::kUnavailable);
  CHECK(StatusCodeFromPrometheusErrorType("not_found") == StatusCode::kNotFound);
  CHECK(StatusCodeFromPrometheusErrorType("503") == StatusCode::kUnavailable);
  CHECK(StatusCodeFromPrometheusErrorType("429") == StatusCode::kResourceExhausted);
  CHECK(StatusCodeFromPrometheusErrorType("internal") == StatusCode::kInternal);
  CHECK(StatusCodeFromPrometheusErrorType("") == StatusCode::kInternal);
}

TEST_CASE("decode: series responses", "[decode]") {
  for (std::string backend : {"prometheus", "victoriametrics"}) {
    StatusOr<std::vector<Labels>> s = DecodeSeriesResponse(ReadTestdata(backend + "_series.json"));
    INFO(backend);
    REQUIRE(s.ok());
    REQUIRE(s->size() == 3);
    for (const Labels& l : *s) {
      CHECK(l.at("__name__") == "container_memory_rss");
      CHECK(l.size() == 13);
    }
  }
  StatusOr<std::vector<Labels>> err =
      DecodeSeriesResponse(ReadTestdata("prometheus_error_bad_data.json"));
  REQUIRE(!err.ok());
  CHECK(err.status().code() == StatusCode::kInvalidArgument);
  StatusOr<std::vector<Labels>> trunc = DecodeSeriesResponse(R"({"status":"success","data":[{"a")");
  REQUIRE(!trunc.ok());
  CHECK(trunc.status().code() == StatusCode::kDataLoss);
  // A query body is not a series body.
  CHECK(!DecodeSeriesResponse(ReadTestdata("prometheus_query_vector.json")).ok());
}

TEST_CASE("decode: VictoriaMetrics and newer Prometheus extra fields are tolerated", "[decode]") {
  std::string body = R"({"status":"success","isPartial":false,
    "data":{"resultType":"matrix","result":[
      {"metric":{"pod":"p","namespace":"n"},"values":[[1.5,"1"],[2.25,"2"]],
       "histograms":[[3,{"count":"1","sum":"2","buckets":[[0,"0","1","1"]]}]]},
      {"metric":{"pod":"q"},"values":[]}
    ],"stats":{"seriesFetched":"2","executionTimeMsec":1}},
    "warnings":["some warning", "another"],"infos":["an info"],"extra":[null,true,false,{"a":[]}]})";
  StatusOr<QueryResult> r = DecodeBoth(body);
  REQUIRE(r.ok());
  CHECK(r->series.size() == 2);
  CHECK(r->series[0].timestamps_s == std::vector<double>{1.5, 2.25});
  CHECK(r->series[0].values == std::vector<double>{1, 2});
  CHECK(r->series[1].values.empty());
  CHECK(r->warnings == std::vector<std::string>{"some warning", "another"});
  CHECK(r->samples == 2);
}

TEST_CASE("decode: a null result is an empty result", "[decode]") {
  StatusOr<QueryResult> r =
      DecodeBoth(R"({"status":"success","data":{"resultType":"vector","result":null}})");
  REQUIRE(r.ok());
  CHECK(r->series.empty());
}

TEST_CASE("decode: field order does not matter", "[decode]") {
  std::string body = R"({"data":{"result":[{"values":[[1,"2"]],"metric":{"b":"2","a":"1"}}],)"
                     R"("resultType":"matrix"},"status":"success"})";
  StatusOr<QueryResult> r = DecodeBoth(body);
  REQUIRE(r.ok());
  CHECK(r->series.at(0).labels == Labels{{"a", "1"}, {"b", "2"}});
  // A scalar result sent before its resultType is still rejected.
  std::string scalar = R"({"data":{"result":[1,"2"],"resultType":"scalar"},"status":"success"})";
  StatusOr<QueryResult> s = DecodeBoth(scalar);
  REQUIRE(!s.ok());
  CHECK(s.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("decode: string escapes in labels", "[decode]") {
  std::string body =
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":)"
      R"({"q":"a\"b\\c\/d\n\t","u":"\u00e9\u20ac\ud83d\ude00","plain":"x"},"value":[1,"3"]}]}})";
  StatusOr<QueryResult> r = DecodeBoth(body);
  REQUIRE(r.ok());
  const Labels& l = r->series.at(0).labels;
  CHECK(l.at("q") == "a\"b\\c/d\n\t");
  CHECK(l.at("u") == "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  CHECK(l.at("plain") == "x");
}

TEST_CASE("decode: every truncation of a real body is kDataLoss with a byte offset", "[decode]") {
  std::string body = ReadTestdata("prometheus_query_range_matrix.json");
  for (size_t n = 0; n < body.size(); ++n) {
    std::string_view prefix(body.data(), n);
    StatusOr<QueryResult> fast = DecodeQueryResponse(prefix);
    StatusOr<QueryResult> sax = DecodeQueryResponseSax(prefix);
    INFO("prefix " << n << ": " << fast.status().ToString());
    REQUIRE(!fast.ok());
    REQUIRE(!sax.ok());
    CHECK(fast.status().code() == StatusCode::kDataLoss);
    CHECK(sax.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(fast.status().message(), Catch::Contains("at byte"));
  }
  StatusOr<QueryResult> r = DecodeQueryResponse(std::string_view(body.data(), 700));
  CHECK_THAT(r.status().message(), Catch::StartsWith("truncated JSON at byte 700"));
}

TEST_CASE("decode: malformed bodies are kDataLoss naming the offset", "[decode]") {
  struct Case {
    std::string body;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {"<html><body>502 Bad Gateway</body></html>", "malformed JSON at byte 0"},
           {"", "truncated JSON at byte 0"},
           {R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},)"
            R"("value":[1,"abc"]}]}})",
            "bad sample value \"abc\""},
           {R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},)"
            R"("value":[1,"2",3]}]}})",
            "at byte"},
           {R"({"status":"success","data":{"resultType":"matrix","result":[]}} trailing)",
            "trailing data"},
           {R"({"status":"success","data":{"resultType":"matrix","result":[]},})", "at byte"},
           {R"({"status":"success"})", "no data"},
           {R"({"status":"weird","data":{}})", "status is \"weird\""},
           {R"({"status":"success","data":{"result":[]}})", "no data.resultType"},
           {R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":1}}]}})",
            "at byte"},
       }) {
    INFO(c.body);
    StatusOr<QueryResult> fast = DecodeQueryResponse(c.body);
    StatusOr<QueryResult> sax = DecodeQueryResponseSax(c.body);
    REQUIRE(!fast.ok());
    REQUIRE(!sax.ok());
    CHECK(fast.status().code() == StatusCode::kDataLoss);
    CHECK(sax.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(fast.status().message(), Catch::Contains(c.want));
  }
}

TEST_CASE("decode: fast and SAX decoders agree on mutated real bodies", "[decode]") {
  std::mt19937 rng(42);  // Fixed seed: deterministic.
  const std::string alphabet = "{}[],:\"\\0123456789.eE+-aNInf tnul";
  for (std::string name :
       {"prometheus_query_range_matrix.json", "victoriametrics_query_range_selector_matrix.json",
        "prometheus_query_vector_special_values.json", "prometheus_error_bad_data.json"}) {
    std::string body = ReadTestdata(name);
    for (int i = 0; i < 400; ++i) {
      std::string m = body;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        size_t pos = rng() % m.size();
        switch (rng() % 3) {
          case 0:
            m[pos] = alphabet[rng() % alphabet.size()];
            break;
          case 1:
            m.erase(pos, 1);
            break;
          default:
            m.insert(pos, 1, alphabet[rng() % alphabet.size()]);
            break;
        }
      }
      INFO(name << " mutation " << i << ": " << m);
      // What is checked is inside DecodeBoth (both decoders agree, neither crashes); whether a
      // mutated body decodes at all is not.
      DecodeBoth(m).IgnoreError();
    }
  }
}

TEST_CASE("decode: a label allowlist keeps only the listed names and prefixes", "[decode]") {
  const std::string body =
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"__name__":"kube_pod_labels","id":"/kubepods/x","label_app":"web",)"
      R"("label_tier":"front","namespace":"shop","pod":"web-1"},"value":[1767225600,"1"]}]}})";
  LabelAllowlist keep({"namespace", "pod", "container", "label_*"});
  CHECK(keep.Keeps("pod"));
  CHECK(keep.Keeps("label_app"));
  CHECK_FALSE(keep.Keeps("label"));  // The prefix itself is not a name that starts with it...
  CHECK(keep.Keeps("label_"));       // ...but the prefix followed by nothing is.
  CHECK_FALSE(keep.Keeps("pod_ip"));
  CHECK_FALSE(keep.Keeps("__name__"));
  StatusOr<QueryResult> r = DecodeQueryResponse(body, keep);
  REQUIRE(r.ok());
  REQUIRE(r->series.size() == 1);
  CHECK(r->series[0].labels == Labels{{"label_app", "web"},
                                      {"label_tier", "front"},
                                      {"namespace", "shop"},
                                      {"pod", "web-1"}});
  CHECK(r->series[0].values == std::vector<double>{1});
  // An empty allowlist keeps everything, as the one-argument decoder does.
  StatusOr<QueryResult> all = DecodeQueryResponse(body, LabelAllowlist());
  REQUIRE(all.ok());
  CHECK(all->series[0].labels.size() == 6);
  // Dropped labels are still parsed: a malformed value in one is an error, not skipped.
  std::string bad = body;
  bad.replace(bad.find(R"("/kubepods/x")"), 13, R"("/kubepods/x)");
  CHECK(DecodeQueryResponse(bad, keep).status().code() == StatusCode::kDataLoss);
}

TEST_CASE("decode: the allowlist applies to series responses", "[decode]") {
  StatusOr<std::vector<Labels>> r = DecodeSeriesResponse(
      ReadTestdata("prometheus_series.json"), LabelAllowlist({"namespace", "pod", "container"}));
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->empty());
  for (const Labels& l : *r) {
    for (const auto& [k, v] : l) CHECK((k == "namespace" || k == "pod" || k == "container"));
    CHECK(l.count("pod") == 1);
  }
}

}  // namespace oomcast
