#include "oomcast/predictor/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "oomcast/escape.h"
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

// Appends `"name":` and `v` printed with `fmt`, or null when `v` is not finite.
void AppendNumber(std::string* s, const char* name, double v, const char* fmt = "%.9g") {
  *s += ",\"";
  *s += name;
  *s += "\":";
  if (!std::isfinite(v)) {
    *s += "null";
    return;
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), fmt, v);
  *s += buf;
}

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
  std::string s;
  s.reserve(320);
  s += "{\"namespace\":";
  AppendJsonString(f.key.namespace_name, &s);
  s += ",\"pod\":";
  AppendJsonString(f.key.pod, &s);
  s += ",\"container\":";
  AppendJsonString(f.key.container, &s);
  AppendNumber(&s, "t", f.t, "%.3f");
  AppendNumber(&s, "rss", f.rss_bytes, "%.0f");
  AppendNumber(&s, "limit", f.limit_bytes, "%.0f");
  AppendNumber(&s, "growth_rate", f.growth_rate_bytes_per_second);
  AppendNumber(&s, "acceleration", f.acceleration_bytes_per_second2);
  AppendNumber(&s, "eta_seconds", f.eta_seconds, "%.1f");
  AppendNumber(&s, "risk", f.risk, "%.4f");
  s += ",\"oom_predicted\":";
  s += f.oom_predicted ? "true" : "false";
  s += ",\"warming_up\":";
  s += f.warming_up ? "true" : "false";
  s += '}';
  return s;
}

}  // namespace oomcast::predictor
