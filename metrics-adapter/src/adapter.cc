#include "oomcast/metrics_adapter/adapter.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cmath>

#include "oomcast/log.h"
#include "oomcast/metrics_adapter/api_objects.h"

namespace oomcast::metrics_adapter {
namespace {

constexpr std::string_view kMetricsRoute =
    "/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{metric}";

ServerResponse FromApi(ApiResponse r) {
  ServerResponse out;
  out.code = r.code;
  out.body = std::move(r.body);
  return out;
}

ServerResponse StatusReply(int code, std::string_view message) {
  return FromApi(StatusResponse(code, message));
}

ServerResponse Text(int code, std::string body) {
  ServerResponse r;
  r.code = code;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

bool IsApiPath(std::string_view path) {
  return path == "/apis" || path == "/apis/" || path.rfind("/apis/", 0) == 0 || path == "/api" ||
         path.rfind("/api/", 0) == 0 || path.rfind("/openapi", 0) == 0;
}

}  // namespace

struct Adapter::Metrics {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("oomcast_adapter_requests_total")
          .Help("Requests served by the metrics adapter, by route and HTTP code.")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& duration =
      prometheus::BuildHistogram()
          .Name("oomcast_adapter_request_duration_seconds")
          .Help("Time to answer a request (after TLS and parsing), by route, in seconds.")
          .Register(*registry);
  // Only when the engine's exporter (which has the same gauge) is not appended.
  prometheus::Gauge* age_gauge = nullptr;
  std::mutex mu;
  std::map<std::string, prometheus::Histogram*> histograms;  // By route.
  std::map<std::pair<std::string, int>, prometheus::Counter*> counters;

  void Observe(const std::string& route, int code, double seconds) {
    prometheus::Histogram* h;
    prometheus::Counter* c;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto& hp = histograms[route];
      if (!hp) {
        hp = &duration.Add({{"path", route}}, prometheus::Histogram::BucketBoundaries{
                                                  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
      }
      auto& cp = counters[{route, code}];
      if (!cp) cp = &requests.Add({{"path", route}, {"code", std::to_string(code)}});
      h = hp;
      c = cp;
    }
    h->Observe(seconds);
    c->Increment();
  }
};

Adapter::Adapter(MetricsApi* api, Authenticator* authn, Authorizer* authz, Upstream* upstream,
                 const Clock* clock, std::function<std::string()> extra_metrics)
    : api_(api),
      authn_(authn),
      authz_(authz),
      upstream_(upstream),
      clock_(clock),
      extra_metrics_(std::move(extra_metrics)),
      metrics_(std::make_unique<Metrics>()) {
  if (!extra_metrics_) {
    metrics_->age_gauge =
        &prometheus::BuildGauge()
             .Name("oomcast_forecast_age_seconds")
             .Help("Seconds since the last successful forecast cycle (+Inf before the first).")
             .Register(*metrics_->registry)
             .Add({});
  }
}

Adapter::~Adapter() = default;

std::string Adapter::RenderMetrics() const {
  if (metrics_->age_gauge) metrics_->age_gauge->Set(api_->ForecastAgeSeconds());
  std::string out = prometheus::TextSerializer().Serialize(metrics_->registry->Collect());
  if (extra_metrics_) out += extra_metrics_();
  return out;
}

std::optional<ServerResponse> Adapter::Handle(const ServerRequest& request, Stage stage,
                                              Stage* next) {
  const auto start = std::chrono::steady_clock::now();
  std::string route;
  std::optional<ServerResponse> resp = Route(request, stage, next, &route);
  if (!resp) return resp;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->Observe(route, resp->code, seconds);
  if (resp->code >= 500) {
    LogDebug("request failed",
             {{"path", std::string(request.path)}, {"code", std::to_string(resp->code)}});
  }
  return resp;
}

std::optional<ServerResponse> Adapter::Route(const ServerRequest& request, Stage stage, Stage* next,
                                             std::string* route) {
  std::string_view path = request.path;
  // Health needs no credentials (k8s.io/apiserver's always-allowed paths); /metrics does.
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    *route = std::string(path);
    if (path == "/readyz") {
      return api_->Ready() ? Text(200, "ok")
                           : Text(503, "not ready: no successful forecast cycle yet");
    }
    return Text(200, "ok");
  }
  *route = path == "/metrics" ? "/metrics" : IsApiPath(path) ? "api-other" : "other";

  // Authentication: a token review (uncached) runs on its own stage; certificates never do.
  AuthnResult authn =
      authn_->Authenticate(*request.peer, request.headers, stage >= Stage::kTokenReview);
  if (authn.would_block) {
    *next = Stage::kTokenReview;
    return std::nullopt;
  }
  if (!authn.status.ok()) {
    ServerResponse r = StatusReply(401, "Unauthorized");
    LogDebug("unauthenticated request",
             {{"path", std::string(path)}, {"err", authn.status.message()}});
    return r;
  }

  if (request.method != "GET" && request.method != "HEAD") {
    ServerResponse r = StatusReply(405,
                                   "the server does not allow this method on the requested "
                                   "resource");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }

  // Authorization, with the attributes the apiserver would derive for this request.
  RequestAttributes attrs = AttributesForPath(request.method, path);
  AuthzResult authz = authz_->Authorize(authn.user, attrs, stage >= Stage::kAccessReview);
  if (authz.would_block) {
    *next = Stage::kAccessReview;
    return std::nullopt;
  }
  if (!authz.status.ok()) {
    if (authz.status.code() == StatusCode::kUnavailable) {
      return StatusReply(503, authz.status.message());
    }
    return StatusReply(403, authz.status.message());
  }

  if (path == "/metrics") {
    ServerResponse r = Text(200, RenderMetrics());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }
  static const std::string kPrefix = "/apis/external.metrics.k8s.io/v1beta1";
  if (path == "/apis" || path == "/apis/") {
    *route = "/apis";
    return FromApi({200, ApiGroupListJson()});
  }
  if (path == "/apis/external.metrics.k8s.io" || path == "/apis/external.metrics.k8s.io/") {
    *route = "/apis/external.metrics.k8s.io";
    return FromApi({200, ApiGroupJson()});
  }
  if (path == kPrefix || path == kPrefix + "/") {
    *route = kPrefix;
    return FromApi(
        {200, ApiResourceListJson(upstream_ ? upstream_->Resources()
                                            : std::vector<std::pair<std::string, std::string>>{})});
  }
  if (path.rfind(kPrefix + "/namespaces/", 0) == 0) {
    std::string_view rest = path.substr(kPrefix.size() + std::string_view("/namespaces/").size());
    size_t slash = rest.find('/');
    if (slash != rest.npos && slash > 0 && rest.find('/', slash + 1) == rest.npos &&
        slash + 1 < rest.size()) {
      std::string_view ns = rest.substr(0, slash);
      std::string_view metric = rest.substr(slash + 1);
      *route = std::string(kMetricsRoute);
      if (MetricIndex(metric) >= 0) return FromApi(api_->ListMetric(ns, metric, request.query));
      if (upstream_ != nullptr) {
        if (stage < Stage::kUpstream) {
          *next = Stage::kUpstream;
          return std::nullopt;
        }
        *route = "upstream";
        return upstream_->Forward(request, authn.user);
      }
      return StatusReply(404, "the server could not find the metric " + std::string(metric));
    }
  }
  return StatusReply(404, "the server could not find the requested resource");
}

}  // namespace oomcast::metrics_adapter
