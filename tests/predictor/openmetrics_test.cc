#include "oomcast/predictor/openmetrics.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

namespace oomcast::predictor {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/oomcast_openmetrics_test_" + name;
}

TEST_CASE("parses series with labels, fractional second timestamps, NaN and Inf", "[openmetrics]") {
  const std::string text =
      "# HELP container_memory_rss RSS\n"
      "# TYPE container_memory_rss gauge\n"
      "container_memory_rss{namespace=\"dev\",pod=\"a\",container=\"app\"} 100 1767225600.000\n"
      "container_memory_rss{namespace=\"dev\",pod=\"b\",container=\"app\"} NaN 1767225600.5\n"
      "container_memory_rss{namespace=\"dev\",pod=\"a\",container=\"app\"} 1.5e2 1767225615\n"
      "container_memory_rss{pod=\"b\",namespace=\"dev\",container=\"app\"} +Inf 1767225615.25\n"
      "up 1 1767225600\n"
      "# EOF\n";
  auto data = ParseOpenMetrics(text);
  REQUIRE(data.ok());
  REQUIRE(data->series.size() == 3);
  CHECK(data->samples == 5);
  const OpenMetricsSeries& a = data->series[0];
  CHECK(a.metric == "container_memory_rss");
  CHECK(a.labels.at("pod") == "a");
  REQUIRE(a.values.size() == 2);
  CHECK(a.values[1] == 150);
  CHECK(a.timestamps_s[1] == 1767225615);
  const OpenMetricsSeries& b = data->series[1];
  REQUIRE(b.values.size() == 2);  // Same labels written in another order: the same series.
  CHECK(std::isnan(b.values[0]));
  CHECK(b.timestamps_s[0] == 1767225600.5);
  CHECK(std::isinf(b.values[1]));
  CHECK(data->series[2].metric == "up");
  CHECK(data->series[2].labels.empty());
}

TEST_CASE("integer millisecond timestamps are converted to seconds", "[openmetrics]") {
  auto data = ParseOpenMetrics("m{a=\"1\"} 5 1767225600123\n");
  REQUIRE(data.ok());
  CHECK(data->series[0].timestamps_s[0] == Approx(1767225600.123));
}

TEST_CASE("label escapes and metric filter", "[openmetrics]") {
  OpenMetricsOptions options;
  options.metrics = {"keep"};
  auto data = ParseOpenMetrics(
      "keep{l=\"a\\\"b\\\\c\\nd\"} 1 10\n"
      "drop{l=\"x\"} 2 10\n",
      options);
  REQUIRE(data.ok());
  REQUIRE(data->series.size() == 1);
  CHECK(data->series[0].labels.at("l") == "a\"b\\c\nd");
}

TEST_CASE("malformed lines are errors naming the line", "[openmetrics]") {
  const char* bad[] = {
      "m{a=\"1\" 5 10\n",           // Unterminated label set.
      "m{a=1} 5 10\n",              // Unquoted value.
      "m 5x 10\n",                  // Bad value.
      "m 5 ten\n",                  // Bad timestamp.
      "m 5\n",                      // No timestamp.
      "9m 5 10\n",                  // Bad name.
      "m{a=\"1\",a=\"2\"} 5 10\n",  // Duplicate label.
  };
  for (const char* line : bad) {
    auto data = ParseOpenMetrics(std::string("ok 1 1\n") + line);
    INFO(line);
    REQUIRE_FALSE(data.ok());
    CHECK(data.status().code() == StatusCode::kInvalidArgument);
    CHECK(data.status().message().rfind("line 2:", 0) == 0);
  }
  OpenMetricsOptions lenient;
  lenient.require_timestamps = false;
  auto data = ParseOpenMetrics("m 5\n", lenient);
  REQUIRE(data.ok());
  CHECK(data->samples == 0);
}

TEST_CASE("reads plain and gzip files; truncated gzip is data loss", "[openmetrics]") {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += "container_memory_rss{namespace=\"n\",pod=\"p\",container=\"c\"} " +
            std::to_string(1000 + i) + " " + std::to_string(1767225600 + 15 * i) + ".000\n";
  }
  text += "# EOF\n";
  const std::string plain = TempPath("plain.om");
  const std::string gz = TempPath("data.om.gz");
  {
    std::ofstream f(plain);
    f << text;
  }
  gzFile g = gzopen(gz.c_str(), "wb");
  REQUIRE(g != nullptr);
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);
  for (const std::string& path : {plain, gz}) {
    auto data = ReadOpenMetricsFile(path);
    REQUIRE(data.ok());
    REQUIRE(data->series.size() == 1);
    CHECK(data->series[0].values.size() == 2000);
    CHECK(data->series[0].values[1999] == 2999);
  }
  // Truncate the gzip file.
  std::ifstream in(gz, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string truncated = TempPath("truncated.om.gz");
  {
    std::ofstream f(truncated, std::ios::binary);
    f << bytes.substr(0, bytes.size() / 2);
  }
  auto data = ReadOpenMetricsFile(truncated);
  REQUIRE_FALSE(data.ok());
  CHECK(data.status().code() == StatusCode::kDataLoss);
  auto missing = ReadOpenMetricsFile(TempPath("does-not-exist.om"));
  CHECK(missing.status().code() == StatusCode::kNotFound);
  std::remove(plain.c_str());
  std::remove(gz.c_str());
  std::remove(truncated.c_str());
}

}  // namespace
}  // namespace oomcast::predictor
