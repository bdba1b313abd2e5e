#include "oomcast/controller/forecast_source.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "oomcast/units.h"
#include "oomcast/url.h"

namespace oomcast::controller {
namespace {

using nlohmann::json;

struct Item {
  std::string pod;
  std::string container;
  double value = 0;
  double time = 0;
};

// GETs one metric; kFailedPrecondition for stale items.
StatusOr<std::vector<Item>> FetchMetric(KubeClient* client, const std::string& ns,
                                        const std::string& metric, const std::string& selector,
                                        double now, double max_age) {
  std::string path = "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns + "/" + metric;
  if (!selector.empty()) path += "?labelSelector=" + PercentEncode(selector);
  auto r = client->Request("GET", path);
  if (!r.ok()) return r.status();
  Status st = KubeResponseStatus(*r, "external metric " + metric);
  if (!st.ok()) return st;
  json list = json::parse(r->body, nullptr, false);
  if (list.is_discarded() || !list.is_object() || !list.contains("items") ||
      !list["items"].is_array()) {
    return DataLossError("external metric " + metric + ": not an ExternalMetricValueList");
  }
  std::vector<Item> out;
  for (const auto& it : list["items"]) {
    Item item;
    const json labels = it.value("metricLabels", json::object());
    if (labels.is_object()) {
      item.pod = labels.value("pod", "");
      item.container = labels.value("container", "");
    }
    auto value = ParseQuantity(it.value("value", ""));
    if (!value.ok()) {
      return DataLossError("external metric " + metric +
                           ": bad value: " + value.status().message());
    }
    item.value = *value;
    auto t = ParseRfc3339(it.value("timestamp", ""));
    if (!t.ok()) return DataLossError("external metric " + metric + ": bad timestamp");
    item.time = *t;
    if (now - item.time > max_age) {
      return FailedPreconditionError("external metric " + metric + ": stale forecast from " +
                                     it.value("timestamp", "") + " (" +
                                     FormatDurationHuman(now - item.time) + " old, max " +
                                     FormatDurationHuman(max_age) + ")");
    }
    out.push_back(item);
  }
  return out;
}

}  // namespace

StatusOr<double> ParseRfc3339(const std::string& text) { return ParseTimestamp(text); }

ForecastReading ExternalMetricsForecastSource::Fetch(const std::string& ns,
                                                     const std::string& selector, double max_age) {
  ForecastReading f;
  const double now = clock_->NowUnixSeconds();
  auto growth = FetchMetric(client_, ns, std::string(kGrowthRateMetric), selector, now, max_age);
  if (!growth.ok()) {
    f.error = growth.status().ToString();
    return f;
  }
  if (growth->empty()) {
    f.no_match = true;
    f.error = "selector \"" + selector + "\" matches no container in namespace " + ns +
              ": the external metric " + std::string(kGrowthRateMetric) +
              " answered with no items (forecasts are fresh; check the pods' labels)";
    return f;
  }
  auto eta = FetchMetric(client_, ns, std::string(kEtaMetric), selector, now, max_age);
  if (!eta.ok()) {
    f.error = eta.status().ToString();
    return f;
  }
  auto risk = FetchMetric(client_, ns, std::string(kRiskMetric), selector, now, max_age);
  if (!risk.ok()) {
    f.error = risk.status().ToString();
    return f;
  }
  // Each metric's items into the per-container forecasts (`field`), folding each item into the
  // target's aggregate with `fold`.
  std::map<std::pair<std::string, std::string>, PodForecast> pods;
  auto merge = [&pods](const std::vector<Item>& items, double PodForecast::*field, auto fold) {
    for (const Item& it : items) {
      PodForecast& p = pods[{it.pod, it.container}];
      p.pod = it.pod;
      p.container = it.container;
      p.*field = it.value;
      fold(it);
    }
  };
  f.time_unix_seconds = now;
  f.max_growth_bytes_per_second = -INFINITY;
  merge(*growth, &PodForecast::growth_bytes_per_second, [&f](const Item& it) {
    f.max_growth_bytes_per_second = std::max(f.max_growth_bytes_per_second, it.value);
    f.time_unix_seconds = std::min(f.time_unix_seconds, it.time);
  });
  merge(*eta, &PodForecast::oom_eta_seconds, [&f](const Item& it) {
    f.min_oom_eta_seconds = std::min(f.min_oom_eta_seconds, it.value);
  });
  merge(*risk, &PodForecast::oom_risk,
        [&f](const Item& it) { f.max_oom_risk = std::max(f.max_oom_risk, it.value); });
  const PodForecast* worst = nullptr;
  for (auto& [_, p] : pods) {
    f.pods.push_back(p);
  }
  for (const auto& p : f.pods) {
    if (worst == nullptr || p.oom_eta_seconds < worst->oom_eta_seconds ||
        (p.oom_eta_seconds == worst->oom_eta_seconds &&
         p.growth_bytes_per_second > worst->growth_bytes_per_second)) {
      worst = &p;
    }
  }
  if (worst != nullptr) f.worst_pod = worst->pod;
  f.available = true;
  return f;
}

}  // namespace oomcast::controller
