// Prometheus HTTP API client over the HttpClient interface: URL building, auth headers,
// retries with full-jitter exponential back-off, and errors that name backend, query, HTTP
// code and Prometheus' errorType.
#include "oomcast/prometheus_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <utility>

#include "oomcast/log.h"
#include "oomcast/url.h"

namespace oomcast {
namespace {

constexpr size_t kMaxQueryInMessage = 200;
constexpr size_t kMaxBodyInMessage = 200;
// Longer GET URLs are sent as POST application/x-www-form-urlencoded (all Prometheus-compatible
// backends accept it), since proxies commonly cap request lines at 4-8 KiB.
constexpr size_t kMaxGetUrlBytes = 4096;

// Seconds as the API expects them: "1767225600", "1767225600.5", "15", "0.25" (millisecond
// precision, which is what Prometheus keeps).
std::string FormatSeconds(double s) {
  char buf[64];
  if (std::fabs(s - std::round(s)) < 5e-4) {
    std::snprintf(buf, sizeof(buf), "%.0f", std::round(s));
    return buf;
  }
  std::snprintf(buf, sizeof(buf), "%.3f", s);
  std::string out = buf;
  while (!out.empty() && out.back() == '0') out.pop_back();
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string Truncate(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  return std::string(s.substr(0, n)) + "...(" + std::to_string(s.size()) + " bytes)";
}

// A body snippet fit for an error message: printable ASCII only.
std::string BodySnippet(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, kMaxBodyInMessage)) {
    out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : ' ');
  }
  if (body.size() > kMaxBodyInMessage) out += "...";
  return out;
}

std::string Base64(std::string_view in) {
  static const char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// Reads a secret file, dropping trailing whitespace (files made by `echo` end in a newline).
StatusOr<std::string> ReadSecretFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return FailedPreconditionError("cannot read " + std::string(what) + " file " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Parses Retry-After as delta-seconds; HTTP dates are not honoured (returns false).
bool ParseRetryAfter(const HttpResponse& r, double* seconds) {
  auto it = r.headers.find("retry-after");
  if (it == r.headers.end()) return false;
  std::string_view v = it->second;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  long n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || ptr != v.data() + v.size() || n < 0) return false;
  *seconds = static_cast<double>(n);
  return true;
}

class HttpPrometheusClient final : public PrometheusClient {
 public:
  HttpPrometheusClient(PrometheusBackendConfig config, HttpClient* http, Clock* clock,
                       std::function<double()> uniform01)
      : config_(std::move(config)), http_(http), clock_(clock), uniform01_(std::move(uniform01)) {
    while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
    if (!uniform01_) {
      auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
      auto mu = std::make_shared<std::mutex>();
      uniform01_ = [rng, mu]() {
        std::lock_guard<std::mutex> lock(*mu);
        return std::uniform_real_distribution<double>(0.0, 1.0)(*rng);
      };
    }
  }

  StatusOr<QueryResult> QueryRange(const std::string& query, double start_s, double end_s,
                                   double step_s) override {
    QueryParams params = {{"query", query},
                          {"start", FormatSeconds(start_s)},
                          {"end", FormatSeconds(end_s)},
                          {"step", FormatSeconds(step_s)}};
    StatusOr<std::string> body = Call("/api/v1/query_range", "query_range", query, params);
    if (!body.ok()) return body.status();
    return Decode(*body, "query_range", query);
  }

  StatusOr<QueryResult> Query(const std::string& query, double time_s) override {
    QueryParams params = {{"query", query}, {"time", FormatSeconds(time_s)}};
    StatusOr<std::string> body = Call("/api/v1/query", "query", query, params);
    if (!body.ok()) return body.status();
    return Decode(*body, "query", query);
  }

  StatusOr<std::vector<Labels>> Series(const std::string& match, double start_s,
                                       double end_s) override {
    QueryParams params = {
        {"match[]", match}, {"start", FormatSeconds(start_s)}, {"end", FormatSeconds(end_s)}};
    StatusOr<std::string> body = Call("/api/v1/series", "series", match, params);
    if (!body.ok()) return body.status();
    StatusOr<std::vector<Labels>> series = DecodeSeriesResponse(*body, config_.keep_labels);
    if (!series.ok()) return series.status().WithContext(Context("series", match) + ": HTTP 200");
    return series;
  }

 private:
  StatusOr<QueryResult> Decode(const std::string& body, std::string_view kind,
                               const std::string& query) {
    StatusOr<QueryResult> result = DecodeQueryResponse(body, config_.keep_labels);
    if (!result.ok()) return result.status().WithContext(Context(kind, query) + ": HTTP 200");
    for (const std::string& w : result->warnings) {
      LogWarn("query warning",
              {{"backend", config_.name}, {"query", Truncate(query, 200)}, {"warning", w}});
    }
    return result;
  }

  // "backend prometheus (http://host:9090): query_range \"up\""
  std::string Context(std::string_view kind, const std::string& query) const {
    return "backend " + config_.name + " (" + config_.base_url + "): " + std::string(kind) + " \"" +
           Truncate(query, kMaxQueryInMessage) + "\"";
  }

  StatusOr<HttpRequest> BuildRequest(std::string_view path, const QueryParams& params) const {
    std::string form = BuildQuery(params);
    HttpRequest req;
    req.timeout_seconds = config_.timeout_seconds;
    std::string url = config_.base_url + std::string(path);
    if (url.size() + 1 + form.size() <= kMaxGetUrlBytes) {
      req.method = "GET";
      req.url = url + "?" + form;
    } else {
      req.method = "POST";
      req.url = url;
      req.body = std::move(form);
      req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    }
    req.headers.emplace_back("Accept", "application/json");
    if (!config_.tenant.empty()) req.headers.emplace_back("X-Scope-OrgID", config_.tenant);
    if (!config_.bearer_token_file.empty()) {
      StatusOr<std::string> token = ReadSecretFile(config_.bearer_token_file, "bearer token");
      if (!token.ok()) return token.status();
      req.headers.emplace_back("Authorization", "Bearer " + *token);
    } else if (!config_.basic_auth_user.empty()) {
      std::string password;
      if (!config_.basic_auth_password_file.empty()) {
        StatusOr<std::string> p =
            ReadSecretFile(config_.basic_auth_password_file, "basic auth password");
        if (!p.ok()) return p.status();
        password = *std::move(p);
      }
      req.headers.emplace_back("Authorization",
                               "Basic " + Base64(config_.basic_auth_user + ":" + password));
    }
    // Extra headers win over the ones above when names collide.
    for (const auto& [name, value] : config_.extra_headers) {
      std::erase_if(req.headers, [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
    }
    for (const auto& h : config_.extra_headers) req.headers.push_back(h);
    return req;
  }

  // Runs the request with retries; returns the body of a 2xx response.
  StatusOr<std::string> Call(std::string_view path, std::string_view kind, const std::string& query,
                             const QueryParams& params) {
    bool retried_429 = false;
    const int max_retries = std::max(0, config_.max_retries);
    for (int attempt = 0;; ++attempt) {
      // The request is rebuilt on every attempt: token files are re-read (rotation).
      StatusOr<HttpRequest> req = BuildRequest(path, params);
      if (!req.ok()) return req.status().WithContext(Context(kind, query));
      StatusOr<HttpResponse> resp = http_->Do(*req);
      Status err;
      bool retryable = false;
      if (!resp.ok()) {
        const Status& st = resp.status();
        err = Status(st.code(), Context(kind, query) + ": " + st.message());
        retryable = st.code() == StatusCode::kUnavailable ||
                    st.code() == StatusCode::kDeadlineExceeded ||
                    st.code() == StatusCode::kDataLoss;
      } else if (resp->status_code >= 200 && resp->status_code <= 299) {
        return std::move(resp->body);
      } else {
        err = HttpError(*resp, kind, query);
        retryable = resp->status_code >= 500 && resp->status_code <= 599;
        double retry_after = 0;
        if (resp->status_code == 429 && !retried_429 && ParseRetryAfter(*resp, &retry_after) &&
            retry_after <= config_.retry_max_delay_seconds) {
          retried_429 = true;
          LogWarn("rate limited, retrying once after Retry-After",
                  {{"backend", config_.name},
                   {"query", Truncate(query, 200)},
                   {"delay_seconds", FormatSeconds(retry_after)}});
          clock_->SleepFor(retry_after);
          --attempt;  // Does not use up a back-off retry.
          continue;
        }
      }
      if (!retryable || attempt >= max_retries) {
        if (attempt > 0) {
          return Status(err.code(),
                        err.message() + " (after " + std::to_string(attempt + 1) + " attempts)");
        }
        return err;
      }
      double cap = std::min(config_.retry_max_delay_seconds,
                            config_.retry_base_delay_seconds * std::ldexp(1.0, attempt));
      double delay = std::max(0.0, cap) * std::clamp(uniform01_(), 0.0, 1.0);
      LogWarn("query failed, retrying", {{"backend", config_.name},
                                         {"query", Truncate(query, 200)},
                                         {"attempt", std::to_string(attempt + 1)},
                                         {"delay_seconds", FormatSeconds(delay)},
                                         {"err", err.ToString()}});
      clock_->SleepFor(delay);
    }
  }

  Status HttpError(const HttpResponse& resp, std::string_view kind, const std::string& query) {
    StatusCode code = HttpStatusToCode(resp.status_code);
    std::string msg = Context(kind, query) + ": HTTP " + std::to_string(resp.status_code);
    PrometheusApiError api;
    if (ParsePrometheusErrorBody(resp.body, &api)) {
      msg += " (errorType=" + (api.error_type.empty() ? "unknown" : api.error_type) + "): ";
      msg += Truncate(api.error, 1000);
      // Prometheus answers 503 for query timeouts: report them as such.
      if (api.error_type == "timeout") code = StatusCode::kDeadlineExceeded;
    } else {
      msg += ": " + BodySnippet(resp.body);
    }
    return Status(code, std::move(msg));
  }

  PrometheusBackendConfig config_;
  HttpClient* http_;
  Clock* clock_;
  std::function<double()> uniform01_;
};

}  // namespace

std::unique_ptr<PrometheusClient> NewHttpPrometheusClient(PrometheusBackendConfig config,
                                                          HttpClient* http, Clock* clock) {
  return NewHttpPrometheusClient(std::move(config), http, clock, nullptr);
}

std::unique_ptr<PrometheusClient> NewHttpPrometheusClient(PrometheusBackendConfig config,
                                                          HttpClient* http, Clock* clock,
                                                          std::function<double()> uniform01) {
  return std::make_unique<HttpPrometheusClient>(std::move(config), http, clock,
                                                std::move(uniform01));
}

}  // namespace oomcast
