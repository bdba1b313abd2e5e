#include "oomcast/predictor/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "oomcast/units.h"

namespace oomcast::predictor {
namespace {

std::string Rate(double bytes_per_s) {
  if (!std::isfinite(bytes_per_s)) return "-";
  return FormatBytesHuman(bytes_per_s) + "/s";
}

std::string Accel(double v) {
  if (!std::isfinite(v)) return "-";
  return FormatBytesHuman(v) + "/s2";
}

std::string Json(double v) { return std::isfinite(v) ? nlohmann::json(v).dump() : "null"; }

}  // namespace

std::string FormatForecastTable(const std::vector<Forecast>& forecasts) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"NAMESPACE", "POD", "CONTAINER", "RSS", "LIMIT", "GROWTH/s", "ACCEL", "ETA", "RISK"});
  for (const auto& f : forecasts) {
    char risk[16];
    std::snprintf(risk, sizeof risk, "%.0f%%", 100 * f.risk);
    bool has_limit = !std::isnan(f.limit_bytes);
    std::string eta = has_limit ? FormatDurationHuman(f.eta_seconds) : "-";
    if (f.warming_up && has_limit) eta += "*";
    rows.push_back({f.key.namespace_name, f.key.pod, f.key.container, FormatBytesHuman(f.rss_bytes),
                    has_limit ? FormatBytesHuman(f.limit_bytes) : "-",
                    Rate(f.growth_rate_bytes_per_second), Accel(f.acceleration_bytes_per_second2),
                    eta, has_limit ? std::string(risk) : "-"});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

std::string FormatForecastJsonLine(const Forecast& f) {
  std::string s = "{\"namespace\":" + nlohmann::json(f.key.namespace_name).dump() +
                  ",\"pod\":" + nlohmann::json(f.key.pod).dump() +
                  ",\"container\":" + nlohmann::json(f.key.container).dump() +
                  ",\"t\":" + Json(f.t) + ",\"rss\":" + Json(f.rss_bytes) +
                  ",\"limit\":" + Json(f.limit_bytes) +
                  ",\"growth_rate\":" + Json(f.growth_rate_bytes_per_second) +
                  ",\"acceleration\":" + Json(f.acceleration_bytes_per_second2) +
                  ",\"eta_seconds\":" + Json(f.eta_seconds) + ",\"risk\":" + Json(f.risk) +
                  ",\"oom_predicted\":" + (f.oom_predicted ? "true" : "false") +
                  ",\"warming_up\":" + (f.warming_up ? "true" : "false") + "}";
  return s;
}

}  // namespace oomcast::predictor
