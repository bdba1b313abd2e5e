// Rendering of forecasts for people (a table sorted by ETA) and for programs (JSON lines).
#pragma once

#include <string>
#include <vector>

#include "oomcast/predictor/forecast.h"

namespace oomcast::predictor {

// Columns NAMESPACE POD CONTAINER RSS LIMIT GROWTH/s ACCEL ETA RISK, human units, rows in the
// given order (the engine sorts by ETA). "-" for no limit / no ETA.
std::string FormatForecastTable(const std::vector<Forecast>& forecasts);

// The one JSON record of a forecast (`once -o json`, `backtest --records`), one line without
// its newline: {"namespace","pod","container","t","rss","limit","growth_rate","acceleration",
// "eta_seconds","risk","oom_predicted","warming_up"}. Times in Unix seconds to the millisecond,
// bytes whole, the ETA to 0.1 s, the risk to 4 decimals, rates to 9 significant digits;
// non-finite numbers (+Inf ETA, NaN limit) are null.
std::string FormatForecastJsonLine(const Forecast& f);

}  // namespace oomcast::predictor
