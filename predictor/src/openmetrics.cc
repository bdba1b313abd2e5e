#include "oomcast/predictor/openmetrics.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

namespace oomcast::predictor {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Parses a float as written in the exposition formats: decimal/exponent, NaN, +Inf, -Inf, Inf.
bool ParseFloat(std::string_view s, double* out) {
  if (s.empty()) return false;
  if (s == "NaN" || s == "nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (s == "+Inf" || s == "Inf" || s == "+inf" || s == "inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Inf" || s == "-inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  char buf[64];
  if (s.size() >= sizeof(buf)) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return false;
  }
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(buf, &end);
  if (end != buf + s.size()) return false;
  *out = v;
  return true;
}

Status LineError(size_t line, const std::string& what) {
  return InvalidArgumentError("line " + std::to_string(line) + ": " + what);
}

// Parses the label set at line[*i] ('{') of line `n` into *labels; *i is left after the '}'.
Status ParseLabelSet(std::string_view line, size_t n, size_t* i, Labels* labels) {
  ++*i;
  while (true) {
    while (*i < line.size() && line[*i] == ' ') ++*i;
    if (*i >= line.size()) return LineError(n, "unterminated label set");
    if (line[*i] == '}') {
      ++*i;
      return Status::Ok();
    }
    const size_t ls = *i;
    if (!IsNameStart(line[*i])) return LineError(n, "bad label name");
    while (*i < line.size() && IsNameChar(line[*i])) ++*i;
    std::string lname(line.substr(ls, *i - ls));
    if (*i >= line.size() || line[*i] != '=')
      return LineError(n, "expected '=' after label " + lname);
    ++*i;
    if (*i >= line.size() || line[*i] != '"')
      return LineError(n, "expected '\"' for the value of label " + lname);
    ++*i;
    std::string value;
    bool closed = false;
    while (*i < line.size()) {
      const char c = line[(*i)++];
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\') {
        if (*i >= line.size()) break;
        const char e = line[(*i)++];
        if (e == 'n') {
          value += '\n';
        } else if (e == '\\' || e == '"') {
          value += e;
        } else {
          return LineError(n, "bad escape in the value of label " + lname);
        }
      } else {
        value += c;
      }
    }
    if (!closed) return LineError(n, "unterminated value of label " + lname);
    if (labels->count(lname)) return LineError(n, "duplicate label " + lname);
    labels->emplace(std::move(lname), std::move(value));
    while (*i < line.size() && line[*i] == ' ') ++*i;
    if (*i < line.size() && line[*i] == ',') {
      ++*i;
      continue;
    }
    if (*i < line.size() && line[*i] == '}') continue;
    return LineError(n, "expected ',' or '}' in the label set");
  }
}

// Parses the value and the optional timestamp (NaN when absent; seconds, milliseconds
// converted) after the series at line[i] of line `n`.
Status ParseValueAndTimestamp(std::string_view line, size_t n, size_t i, double* value,
                              double* ts) {
  if (i >= line.size() || line[i] != ' ') return LineError(n, "expected a space before the value");
  while (i < line.size() && line[i] == ' ') ++i;
  size_t vs = i;
  while (i < line.size() && line[i] != ' ') ++i;
  if (!ParseFloat(line.substr(vs, i - vs), value))
    return LineError(n, "bad value '" + std::string(line.substr(vs, i - vs)) + "'");
  while (i < line.size() && line[i] == ' ') ++i;
  *ts = std::numeric_limits<double>::quiet_NaN();
  if (i < line.size() && line[i] != '#') {
    size_t ts_start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    const std::string_view ts_text = line.substr(ts_start, i - ts_start);
    if (!ParseFloat(ts_text, ts) || !std::isfinite(*ts))
      return LineError(n, "bad timestamp '" + std::string(ts_text) + "'");
    // Prometheus text format writes integer milliseconds; OpenMetrics writes seconds. A value
    // beyond year 5000 in seconds can only be milliseconds.
    if (*ts > 1e11 && ts_text.find('.') == std::string_view::npos) *ts /= 1000.0;
    while (i < line.size() && line[i] == ' ') ++i;
    if (i < line.size() && line[i] != '#')
      return LineError(n, "unexpected text after the timestamp");
  }
  return Status::Ok();
}

}  // namespace

OpenMetricsParser::OpenMetricsParser(OpenMetricsOptions options) : options_(std::move(options)) {}

Status OpenMetricsParser::ParseLine(std::string_view line) {
  const size_t n = ++data_.lines;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return Status::Ok();
  if (line[0] == '#') {
    if (line == "# EOF") eof_seen_ = true;
    return Status::Ok();
  }
  if (eof_seen_) return LineError(n, "content after # EOF");
  // Metric name.
  size_t i = 0;
  if (!IsNameStart(line[0])) return LineError(n, "expected a metric name");
  while (i < line.size() && IsNameChar(line[i])) ++i;
  const std::string_view name = line.substr(0, i);
  Labels labels;
  if (i < line.size() && line[i] == '{') {
    OOMCAST_RETURN_IF_ERROR(ParseLabelSet(line, n, &i, &labels));
  }
  const std::string_view series_text = line.substr(0, i);
  double value;
  double ts;
  OOMCAST_RETURN_IF_ERROR(ParseValueAndTimestamp(line, n, i, &value, &ts));
  if (std::isnan(ts)) {
    if (options_.require_timestamps) return LineError(n, "sample without a timestamp");
    return Status::Ok();
  }
  if (!options_.metrics.empty() &&
      std::find(options_.metrics.begin(), options_.metrics.end(), name) == options_.metrics.end()) {
    return Status::Ok();
  }
  size_t index;
  if (has_last_ && series_text == last_key_) {
    index = last_index_;
  } else {
    // Canonical identity: the name and the sorted labels (the order written does not matter).
    std::string canonical(name);
    for (const auto& [k, v] : labels) {
      canonical += '\xff';
      canonical += k;
      canonical += '=';
      canonical += v;
    }
    auto it = index_.find(canonical);
    if (it == index_.end()) {
      index = data_.series.size();
      OpenMetricsSeries s;
      s.metric = std::string(name);
      s.labels = std::move(labels);
      data_.series.push_back(std::move(s));
      it = index_.emplace(std::move(canonical), index).first;
    } else {
      index = it->second;
    }
    last_key_.assign(series_text);
    last_index_ = index;
    has_last_ = true;
  }
  OpenMetricsSeries& s = data_.series[index];
  s.timestamps_s.push_back(ts);
  s.values.push_back(value);
  ++data_.samples;
  return Status::Ok();
}

OpenMetricsData OpenMetricsParser::Finish() {
  OpenMetricsData out = std::move(data_);
  data_ = OpenMetricsData();
  index_.clear();
  has_last_ = false;
  eof_seen_ = false;
  return out;
}

StatusOr<OpenMetricsData> ParseOpenMetrics(std::string_view text, OpenMetricsOptions options) {
  OpenMetricsParser parser(std::move(options));
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    OOMCAST_RETURN_IF_ERROR(parser.ParseLine(text.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return parser.Finish();
}

StatusOr<OpenMetricsData> ReadOpenMetricsFile(const std::string& path, OpenMetricsOptions options) {
  // gzopen reads plain files transparently.
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return NotFoundError("cannot open " + path + ": " + std::strerror(errno));
  gzbuffer(f, 1 << 17);
  OpenMetricsParser parser(std::move(options));
  std::string line;
  static constexpr size_t kChunk = 1 << 16;
  std::unique_ptr<char[]> buf(new char[kChunk]);
  Status status;
  while (true) {
    const int got = gzread(f, buf.get(), kChunk);
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      status = DataLossError(path + ": " + (msg ? msg : "read error"));
      break;
    }
    if (got == 0) break;
    size_t start = 0;
    for (int k = 0; k < got; ++k) {
      if (buf[k] == '\n') {
        line.append(buf.get() + start, k - start);
        status = parser.ParseLine(line);
        line.clear();
        start = k + 1;
        if (!status.ok()) break;
      }
    }
    if (!status.ok()) break;
    line.append(buf.get() + start, got - start);
  }
  // A corrupt or truncated stream explains any parse error of its last lines.
  int errnum = 0;
  const char* msg = gzerror(f, &errnum);
  if (errnum != Z_OK && errnum != Z_STREAM_END) {
    status = DataLossError(path + ": " + (msg ? msg : "corrupt gzip stream"));
  } else if (status.ok() && !line.empty()) {
    status = parser.ParseLine(line);
  }
  gzclose(f);
  if (!status.ok()) {
    if (status.code() == StatusCode::kInvalidArgument) {
      return InvalidArgumentError(path + ": " + status.message());
    }
    return status;
  }
  return parser.Finish();
}

}  // namespace oomcast::predictor
