// Client of the Prometheus HTTP API (/api/v1/query, /api/v1/query_range, /api/v1/series), the
// same for Prometheus, VictoriaMetrics single-node and cluster (/select/<tenant>/prometheus
// prefix in base_url), Thanos and Mimir (X-Scope-OrgID via tenant or extra headers).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/http_client.h"
#include "oomcast/status.h"

namespace oomcast {

using Labels = std::map<std::string, std::string>;

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
  std::string base_url;             // e.g. http://host:9090 or http://vmselect:8481/select/0/prometheus
  std::string tenant;               // Non-empty: sent as X-Scope-OrgID.
  std::string bearer_token_file;    // Re-read on every request (rotated tokens).
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::vector<std::pair<std::string, std::string>> extra_headers;
  double timeout_seconds = 30;
  int max_retries = 2;                  // On timeouts and 5xx only, never on 4xx.
  double retry_base_delay_seconds = 0.5;  // Full-jitter exponential back-off base.
  double retry_max_delay_seconds = 5;
};

// Thread-compatible. Every error message names the backend, the query, the HTTP code and
// Prometheus' errorType when the server sent one, e.g.
//   unavailable: backend prometheus (http://..): query_range "up": HTTP 503 (errorType=unavailable): ...
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

// Decodes a Prometheus API JSON body ({"status":"success","data":{...}}) with a SAX parser.
// Errors: kDataLoss for malformed/truncated JSON, kInvalidArgument etc. mapped from an
// {"status":"error","errorType":...} body (errorType named in the message).
StatusOr<QueryResult> DecodeQueryResponse(std::string_view body);

}  // namespace oomcast
