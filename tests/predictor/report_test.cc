#include "oomcast/predictor/report.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "oomcast/predictor/html_report.h"

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

namespace oomcast::predictor {
namespace {

TEST_CASE("HTML report: one plot per container, worst first, names escaped", "[html]") {
  BacktestRun run;
  const ContainerKey good{"dev", "good", "app"};
  const ContainerKey bad{"dev", "bad</script><b>", "app"};
  for (const ContainerKey* k : {&good, &bad}) {
    ContainerHistory& h = run.history[*k];
    std::vector<Forecast>& fs = run.forecasts[*k];
    for (double t = 0; t <= 3600; t += 30) {
      h.t.push_back(t);
      h.bytes.push_back(1e8 + 1e5 * t);
      h.limit_t.push_back(t);
      h.limit_bytes.push_back(5e8);
      Forecast f;
      f.key = *k;
      f.t = t;
      f.rss_bytes = h.bytes.back();
      f.growth_rate_bytes_per_second = 1e5;
      // `good` alarms 20 minutes before its kill at 3600; `bad` never does.
      f.oom_predicted = k == &good && t >= 2400;
      fs.push_back(f);
    }
    TruthSeries truth;
    truth.key = *k;
    truth.family = "leak";
    truth.oom_times = {3600};
    truth.start = 0;
    truth.end = 3600;
    run.truth.push_back(truth);
  }
  std::ostringstream out;
  REQUIRE(WriteHtmlReport(run, HtmlReportOptions{}, out).ok());
  const std::string page = out.str();
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t p = page.find(needle); p != std::string::npos; p = page.find(needle, p + 1)) ++n;
    return n;
  };
  CHECK(count("<svg class=\"plot\"") == 2);
  // The container that missed its kill comes first.
  CHECK(page.find("dev/bad&lt;/script&gt;&lt;b&gt;/app") < page.find("dev/good/app"));
  CHECK(page.find("<b>/app") == std::string::npos);  // Escaped in the HTML...
  CHECK(count("</script>") == 2);                    // ...and cannot end the data script.
  CHECK(page.find("1 missed") != std::string::npos);
  CHECK(page.find("http://") == page.find("http://www.w3.org/2000/svg"));  // Nothing fetched.
}

}  // namespace
}  // namespace oomcast::predictor
