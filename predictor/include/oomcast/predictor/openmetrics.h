// Streaming reader of OpenMetrics / Prometheus text exposition with timestamps, plain or gzip,
// into compact per-series arrays. Used by the backtest (history files) and the tests.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/prometheus_client.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

// One series: metric name, labels, and samples in file order.
struct OpenMetricsSeries {
  std::string metric;
  Labels labels;
  std::vector<double> timestamps_s;  // Unix seconds (millisecond integers are converted).
  std::vector<double> values;        // As written; NaN and +/-Inf are kept.
};

struct OpenMetricsData {
  std::vector<OpenMetricsSeries> series;  // In order of first appearance.
  size_t samples = 0;
  size_t lines = 0;
};

struct OpenMetricsOptions {
  // Only samples of these metric names are kept (empty: all). Other lines are still checked.
  std::vector<std::string> metrics;
  // A sample without a timestamp is an error (true) or is skipped (false).
  bool require_timestamps = true;
};

// Incremental parser: feed lines (without the trailing newline) in order, then Finish().
// Not thread-safe.
class OpenMetricsParser {
 public:
  explicit OpenMetricsParser(OpenMetricsOptions options = {});
  // Parses one line. On a malformed line returns InvalidArgument "line N: what is wrong".
  Status ParseLine(std::string_view line);
  // Takes the parsed data; the parser is empty afterwards.
  OpenMetricsData Finish();

 private:
  OpenMetricsOptions options_;
  OpenMetricsData data_;
  std::map<std::string, size_t, std::less<>> index_;  // Series text "name{labels}" -> series.
  std::string last_key_;
  size_t last_index_ = 0;
  bool has_last_ = false;
  bool eof_seen_ = false;
};

// Parses a whole text (plain, not compressed). Errors name the line number.
StatusOr<OpenMetricsData> ParseOpenMetrics(std::string_view text, OpenMetricsOptions options = {});

// Reads `path`, plain or gzip (detected from the content). NotFound when it cannot be opened,
// DataLoss for a corrupt gzip stream, InvalidArgument "PATH:LINE: ..." for a malformed line.
StatusOr<OpenMetricsData> ReadOpenMetricsFile(const std::string& path,
                                              OpenMetricsOptions options = {});

}  // namespace oomcast::predictor
