// Client of the Prometheus HTTP API (/api/v1/query, /api/v1/query_range, /api/v1/series), the
// same for Prometheus, VictoriaMetrics single-node and cluster (/select/<tenant>/prometheus
// prefix in base_url), Thanos and Mimir (X-Scope-OrgID via tenant or extra headers).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/http_client.h"
#include "oomcast/status.h"

namespace oomcast {

using Labels = std::map<std::string, std::string>;

// Label names a decoder keeps. Labels a caller never reads are skipped while decoding instead
// of being copied into every series' map: a cAdvisor series carries ~14 labels, the predictor
// reads 3, and at 100 000 series building and freeing the others costs more than the parse.
// Empty (the default): every label is kept. An entry ending in '*' keeps a prefix ("label_*").
class LabelAllowlist {
 public:
  LabelAllowlist() = default;
  explicit LabelAllowlist(std::vector<std::string> entries);
  bool empty() const { return exact_.empty() && prefixes_.empty(); }
  bool Keeps(std::string_view name) const;

 private:
  std::vector<std::string> exact_;
  std::vector<std::string> prefixes_;
};

// One series of a query result, decoded straight into compact arrays (no JSON DOM).
// timestamps_s[i] (Unix seconds) pairs with values[i]. Values may be NaN/+Inf as sent.
struct SeriesData {
  Labels labels;
  std::vector<double> timestamps_s;
  std::vector<double> values;
};

struct QueryResult {
  std::string result_type;  // "matrix" or "vector" (scalar/string results are rejected).
  std::vector<SeriesData> series;
  std::vector<std::string> warnings;
  size_t response_bytes = 0;
  size_t samples = 0;
};

struct PrometheusBackendConfig {
  std::string name = "prometheus";  // Used in errors, logs and metric labels.
  std::string base_url;  // e.g. http://host:9090 or http://vmselect:8481/select/0/prometheus
  std::string tenant;    // Non-empty: sent as X-Scope-OrgID.
  std::string bearer_token_file;  // Re-read on every request (rotated tokens).
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::vector<std::pair<std::string, std::string>> extra_headers;
  double timeout_seconds = 30;
  int max_retries = 2;                    // On timeouts and 5xx only, never on 4xx.
  double retry_base_delay_seconds = 0.5;  // Full-jitter exponential back-off base.
  double retry_max_delay_seconds = 5;
  // Applied to every query and series response of the client; empty keeps every label.
  LabelAllowlist keep_labels;
};

// Thread-compatible. Every error message names the backend, the query, the HTTP code and
// Prometheus' errorType when the server sent one, e.g.
//   unavailable: backend prometheus (http://..): query_range "up": HTTP 503
//   (errorType=unavailable): ...
class PrometheusClient {
 public:
  virtual ~PrometheusClient() = default;
  // Range query over [start_s, end_s] (Unix seconds) at step_s. Result type "matrix".
  virtual StatusOr<QueryResult> QueryRange(const std::string& query, double start_s, double end_s,
                                           double step_s) = 0;
  // Instant query at time_s. Result type "vector" (one sample per series) or "matrix" for range
  // selectors such as `rss[5m]`, whose raw samples are returned.
  virtual StatusOr<QueryResult> Query(const std::string& query, double time_s) = 0;
  // Label sets of series matching `match` within [start_s, end_s].
  virtual StatusOr<std::vector<Labels>> Series(const std::string& match, double start_s,
                                               double end_s) = 0;
};

// `http` and `clock` must outlive the client. `clock` provides back-off sleeps.
std::unique_ptr<PrometheusClient> NewHttpPrometheusClient(PrometheusBackendConfig config,
                                                          HttpClient* http, Clock* clock);

// As above, with the back-off jitter drawn from `uniform01` (values in [0, 1)) instead of a
// per-client PRNG, so tests can make back-off sleeps exact. Retry policy: attempt n (0-based)
// that failed with a timeout, a transport error or a 5xx sleeps uniform01() * min(max_delay,
// base_delay * 2^n) before the next of at most 1 + max_retries attempts; 4xx are final; a 429
// with a Retry-After (seconds) <= retry_max_delay_seconds is retried once after that delay.
std::unique_ptr<PrometheusClient> NewHttpPrometheusClient(PrometheusBackendConfig config,
                                                          HttpClient* http, Clock* clock,
                                                          std::function<double()> uniform01);

// Decodes a Prometheus API JSON body ({"status":"success","data":{...}}) in one streaming pass,
// without a DOM.
// Errors: kDataLoss for malformed/truncated JSON, kInvalidArgument etc. mapped from an
// {"status":"error","errorType":...} body (errorType named in the message).
// Result types are validated: "scalar" and "string" fail with kInvalidArgument. Extra fields
// (VictoriaMetrics' "stats"/"isPartial", Prometheus' "infos", native "histograms") are ignored.
// Runs a hand-rolled single-pass parser specialized for this shape (>= 100 MB/s on one core).
StatusOr<QueryResult> DecodeQueryResponse(std::string_view body);
// As above, keeping only the labels `keep` allows (all labels are still validated).
StatusOr<QueryResult> DecodeQueryResponse(std::string_view body, const LabelAllowlist& keep);

// The reference decoder on nlohmann-json's SAX interface (json::sax_parse). Same contract and
// same results as DecodeQueryResponse, about 4x slower; kept to cross-check the fast decoder.
StatusOr<QueryResult> DecodeQueryResponseSax(std::string_view body);

// Decodes a /api/v1/series body ({"status":"success","data":[{labels},...]}). Same error
// contract as DecodeQueryResponse.
StatusOr<std::vector<Labels>> DecodeSeriesResponse(std::string_view body);
StatusOr<std::vector<Labels>> DecodeSeriesResponse(std::string_view body,
                                                   const LabelAllowlist& keep);

// The fields of a Prometheus error body {"status":"error","errorType":"...","error":"..."}.
struct PrometheusApiError {
  std::string error_type;  // "bad_data", "execution", ...; VictoriaMetrics sends "422" etc.
  std::string error;
};

// Returns true and fills *out when `body` is a JSON object with "status":"error" (missing
// fields stay empty); false for anything else, including malformed JSON. Never throws.
bool ParsePrometheusErrorBody(std::string_view body, PrometheusApiError* out);

// Maps a Prometheus errorType to a code: bad_data/execution -> kInvalidArgument, timeout ->
// kDeadlineExceeded, canceled/unavailable -> kUnavailable, not_found -> kNotFound, numeric
// VictoriaMetrics types by HTTP code (see HttpStatusToCode); anything else -> kInternal.
StatusCode StatusCodeFromPrometheusErrorType(std::string_view error_type);

// Maps an HTTP status of a Prometheus API response to a code: 400/422 -> kInvalidArgument,
// 401 -> kUnauthenticated, 403 -> kPermissionDenied, 404 -> kNotFound, 429 ->
// kResourceExhausted, 504 -> kDeadlineExceeded, other 5xx -> kUnavailable, other -> kInternal.
StatusCode HttpStatusToCode(int http_status);

}  // namespace oomcast
