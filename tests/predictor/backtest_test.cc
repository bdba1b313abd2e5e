#include "oomcast/predictor/backtest.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "oomcast/predictor/report.h"

namespace oomcast::predictor {
namespace {

const ContainerKey kKey{"dev", "pod-a", "app"};

TEST_CASE("scores exactly like tools/score.py", "[backtest]") {
  TruthSeries truth;
  truth.key = kKey;
  truth.family = "leak";
  truth.oom_times = {10000, 10500, 30000};  // 10500 merges with 10000 (< 900 s apart).
  truth.start = 0;
  truth.end = 86400;
  AlarmSeries alarms;
  for (double t = 0; t <= 86400; t += 30) {
    const bool a =
        (t >= 9000 && t <= 10470) || (t >= 29220 && t <= 29970) || (t >= 50010 && t <= 50100);
    alarms.emplace_back(t, a);
  }
  std::map<ContainerKey, AlarmSeries> by_key{{kKey, alarms}};
  // Values checked against: python3 tools/score.py on the same input.
  const ScoreSummary s = ScoreAlarms({truth}, by_key);
  CHECK(s.totals.episodes_predictable == 2);
  CHECK(s.recall_5m == 1.0);
  CHECK(s.recall_10m == 1.0);
  CHECK(s.recall_15m == 0.5);
  CHECK(s.median_lead_s == 1000);
  CHECK(s.by_family.at("leak").true_alarm_points == 76);
  CHECK(s.by_family.at("leak").false_alarm_points == 4);
  CHECK(s.precision_points == Approx(76.0 / 80.0));
  CHECK(s.totals.false_alarm_episodes == 1);
  CHECK(s.false_alarm_episodes_per_series_day == Approx(1.0));
  CHECK(s.totals.points == alarms.size());
  CHECK(s.series_without_forecasts == 0);

  // Unpredictable episodes are not counted in recall.
  truth.predictable = false;
  const ScoreSummary u = ScoreAlarms({truth}, by_key);
  CHECK(u.totals.episodes_predictable == 0);
  CHECK(u.by_family.at("leak").episodes_unpredictable == 2);
  // A series without forecasts is reported.
  const ScoreSummary none = ScoreAlarms({truth}, {});
  CHECK(none.series_without_forecasts == 1);
}

TEST_CASE("censored and lingering alarms count neither way, as in score.py", "[backtest]") {
  // Three series over [0, 20000] s, forecasts every 30 s. Expected figures: python3
  // tools/score.py truth.json fc.jsonl --json on the same input (generated alongside).
  auto series = [](std::string pod, std::string family, std::vector<double> ooms) {
    TruthSeries s;
    s.key = {"dev", std::move(pod), "app"};
    s.family = std::move(family);
    s.oom_times = std::move(ooms);
    s.start = 0;
    s.end = 20000;
    return s;
  };
  std::vector<TruthSeries> truth = {series("a", "leak", {10000, 10500, 19500}),
                                    series("b", "flat", {}), series("c", "flat", {})};
  truth[2].expected_kill = true;
  std::map<ContainerKey, AlarmSeries> alarms;
  for (double t = 0; t <= 20000; t += 30) {
    // a: true before both episodes, lingering then false after the 10500 kill, a false run at
    // 14000, censored after the last kill (the data ends within H + tolerance).
    const bool a = (t >= 9000 && t <= 10470) || (t >= 10500 && t <= 10650) ||
                   (t >= 14000 && t <= 14060) || (t >= 18900 && t <= 19470) || t >= 19530;
    // b (never killed): an alarm at the end stays false; c (expected_kill): censored.
    const bool end_alarm = t >= 19800;
    alarms[truth[0].key].emplace_back(t, a);
    alarms[truth[1].key].emplace_back(t, end_alarm);
    alarms[truth[2].key].emplace_back(t, end_alarm);
  }
  const ScoreSummary s = ScoreAlarms(truth, alarms);
  CHECK(s.totals.episodes_predictable == 2);
  CHECK(s.recall_5m == 1.0);
  CHECK(s.recall_15m == 0.5);
  CHECK(s.median_lead_s == 1000);
  CHECK(s.precision_points == 0.8536585365853658);
  CHECK(s.totals.false_alarm_episodes == 3);
  CHECK(s.false_alarm_episodes_per_series_day == 4.320000000000001);  // Bit for bit.
  CHECK(s.totals.early_alarm_points == 0);
  CHECK(s.totals.censored_alarm_points == 23);
  CHECK(s.totals.lingering_alarm_points == 3);
  CHECK(s.totals.points == 2001);
  CHECK(s.by_family.at("leak").true_alarm_points == 70);
  CHECK(s.by_family.at("leak").false_alarm_points == 5);
  CHECK(s.by_family.at("flat").false_alarm_points == 7);
  // The summary text is line for line score.py --by-family's.
  std::ostringstream text;
  WriteSummaryText(s, text);
  CHECK(text.str() ==
        "flat             series=2   episodes=0   recall15=-     false_eps=1    "
        "alarm_pts(t/f)=0/7\n"
        "leak             series=1   episodes=2   recall15=0.50  false_eps=2    "
        "alarm_pts(t/f)=70/5\n"
        "episodes_predictable: 2\nrecall_5m: 1.000\nrecall_10m: 1.000\nrecall_15m: 0.500\n"
        "median_lead_s: 1000.000\nprecision_points: 0.854\nfalse_alarm_episodes: 3\n"
        "false_alarm_episodes_per_series_day: 4.320\nearly_alarm_points: 0\n"
        "censored_alarm_points: 23\nlingering_alarm_points: 3\nforecast_points: 2001\n"
        "series_without_forecasts: 0\n");
  // A grace of 0 s: the alarms right after the 10500 kill become false (the same episode).
  const ScoreSummary g = ScoreAlarms(truth, alarms, 900, 300, 0);
  CHECK(g.totals.lingering_alarm_points == 1);  // The alarm at the kill instant itself.
  CHECK(g.by_family.at("leak").false_alarm_points == 7);
  CHECK(g.totals.false_alarm_episodes == 3);
}

HistoryMap LeakHistory() {
  // A leak from 300 MB at 200 kB/s to a 1 GB limit, killed at the limit, restarted 30 s later.
  HistoryMap history;
  ContainerHistory& h = history[kKey];
  double t0 = 1767225600, level = 3e8;
  for (double t = t0; t < t0 + 12 * 3600; t += 15) {
    h.t.push_back(t);
    h.bytes.push_back(std::min(1e9, level));
    if (level >= 1e9) {
      level = 3e8;
      t += 15;  // Back-off: one scrape missed.
    } else {
      level += 2e5 * 15;
    }
    h.limit_t.push_back(t);
    h.limit_bytes.push_back(1e9);
  }
  return history;
}

TEST_CASE("replay feeds only samples up to each evaluation time", "[backtest]") {
  HistoryMap history = LeakHistory();
  const ContainerHistory& h = history.at(kKey);
  BacktestOptions options;
  options.step_seconds = 30;
  options.end_s = h.t.front() + 3600;
  size_t records = 0;
  Status st = ReplayHistory(history, options, [&](const Forecast& r) {
    ++records;
    // rss is the newest sample <= t.
    auto it = std::upper_bound(h.t.begin(), h.t.end(), r.t);
    REQUIRE(it != h.t.begin());
    CHECK(r.rss_bytes == h.bytes[static_cast<size_t>(it - h.t.begin()) - 1]);
    CHECK(r.last_sample_t == *(it - 1));
    CHECK(r.key == kKey);
    CHECK(r.limit_bytes == 1e9);
  });
  REQUIRE(st.ok());
  CHECK(records == 121);
  BacktestOptions bad;
  bad.step_seconds = 0;
  CHECK(ReplayHistory(history, bad, [](const Forecast&) {}).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("kills are inferred from the data and the leak is forecast", "[backtest]") {
  HistoryMap history = LeakHistory();
  std::vector<TruthSeries> inferred = InferKills(history);
  REQUIRE(inferred.size() == 1);
  // 700 MB at 3 MB per scrape: a kill every 234 scrapes + the missed one.
  CHECK(inferred[0].oom_times.size() >= 10);
  const auto& h = history.at(kKey);
  for (double k : inferred[0].oom_times) {
    auto it = std::lower_bound(h.t.begin(), h.t.end(), k);
    REQUIRE(it != h.t.end());
    CHECK(h.bytes[static_cast<size_t>(it - h.t.begin())] == 1e9);
  }
  BacktestOptions options;
  std::ostringstream out;
  auto summary = RunBacktest(history, options, nullptr, &out);
  REQUIRE(summary.ok());
  CHECK(summary->truth_inferred);
  CHECK(summary->recall_15m >= 0.9);
  CHECK(summary->precision_points >= 0.9);
  // Every line is a JSON object with the record's fields; +Inf ETA is null.
  std::istringstream lines(out.str());
  std::string line;
  size_t n = 0, null_eta = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    for (const char* k : {"namespace", "pod", "container", "t", "rss", "limit", "growth_rate",
                          "acceleration", "eta_seconds", "risk", "oom_predicted"}) {
      CHECK(j.contains(k));
    }
    null_eta += j["eta_seconds"].is_null();
    ++n;
  }
  CHECK(n == summary->totals.points);
  CHECK(null_eta > 0);
}

TEST_CASE("record JSON writes non-finite numbers as null", "[backtest]") {
  Forecast r;
  r.key = kKey;
  r.t = 1767225600;
  r.rss_bytes = 123;
  auto j = nlohmann::json::parse(FormatForecastJsonLine(r));
  CHECK(j["eta_seconds"].is_null());
  CHECK(j["limit"].is_null());
  CHECK(j["rss"] == 123);
  CHECK(j["pod"] == "pod-a");
  CHECK(j["oom_predicted"] == false);
}

TEST_CASE("truth JSON parsing", "[backtest]") {
  auto ok = ParseTruthJson(R"([{"namespace":"dev","pod":"p","container":"app","family":"f",
      "limit_bytes":1e9,"oom_times":[20,10],"predictable":false,"start":0,"end":100,"step":15}])");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 1);
  CHECK((*ok)[0].oom_times == std::vector<double>{10, 20});
  CHECK_FALSE((*ok)[0].predictable);
  CHECK(ParseTruthJson("{").status().code() == StatusCode::kInvalidArgument);
  auto bad = ParseTruthJson(R"([{"namespace":"dev"}])");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("entry 0") != std::string::npos);
  CHECK(ReadTruthFile("/nonexistent/truth.json").status().code() == StatusCode::kNotFound);
}

TEST_CASE("history from OpenMetrics and from query_range results agree", "[backtest]") {
  auto data = ParseOpenMetrics(
      "container_memory_rss{namespace=\"dev\",pod=\"pod-a\",container=\"app\"} 5 20\n"
      "container_memory_rss{namespace=\"dev\",pod=\"pod-a\",container=\"app\"} 4 10\n"
      "container_spec_memory_limit_bytes{namespace=\"dev\",pod=\"pod-a\",container=\"app\"} 9 10\n"
      "container_memory_rss{pod=\"nolabels\"} 1 10\n");
  REQUIRE(data.ok());
  HistoryMap a = HistoryFromOpenMetrics(*data);
  REQUIRE(a.size() == 1);
  const ContainerHistory& h = a.at(kKey);
  CHECK(h.t == std::vector<double>{10, 20});  // Sorted.
  CHECK(h.bytes == std::vector<double>{4, 5});
  CHECK(h.LimitAt(15) == 9);
  CHECK(std::isnan(h.LimitAt(5)));
  SeriesData mem{{{"namespace", "dev"}, {"pod", "pod-a"}, {"container", "app"}}, {10, 20}, {4, 5}};
  SeriesData lim{{{"namespace", "dev"}, {"pod", "pod-a"}, {"container", "app"}}, {10}, {9}};
  HistoryMap b = HistoryFromSeries({mem}, {lim});
  REQUIRE(b.size() == 1);
  CHECK(b.at(kKey).bytes == h.bytes);
  CHECK(b.at(kKey).limit_bytes == h.limit_bytes);
}

}  // namespace
}  // namespace oomcast::predictor
