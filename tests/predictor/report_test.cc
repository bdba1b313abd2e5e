#include "oomcast/predictor/report.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace oomcast::predictor {
namespace {

Forecast Sample() {
  Forecast f;
  f.key = {"shop", "api-7d9", "app"};
  f.t = 1767225600;
  f.rss_bytes = 900.0 * 1024 * 1024;
  f.limit_bytes = 1024.0 * 1024 * 1024;
  f.growth_rate_bytes_per_second = 150 * 1024;
  f.acceleration_bytes_per_second2 = 0;
  f.eta_seconds = 845;
  f.risk = 0.93;
  f.oom_predicted = true;
  f.warming_up = false;
  return f;
}

TEST_CASE("The table has the documented columns in human units") {
  Forecast nolimit = Sample();
  nolimit.key.pod = "batch";
  nolimit.limit_bytes = kNaN;
  nolimit.eta_seconds = kInf;
  std::string t = FormatForecastTable({Sample(), nolimit});
  CHECK(t ==
        "NAMESPACE  POD      CONTAINER  RSS     LIMIT    GROWTH/s  ACCEL  ETA     RISK\n"
        "shop       api-7d9  app        900MiB  1.00GiB  150KiB/s  0B/s2  14m05s  93%\n"
        "shop       batch    app        900MiB  -        150KiB/s  0B/s2  -       -\n");
}

TEST_CASE("JSON lines carry every field; +Inf ETA is null") {
  Forecast f = Sample();
  auto j = nlohmann::json::parse(FormatForecastJsonLine(f));
  CHECK(j["namespace"] == "shop");
  CHECK(j["pod"] == "api-7d9");
  CHECK(j["container"] == "app");
  CHECK(j["t"] == 1767225600.0);
  CHECK(j["eta_seconds"] == 845.0);
  CHECK(j["risk"] == 0.93);
  CHECK(j["oom_predicted"] == true);
  f.eta_seconds = kInf;
  f.limit_bytes = kNaN;
  j = nlohmann::json::parse(FormatForecastJsonLine(f));
  CHECK(j["eta_seconds"].is_null());
  CHECK(j["limit"].is_null());
}

}  // namespace
}  // namespace oomcast::predictor
