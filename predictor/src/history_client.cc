#include "oomcast/predictor/history_client.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <numeric>
#include <regex>

#include "oomcast/units.h"

namespace oomcast::predictor {

void SortSamplesByTime(std::vector<double>* ts, std::vector<double>* vs, bool keep_last_of_equal) {
  if (std::is_sorted(ts->begin(), ts->end()) &&
      (!keep_last_of_equal || std::adjacent_find(ts->begin(), ts->end()) == ts->end())) {
    return;
  }
  std::vector<size_t> order(ts->size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return (*ts)[a] < (*ts)[b]; });
  std::vector<double> t2, v2;
  t2.reserve(order.size());
  v2.reserve(order.size());
  for (size_t i : order) {
    if (keep_last_of_equal && !t2.empty() && t2.back() == (*ts)[i]) {
      v2.back() = (*vs)[i];
      continue;
    }
    t2.push_back((*ts)[i]);
    v2.push_back((*vs)[i]);
  }
  *ts = std::move(t2);
  *vs = std::move(v2);
}

namespace {

constexpr size_t kMaxCachedQueries = 256;

enum class MatchOp { kEq, kNe, kRe, kNre };

struct Matcher {
  std::string name;
  MatchOp op = MatchOp::kEq;
  std::string value;
  std::regex re;

  bool Matches(const std::string& metric, const Labels& labels) const {
    std::string_view v;
    if (name == "__name__") {
      v = metric;
    } else {
      auto it = labels.find(name);
      if (it != labels.end()) v = it->second;  // A missing label matches as "".
    }
    switch (op) {
      case MatchOp::kEq:
        return v == value;
      case MatchOp::kNe:
        return v != value;
      case MatchOp::kRe:
        return std::regex_match(v.begin(), v.end(), re);
      case MatchOp::kNre:
        return !std::regex_match(v.begin(), v.end(), re);
    }
    return false;
  }
};

// A cursor over a PromQL expression of the supported subset (see the header).
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool Done() {
    SkipSpace();
    return i_ == s_.size();
  }
  bool Eat(std::string_view tok) {
    SkipSpace();
    if (s_.substr(i_, tok.size()) != tok) return false;
    i_ += tok.size();
    return true;
  }
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  // A metric or label name; empty when none here.
  std::string Ident() {
    SkipSpace();
    size_t b = i_;
    while (i_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == ':')) {
      ++i_;
    }
    return std::string(s_.substr(b, i_ - b));
  }
  // A quoted string ("..." or '...') with PromQL escapes; false when malformed.
  bool String(std::string* out) {
    SkipSpace();
    if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return false;
    const char q = s_[i_++];
    out->clear();
    while (i_ < s_.size() && s_[i_] != q) {
      char c = s_[i_++];
      if (c == '\\' && i_ < s_.size()) {
        c = s_[i_++];
        if (c == 'n') c = '\n';
        if (c == 't') c = '\t';
      }
      *out += c;
    }
    if (i_ >= s_.size()) return false;
    ++i_;
    return true;
  }
  // Text up to (not including) `stop`; false when `stop` never comes.
  bool Until(char stop, std::string* out) {
    size_t e = s_.find(stop, i_);
    if (e == std::string_view::npos) return false;
    *out = std::string(s_.substr(i_, e - i_));
    i_ = e;
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

struct HistoryPrometheusClient::Parsed {
  enum class Agg { kNone, kMax, kMin, kSum };
  Agg agg = Agg::kNone;
  double range_s = 0;            // > 0: a range selector.
  std::vector<size_t> series;    // Matching series, in the order of their answer labels.
  std::vector<size_t> group_of;  // Aggregations: the group of series[i].
  std::vector<Labels> groups;    // Aggregations: the labels of each group.
};

std::vector<RecordedSeries> RecordedFromOpenMetrics(OpenMetricsData&& data) {
  std::vector<RecordedSeries> out;
  out.reserve(data.series.size());
  for (OpenMetricsSeries& s : data.series) {
    RecordedSeries r;
    r.metric = std::move(s.metric);
    r.labels = std::move(s.labels);
    r.timestamps_s = std::move(s.timestamps_s);
    r.values = std::move(s.values);
    SortSamplesByTime(&r.timestamps_s, &r.values, /*keep_last_of_equal=*/true);
    out.push_back(std::move(r));
  }
  data.series.clear();
  return out;
}

ReplayClock::ReplayClock(double now_unix_s) : now_(now_unix_s) {}
double ReplayClock::NowUnixSeconds() const { return now_.load(); }
void ReplayClock::SleepFor(double seconds) { now_ = now_.load() + std::max(0.0, seconds); }
void ReplayClock::Set(double now_unix_s) { now_ = now_unix_s; }

HistoryPrometheusClient::HistoryPrometheusClient(std::vector<RecordedSeries> series,
                                                 const Clock* clock, LabelAllowlist keep,
                                                 double lookback_seconds)
    : series_(std::move(series)),
      clock_(clock),
      keep_(std::move(keep)),
      lookback_seconds_(lookback_seconds) {
  out_labels_.reserve(series_.size());
  for (RecordedSeries& s : series_) {
    SortSamplesByTime(&s.timestamps_s, &s.values, /*keep_last_of_equal=*/true);
    Labels out;
    if (keep_.empty() || keep_.Keeps("__name__")) out["__name__"] = s.metric;
    for (const auto& [k, v] : s.labels) {
      if (keep_.empty() || keep_.Keeps(k)) out[k] = v;
    }
    out_labels_.push_back(std::move(out));
  }
}

HistoryPrometheusClient::~HistoryPrometheusClient() = default;

StatusOr<const HistoryPrometheusClient::Parsed*> HistoryPrometheusClient::Parse(
    const std::string& query) {
  auto cached = parsed_.find(query);
  if (cached != parsed_.end()) return cached->second.get();
  auto bad = [&](const std::string& what) {
    return InvalidArgumentError("history: query \"" + query + "\": " + what +
                                " (a replay answers vector and range selectors and max/min/sum "
                                "by (...) of a selector)");
  };
  auto p = std::make_unique<Parsed>();
  Lexer lx(query);
  std::vector<std::string> by;
  bool aggregated = false;
  std::string metric = lx.Ident();
  if (metric == "max" || metric == "min" || metric == "sum") {
    // An aggregation when followed by `by (` or `(`; else a metric of that name.
    if (lx.Peek() == '(' || lx.Peek() == 'b') {
      p->agg = metric == "max"   ? Parsed::Agg::kMax
               : metric == "min" ? Parsed::Agg::kMin
                                 : Parsed::Agg::kSum;
      aggregated = true;
      if (lx.Eat("by")) {
        if (!lx.Eat("(")) return bad("expected ( after by");
        while (!lx.Eat(")")) {
          std::string name = lx.Ident();
          if (name.empty()) return bad("expected a label name in by (...)");
          by.push_back(name);
          lx.Eat(",");
        }
      }
      if (!lx.Eat("(")) return bad("expected ( after the aggregation");
      metric = lx.Ident();
    }
  }
  std::vector<Matcher> matchers;
  if (lx.Eat("{")) {
    while (!lx.Eat("}")) {
      Matcher m;
      m.name = lx.Ident();
      if (m.name.empty()) return bad("expected a label name");
      if (lx.Eat("=~")) {
        m.op = MatchOp::kRe;
      } else if (lx.Eat("!~")) {
        m.op = MatchOp::kNre;
      } else if (lx.Eat("!=")) {
        m.op = MatchOp::kNe;
      } else if (lx.Eat("=")) {
        m.op = MatchOp::kEq;
      } else {
        return bad("expected =, !=, =~ or !~ after " + m.name);
      }
      if (!lx.String(&m.value)) return bad("expected a quoted value for " + m.name);
      if (m.op == MatchOp::kRe || m.op == MatchOp::kNre) {
        try {
          m.re = std::regex(m.value, std::regex::ECMAScript | std::regex::optimize);
        } catch (const std::regex_error& e) {
          return bad("bad regex for " + m.name + ": " + e.what());
        }
      }
      matchers.push_back(std::move(m));
      lx.Eat(",");
    }
  }
  if (metric.empty() && matchers.empty()) return bad("expected a selector");
  if (lx.Eat("[")) {
    std::string range;
    if (!lx.Until(']', &range) || !lx.Eat("]")) return bad("unterminated range");
    auto seconds = ParseDurationSeconds(range);
    if (!seconds.ok() || *seconds <= 0) return bad("bad range [" + range + "]");
    if (aggregated) return bad("aggregation of a range selector");
    p->range_s = *seconds;
  }
  if (aggregated && !lx.Eat(")")) return bad("expected ) closing the aggregation");
  if (!lx.Done()) return bad("unsupported expression");

  for (size_t i = 0; i < series_.size(); ++i) {
    const RecordedSeries& s = series_[i];
    if (!metric.empty() && s.metric != metric) continue;
    bool all = true;
    for (const Matcher& m : matchers) {
      if (!m.Matches(s.metric, s.labels)) {
        all = false;
        break;
      }
    }
    if (all) p->series.push_back(i);
  }
  std::stable_sort(p->series.begin(), p->series.end(),
                   [&](size_t a, size_t b) { return out_labels_[a] < out_labels_[b]; });
  if (aggregated) {
    std::map<Labels, size_t> group_index;
    std::vector<Labels> keys;
    for (size_t i : p->series) {
      Labels g;
      for (const std::string& name : by) {
        auto it = series_[i].labels.find(name);
        if (it != series_[i].labels.end() && (keep_.empty() || keep_.Keeps(name))) {
          g[name] = it->second;
        }
      }
      keys.push_back(g);
      group_index.emplace(std::move(g), 0);
    }
    size_t n = 0;
    for (auto& [labels, index] : group_index) {
      index = n++;
      p->groups.push_back(labels);
    }
    for (const Labels& k : keys) p->group_of.push_back(group_index.at(k));
  }
  if (parsed_.size() >= kMaxCachedQueries) parsed_.clear();
  const Parsed* result = p.get();
  parsed_.emplace(query, std::move(p));
  return result;
}

void HistoryPrometheusClient::InstantAt(const Parsed& p, double t,
                                        std::vector<std::pair<size_t, double>>* out) const {
  out->clear();
  for (size_t k = 0; k < p.series.size(); ++k) {
    const RecordedSeries& s = series_[p.series[k]];
    auto it = std::upper_bound(s.timestamps_s.begin(), s.timestamps_s.end(), t);
    if (it == s.timestamps_s.begin()) continue;
    const size_t idx = static_cast<size_t>(it - s.timestamps_s.begin()) - 1;
    if (s.timestamps_s[idx] <= t - lookback_seconds_) continue;
    out->emplace_back(k, s.values[idx]);
  }
}

void HistoryPrometheusClient::EvalInstant(const Parsed& p, double t, QueryResult* out) const {
  std::vector<std::pair<size_t, double>> hits;
  InstantAt(p, t, &hits);
  if (p.agg == Parsed::Agg::kNone) {
    for (const auto& [k, v] : hits) {
      out->series.push_back({out_labels_[p.series[k]], {t}, {v}});
    }
    out->samples += hits.size();
    return;
  }
  std::vector<double> acc(p.groups.size(), std::numeric_limits<double>::quiet_NaN());
  for (const auto& [k, v] : hits) {
    double& a = acc[p.group_of[k]];
    if (std::isnan(a)) {
      a = v;
    } else if (p.agg == Parsed::Agg::kMax) {
      a = std::max(a, v);
    } else if (p.agg == Parsed::Agg::kMin) {
      a = std::min(a, v);
    } else {
      a += v;
    }
  }
  std::vector<bool> seen(p.groups.size(), false);
  for (const auto& [k, v] : hits) seen[p.group_of[k]] = true;
  for (size_t g = 0; g < p.groups.size(); ++g) {
    if (!seen[g]) continue;
    out->series.push_back({p.groups[g], {t}, {acc[g]}});
    ++out->samples;
  }
}

StatusOr<QueryResult> HistoryPrometheusClient::Query(const std::string& query, double time_s) {
  auto parsed = Parse(query);
  if (!parsed.ok()) return parsed.status();
  const Parsed& p = **parsed;
  const double t = std::min(time_s, clock_->NowUnixSeconds());
  QueryResult out;
  if (p.range_s <= 0) {
    out.result_type = "vector";
    EvalInstant(p, t, &out);
    return out;
  }
  out.result_type = "matrix";
  for (size_t i : p.series) {
    const RecordedSeries& s = series_[i];
    auto lo = std::upper_bound(s.timestamps_s.begin(), s.timestamps_s.end(), t - p.range_s);
    auto hi = std::upper_bound(lo, s.timestamps_s.end(), t);
    if (lo == hi) continue;
    const size_t a = static_cast<size_t>(lo - s.timestamps_s.begin());
    const size_t b = static_cast<size_t>(hi - s.timestamps_s.begin());
    SeriesData d;
    d.labels = out_labels_[i];
    d.timestamps_s.assign(lo, hi);
    d.values.assign(s.values.begin() + static_cast<std::ptrdiff_t>(a),
                    s.values.begin() + static_cast<std::ptrdiff_t>(b));
    out.samples += d.values.size();
    out.series.push_back(std::move(d));
  }
  return out;
}

StatusOr<QueryResult> HistoryPrometheusClient::QueryRange(const std::string& query, double start_s,
                                                          double end_s, double step_s) {
  auto parsed = Parse(query);
  if (!parsed.ok()) return parsed.status();
  const Parsed& p = **parsed;
  if (p.range_s > 0) {
    return InvalidArgumentError("history: query_range \"" + query +
                                "\": a range selector is not a valid range query");
  }
  if (!(step_s > 0) || !(end_s >= start_s)) {
    return InvalidArgumentError("history: query_range \"" + query + "\": bad start/end/step");
  }
  const double end = std::min(end_s, clock_->NowUnixSeconds());
  QueryResult out;
  out.result_type = "matrix";
  // Answer series by their labels, in label order (as Prometheus sorts them).
  std::map<Labels, SeriesData> merged;
  QueryResult step;
  for (double t = start_s; t <= end + 1e-9; t += step_s) {
    step.series.clear();
    EvalInstant(p, t, &step);
    for (SeriesData& s : step.series) {
      SeriesData& m = merged[s.labels];
      if (m.labels.empty()) m.labels = s.labels;
      m.timestamps_s.push_back(s.timestamps_s[0]);
      m.values.push_back(s.values[0]);
      ++out.samples;
    }
  }
  out.series.reserve(merged.size());
  for (auto& [labels, s] : merged) out.series.push_back(std::move(s));
  return out;
}

StatusOr<std::vector<Labels>> HistoryPrometheusClient::Series(const std::string& match,
                                                              double start_s, double end_s) {
  auto parsed = Parse(match);
  if (!parsed.ok()) return parsed.status();
  const double end = std::min(end_s, clock_->NowUnixSeconds());
  std::vector<Labels> out;
  for (size_t i : (*parsed)->series) {
    const RecordedSeries& s = series_[i];
    auto it = std::lower_bound(s.timestamps_s.begin(), s.timestamps_s.end(), start_s);
    if (it != s.timestamps_s.end() && *it <= end) out.push_back(out_labels_[i]);
  }
  return out;
}

StatusOr<std::pair<double, double>> HistoryPrometheusClient::TimeRange(
    const std::string& selector) {
  auto parsed = Parse(selector);
  if (!parsed.ok()) return parsed.status();
  double first = std::numeric_limits<double>::infinity();
  double last = -first;
  for (size_t i : (*parsed)->series) {
    const RecordedSeries& s = series_[i];
    if (s.timestamps_s.empty()) continue;
    first = std::min(first, s.timestamps_s.front());
    last = std::max(last, s.timestamps_s.back());
  }
  if (!std::isfinite(first)) return NotFoundError("history: no samples of " + selector);
  return std::make_pair(first, last);
}

}  // namespace oomcast::predictor
