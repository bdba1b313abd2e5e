// Rendering of forecasts for people (a table sorted by ETA) and for programs (JSON lines).
#pragma once

#include <string>
#include <vector>

#include "oomcast/predictor/forecast.h"

namespace oomcast::predictor {

// Columns NAMESPACE POD CONTAINER RSS LIMIT GROWTH/s ACCEL ETA RISK, human units, rows in the
// given order (the engine sorts by ETA). "-" for no limit / no ETA.
std::string FormatForecastTable(const std::vector<Forecast>& forecasts);

// One JSON object per line: namespace, pod, container, t, rss, limit, growth_rate,
// acceleration, eta_seconds (null when +Inf), risk, oom_predicted, warming_up.
std::string FormatForecastJsonLine(const Forecast& f);

}  // namespace oomcast::predictor
