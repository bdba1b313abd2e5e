// A table-driven HttpClient for tests: canned responses keyed by the request's path+query, or a
// handler function; every request is recorded.
//
//   FakeHttpClient http;
//   http.Add("/api/v1/query?query=up&time=1767225600", JsonResponse(200, R"({...})"));
//   http.AddSequence("/api/v1/query?...", {UnavailableError("reset"), JsonResponse(200, ...)});
//   http.SetHandler([](const HttpRequest& r) -> StatusOr<HttpResponse> { ... });
//
// Lookup order: a sequence for the key (each call takes the next entry; the last one repeats),
// then the table, then the handler; otherwise a 404 whose body names the unmatched key.
// The key of a request is everything after scheme://authority in its URL ("/path?query"); for
// a POST with a form body it is "/path?" + body, so GET and POST of the same params match alike.
// Thread-safe.
#pragma once

#include <algorithm>
#include <cctype>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "oomcast/http_client.h"

namespace oomcast::testing {

inline HttpResponse JsonResponse(int status_code, std::string body) {
  HttpResponse r;
  r.status_code = status_code;
  r.headers["content-type"] = "application/json";
  r.body = std::move(body);
  return r;
}

class FakeHttpClient final : public HttpClient {
 public:
  using Handler = std::function<StatusOr<HttpResponse>(const HttpRequest&)>;

  // Every request with this key gets `response` (an HttpResponse or a transport error Status).
  void Add(const std::string& key, StatusOr<HttpResponse> response) {
    std::lock_guard<std::mutex> lock(mu_);
    table_.insert_or_assign(key, std::move(response));
  }

  // Successive requests with this key get successive entries; the last one repeats.
  void AddSequence(const std::string& key, std::vector<StatusOr<HttpResponse>> responses) {
    std::lock_guard<std::mutex> lock(mu_);
    sequences_[key] = std::deque<StatusOr<HttpResponse>>(responses.begin(), responses.end());
  }

  // Answers requests that match no table entry.
  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }

  StatusOr<HttpResponse> Do(const HttpRequest& request) override {
    std::string key = KeyOf(request);
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      if (auto it = sequences_.find(key); it != sequences_.end() && !it->second.empty()) {
        StatusOr<HttpResponse> r = it->second.front();
        if (it->second.size() > 1) it->second.pop_front();
        return r;
      }
      if (auto it = table_.find(key); it != table_.end()) return it->second;
      handler = handler_;
    }
    if (handler) return handler(request);
    return JsonResponse(404, "FakeHttpClient: no response for key \"" + key + "\"");
  }

  // All requests so far, in order.
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }

  // "/path?query" of an absolute URL ("/" when the URL has no path).
  static std::string PathAndQuery(const std::string& url) {
    size_t scheme = url.find("://");
    size_t start = scheme == std::string::npos ? 0 : scheme + 3;
    size_t slash = url.find('/', start);
    return slash == std::string::npos ? "/" : url.substr(slash);
  }

  static std::string KeyOf(const HttpRequest& request) {
    std::string key = PathAndQuery(request.url);
    if (request.method == "POST" && !request.body.empty()) key += "?" + request.body;
    return key;
  }

  // Value of the first header named `name` (case-insensitive), or "" when absent.
  static std::string Header(const HttpRequest& request, std::string_view name) {
    for (const auto& [k, v] : request.headers) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return v;
      }
    }
    return "";
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, StatusOr<HttpResponse>> table_;
  std::map<std::string, std::deque<StatusOr<HttpResponse>>> sequences_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
};

}  // namespace oomcast::testing
