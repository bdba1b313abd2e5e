#include "oomcast/metrics_adapter/upstream.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "oomcast/log.h"
#include "oomcast/metrics_adapter/api_objects.h"
#include "oomcast/metrics_adapter/metrics_api.h"
#include "oomcast/url.h"

namespace oomcast::metrics_adapter {

namespace {

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Upstream::Upstream(UpstreamOptions options, HttpClient* http, const Clock* clock)
    : options_(std::move(options)), http_(http), clock_(clock) {
  while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
}

ServerResponse Upstream::Forward(const ServerRequest& request, const UserInfo& user) {
  HttpRequest req;
  req.method = "GET";
  // The decoded path that was authorized, re-encoded canonically: what the upstream serves is
  // exactly what the caller was allowed to read.
  req.url = options_.url + PercentEncodePath(request.path);
  if (!request.query.empty()) req.url += "?" + std::string(request.query);
  req.timeout_seconds = options_.timeout_seconds;
  req.headers.emplace_back("Accept", "application/json");
  if (!options_.token_file.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + ReadTrimmed(options_.token_file));
  }
  if (!options_.client_cert_file.empty()) {
    req.headers.emplace_back("X-Remote-User", user.name);
    for (const std::string& g : user.groups) req.headers.emplace_back("X-Remote-Group", g);
    for (const auto& [k, vs] : user.extra) {
      const std::string escaped = PercentEncode(k);
      for (const std::string& v : vs) req.headers.emplace_back("X-Remote-Extra-" + escaped, v);
    }
  }
  auto resp = http_->Do(req);
  if (!resp.ok()) {
    LogWarn("upstream request failed", {{"url", req.url}, {"err", resp.status().ToString()}});
    return {503,
            "application/json",
            StatusObjectJson(
                503, "ServiceUnavailable",
                "upstream external metrics provider unavailable: " + resp.status().message()),
            {}};
  }
  ServerResponse out;
  out.code = resp->status_code;
  out.body = std::move(resp->body);
  return out;
}

Status Upstream::RefreshDiscovery() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_refresh_attempt_ = clock_->NowUnixSeconds();
  }
  HttpRequest req;
  req.url = options_.url + "/apis/external.metrics.k8s.io/v1beta1";
  req.timeout_seconds = options_.timeout_seconds;
  req.headers.emplace_back("Accept", "application/json");
  if (!options_.token_file.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + ReadTrimmed(options_.token_file));
  }
  if (!options_.client_cert_file.empty()) {
    req.headers.emplace_back("X-Remote-User", "system:serviceaccount:oomcast:discovery");
    req.headers.emplace_back("X-Remote-Group", "system:authenticated");
  }
  auto resp = http_->Do(req);
  if (!resp.ok()) return resp.status().WithContext("upstream discovery");
  if (resp->status_code != 200) {
    return UnavailableError("upstream discovery: HTTP " + std::to_string(resp->status_code));
  }
  std::vector<std::pair<std::string, std::string>> resources;
  try {
    auto j = nlohmann::json::parse(resp->body);
    for (const auto& r : j.at("resources")) {
      std::string name = r.at("name").get<std::string>();
      if (MetricIndex(name) >= 0) continue;  // Ours win.
      resources.emplace_back(name, r.dump());
    }
  } catch (const std::exception& e) {
    return DataLossError(std::string("upstream discovery: malformed APIResourceList: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  resources_ = std::move(resources);
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> Upstream::Resources() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resources_;
}

bool Upstream::DiscoveryDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  return clock_->NowUnixSeconds() - last_refresh_attempt_ >= options_.discovery_refresh_seconds;
}

}  // namespace oomcast::metrics_adapter
