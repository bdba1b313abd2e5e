#include "oomcast/predictor/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "oomcast/units.h"

namespace oomcast::predictor {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Rounds for a compact page: seconds to 0.1 s, MiB to 0.01.
double Round(double v, double unit) { return std::round(v / unit) * unit; }

nlohmann::json Num(double v, double unit) {
  return std::isfinite(v) ? nlohmann::json(Round(v, unit)) : nlohmann::json(nullptr);
}

struct Card {
  const ContainerKey* key = nullptr;
  std::string family;
  size_t kills = 0;
  size_t episodes_predictable = 0;
  size_t missed = 0;  // Predictable episodes not warned >= 870 s ahead.
  size_t false_episodes = 0;
  size_t false_points = 0;
  size_t true_points = 0;
  nlohmann::json data;
};

// Memory reduced to at most `max_points`: per time bucket its lowest and highest sample, in
// time order, so that peaks (where kills happen) and troughs survive.
void Downsample(const std::vector<double>& t, const std::vector<double>& v, double t0,
                size_t max_points, nlohmann::json* ts, nlohmann::json* vs) {
  const size_t n = t.size();
  const size_t buckets = std::max<size_t>(1, max_points / 2);
  if (n <= max_points) {
    for (size_t i = 0; i < n; ++i) {
      ts->push_back(Round(t[i] - t0, 0.1));
      vs->push_back(Num(v[i] / kMiB, 0.01));
    }
    return;
  }
  for (size_t b = 0; b < buckets; ++b) {
    const size_t lo = b * n / buckets, hi = (b + 1) * n / buckets;
    if (lo >= hi) continue;
    size_t imin = lo, imax = lo;
    for (size_t i = lo; i < hi; ++i) {
      if (!std::isfinite(v[i])) continue;
      if (!std::isfinite(v[imin]) || v[i] < v[imin]) imin = i;
      if (!std::isfinite(v[imax]) || v[i] > v[imax]) imax = i;
    }
    for (size_t i : {std::min(imin, imax), std::max(imin, imax)}) {
      ts->push_back(Round(t[i] - t0, 0.1));
      vs->push_back(Num(v[i] / kMiB, 0.01));
      if (imin == imax) break;
    }
  }
}

Card BuildCard(const ContainerKey& key, const ContainerHistory& h,
               const std::vector<Forecast>* forecasts, const TruthSeries* truth,
               const HtmlReportOptions& options, double horizon, double tolerance, double grace) {
  Card card;
  card.key = &key;
  double t0 = h.t.empty() ? 0 : h.t.front();
  double t1 = h.t.empty() ? 0 : h.t.back();
  if (forecasts != nullptr && !forecasts->empty()) {
    t0 = std::min(t0, forecasts->front().t);
    t1 = std::max(t1, forecasts->back().t);
  }
  nlohmann::json d;
  d["t0"] = t0;
  d["span"] = Round(t1 - t0, 0.1);
  nlohmann::json mt = nlohmann::json::array(), mv = nlohmann::json::array();
  Downsample(h.t, h.bytes, t0, options.max_points, &mt, &mv);
  d["mt"] = std::move(mt);
  d["mv"] = std::move(mv);
  // The limit where it changes (null: no limit from then on).
  nlohmann::json lt = nlohmann::json::array(), lv = nlohmann::json::array();
  double prev = kNaN;
  bool first = true;
  for (size_t i = 0; i < h.limit_t.size(); ++i) {
    double v = h.limit_bytes[i];
    if (!(std::isfinite(v) && v > 0 && v < 9e18)) v = kNaN;
    if (!first && (v == prev || (std::isnan(v) && std::isnan(prev)))) continue;
    lt.push_back(Round(h.limit_t[i] - t0, 0.1));
    lv.push_back(Num(v / kMiB, 0.01));
    prev = v;
    first = false;
  }
  d["lt"] = std::move(lt);
  d["lv"] = std::move(lv);
  d["lend"] = h.limit_t.empty() ? 0.0 : Round(h.limit_t.back() - t0, 0.1);
  // Trend (memory + growth x horizon) at evenly spaced forecasts; alarm periods from all.
  nlohmann::json ft = nlohmann::json::array(), fv = nlohmann::json::array();
  nlohmann::json alarms = nlohmann::json::array();
  AlarmSeries alarm_series;
  if (forecasts != nullptr && !forecasts->empty()) {
    const size_t n = forecasts->size();
    const size_t stride = std::max<size_t>(1, (n + options.max_points - 1) / options.max_points);
    for (size_t i = 0; i < n; i += stride) {
      const Forecast& f = (*forecasts)[i];
      ft.push_back(Round(f.t - t0, 0.1));
      fv.push_back(Num(
          (f.rss_bytes + f.growth_rate_bytes_per_second * options.horizon_seconds) / kMiB, 0.01));
    }
    double from = kNaN, last = kNaN;
    for (size_t i = 0; i < n; ++i) {
      const Forecast& f = (*forecasts)[i];
      alarm_series.emplace_back(f.t, f.oom_predicted);
      if (f.oom_predicted) {
        if (std::isnan(from)) from = f.t;
        last = f.t;
      }
      const bool ends = !f.oom_predicted || i + 1 == n;
      if (ends && !std::isnan(from)) {
        alarms.push_back({Round(from - t0, 0.1), Round(last - t0, 0.1)});
        from = kNaN;
      }
    }
  }
  d["ft"] = std::move(ft);
  d["fv"] = std::move(fv);
  d["alarms"] = std::move(alarms);
  nlohmann::json kills = nlohmann::json::array();
  if (truth != nullptr) {
    card.family = truth->family;
    card.kills = truth->oom_times.size();
    for (double k : truth->oom_times) kills.push_back(Round(k - t0, 0.1));
    const ScoreSummary s = ScoreAlarms({*truth}, {{key, alarm_series}}, horizon, tolerance, grace);
    const ScoreCounts& c = s.by_family.at(truth->family);
    card.episodes_predictable = c.episodes_predictable;
    card.missed = c.episodes_predictable - c.recall_870;
    card.false_episodes = c.false_alarm_episodes;
    card.false_points = c.false_alarm_points;
    card.true_points = c.true_alarm_points;
  }
  d["kills"] = std::move(kills);
  card.data = std::move(d);
  return card;
}

const char* kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2430; background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 24px 0 8px; }
.src { color: #5b6574; margin-bottom: 16px; }
table.summary { border-collapse: collapse; background: #fff; }
table.summary td, table.summary th { border: 1px solid #d6dbe2; padding: 4px 10px; text-align: right; }
table.summary th { background: #eef1f5; text-align: left; }
.legend span { display: inline-block; margin-right: 18px; }
.legend i { display: inline-block; width: 22px; height: 4px; vertical-align: middle; margin-right: 6px; }
.card { background: #fff; border: 1px solid #d6dbe2; border-radius: 6px; padding: 10px 14px; margin: 12px 0; }
.card.bad { border-left: 5px solid #c62828; } .card.warn { border-left: 5px solid #ef9a00; }
.card h3 { font-size: 15px; margin: 0 0 2px; font-family: ui-monospace, monospace; }
.card .stats { color: #3c4654; margin-bottom: 4px; }
svg.plot { width: 100%; height: 190px; display: block; }
svg.plot .memory { fill: none; stroke: #1565c0; stroke-width: 1.4; }
svg.plot .limit { fill: none; stroke: #c62828; stroke-width: 1.6; stroke-dasharray: 6 3; }
svg.plot .trend { fill: none; stroke: #ef9a00; stroke-width: 1.2; opacity: 0.85; }
svg.plot .alarm { fill: #ffcdd2; opacity: 0.7; }
svg.plot .kill { stroke: #b71c1c; stroke-width: 2; }
svg.plot .axis { stroke: #9aa4b1; stroke-width: 1; }
svg.plot .grid { stroke: #e6e9ee; stroke-width: 1; }
svg.plot text { font-size: 11px; fill: #5b6574; }
)";

// Draws every plot from the JSON in #data. Pure DOM + SVG, no library.
const char* kScript = R"(
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function mib(v) { return v >= 1000 ? (v / 1024).toFixed(v >= 10240 ? 0 : 1) + ' GiB' : v.toFixed(0) + ' MiB'; }
  function clock(t0, s) {
    var d = new Date((t0 + s) * 1000);
    return ('0' + d.getUTCHours()).slice(-2) + ':' + ('0' + d.getUTCMinutes()).slice(-2);
  }
  var W = 1000, H = 190, L = 64, R = 12, T = 8, B = 22;
  data.containers.forEach(function (c, idx) {
    var svg = document.getElementById('plot-' + idx);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('preserveAspectRatio', 'none');
    var ymax = 1;
    c.mv.forEach(function (v) { if (v !== null && v > ymax) ymax = v; });
    c.lv.forEach(function (v) { if (v !== null && v > ymax) ymax = v; });
    ymax *= 1.08;
    var span = Math.max(c.span, 1);
    function x(s) { return L + (W - L - R) * s / span; }
    function y(v) { return T + (H - T - B) * (1 - Math.min(Math.max(v, 0), ymax * 1.02) / ymax); }
    for (var i = 0; i <= 4; i++) {
      var v = ymax * i / 4;
      el('line', {x1: L, x2: W - R, y1: y(v), y2: y(v), 'class': 'grid'}, svg);
      el('text', {x: L - 6, y: y(v) + 4, 'text-anchor': 'end'}, svg).textContent = mib(v);
    }
    for (var j = 0; j <= 6; j++) {
      var s = span * j / 6;
      var anchor = j === 0 ? 'start' : j === 6 ? 'end' : 'middle';
      el('text', {x: x(s), y: H - 6, 'text-anchor': anchor}, svg).textContent = clock(c.t0, s);
    }
    el('line', {x1: L, x2: L, y1: T, y2: H - B, 'class': 'axis'}, svg);
    el('line', {x1: L, x2: W - R, y1: H - B, y2: H - B, 'class': 'axis'}, svg);
    c.alarms.forEach(function (a) {
      el('rect', {x: x(a[0]), y: T, width: Math.max(x(a[1]) - x(a[0]), 1.5), height: H - T - B,
                  'class': 'alarm'}, svg);
    });
    function path(ts, vs, cls, step, end) {
      var d = '', pen = false, prev = null;
      for (var i = 0; i < ts.length; i++) {
        if (vs[i] === null) { pen = false; prev = null; continue; }
        if (step && prev !== null) d += 'L' + x(ts[i]).toFixed(1) + ' ' + y(prev).toFixed(1);
        d += (pen ? 'L' : 'M') + x(ts[i]).toFixed(1) + ' ' + y(vs[i]).toFixed(1);
        pen = true; prev = vs[i];
      }
      if (step && prev !== null && end !== undefined) d += 'L' + x(end).toFixed(1) + ' ' + y(prev).toFixed(1);
      return el('path', {d: d, 'class': cls}, svg);
    }
    path(c.ft, c.fv, 'trend', false);
    path(c.lt, c.lv, 'limit', true, c.lend);
    path(c.mt, c.mv, 'memory', false);
    c.kills.forEach(function (k) {
      el('line', {x1: x(k), x2: x(k), y1: T, y2: H - B, 'class': 'kill'}, svg);
    });
    svg.setAttribute('data-drawn', 'true');
  });
  document.body.setAttribute('data-plots-drawn', String(data.containers.length));
})();
)";

}  // namespace

Status WriteHtmlReport(const BacktestRun& run, const HtmlReportOptions& options,
                       std::ostream& out) {
  std::map<ContainerKey, const TruthSeries*> truth;
  for (const TruthSeries& t : run.truth) truth.emplace(t.key, &t);
  std::vector<Card> cards;
  cards.reserve(run.history.size());
  for (const auto& [key, h] : run.history) {
    auto f = run.forecasts.find(key);
    auto t = truth.find(key);
    cards.push_back(BuildCard(key, h, f == run.forecasts.end() ? nullptr : &f->second,
                              t == truth.end() ? nullptr : t->second, options,
                              options.score_horizon_seconds, options.score_tolerance_seconds,
                              options.score_grace_seconds));
  }
  std::stable_sort(cards.begin(), cards.end(), [](const Card& a, const Card& b) {
    return std::make_tuple(b.missed, b.false_episodes, b.false_points) <
           std::make_tuple(a.missed, a.false_episodes, a.false_points);
  });
  nlohmann::json data;
  data["containers"] = nlohmann::json::array();
  for (Card& c : cards) data["containers"].push_back(std::move(c.data));
  std::string blob = data.dump();
  // Inside <script>, "</" would end the element.
  for (size_t p = blob.find("</"); p != std::string::npos; p = blob.find("</", p + 2)) {
    blob.replace(p, 2, "<\\/");
  }

  const ScoreSummary& s = run.summary;
  char buf[256];
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>"
      << HtmlEscape(options.title) << "</title>\n<style>" << kStyle << "</style></head>\n<body>\n";
  out << "<h1>" << HtmlEscape(options.title) << "</h1>\n<div class=\"src\">"
      << HtmlEscape(options.source) << (options.source.empty() ? "" : " &middot; ") << cards.size()
      << " containers &middot; "
      << (s.truth_inferred ? "kills inferred from the data (no truth file)" : "kills from truth")
      << "</div>\n";
  out << "<table class=\"summary\"><tr><th>recall@15m</th><th>recall@10m</th><th>recall@5m</th>"
         "<th>median lead</th><th>precision</th><th>false-alarm episodes / series-day</th>"
         "<th>episodes</th><th>false-alarm episodes</th><th>forecasts</th></tr>\n<tr>";
  std::snprintf(buf, sizeof buf,
                "<td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.0f s</td><td>%.3f</td><td>%.3f</td>"
                "<td>%zu</td><td>%zu</td><td>%zu</td>",
                s.recall_15m, s.recall_10m, s.recall_5m, s.median_lead_s, s.precision_points,
                s.false_alarm_episodes_per_series_day, s.totals.episodes_predictable,
                s.totals.false_alarm_episodes, s.totals.points);
  out << buf << "</tr></table>\n";
  out << "<h2>Containers, worst first</h2>\n<div class=\"legend\">"
         "<span><i style=\"background:#1565c0\"></i>memory</span>"
         "<span><i style=\"background:#c62828\"></i>limit</span>"
         "<span><i style=\"background:#ef9a00\"></i>trend (memory + growth &times; "
      << HtmlEscape(FormatDurationHuman(options.horizon_seconds))
      << ")</span><span><i style=\"background:#ffcdd2;height:12px\"></i>alarm</span>"
         "<span><i style=\"background:#b71c1c;width:3px;height:14px\"></i>kill</span></div>\n";
  for (size_t i = 0; i < cards.size(); ++i) {
    const Card& c = cards[i];
    const char* cls = c.missed > 0 ? " bad" : c.false_episodes > 0 ? " warn" : "";
    const std::string name = c.key->ToString();
    out << "<div class=\"card" << cls << "\"><h3>" << HtmlEscape(name) << "</h3>";
    std::snprintf(buf, sizeof buf,
                  "%zu kills, %zu predictable episodes, <b>%zu missed</b> (not warned 15 min "
                  "ahead), <b>%zu false-alarm episodes</b> (%zu false / %zu true alarm points)",
                  c.kills, c.episodes_predictable, c.missed, c.false_episodes, c.false_points,
                  c.true_points);
    out << "<div class=\"stats\">" << (c.family.empty() ? "" : HtmlEscape(c.family) + " &middot; ")
        << buf << "</div>";
    out << "<svg class=\"plot\" id=\"plot-" << i << "\" data-container=\"" << HtmlEscape(name)
        << "\" role=\"img\" aria-label=\"memory of " << HtmlEscape(name) << "\"></svg></div>\n";
  }
  out << "<script type=\"application/json\" id=\"data\">" << blob << "</script>\n<script>"
      << kScript << "</script>\n</body></html>\n";
  if (!out) return InternalError("html report: write failed");
  return Status::Ok();
}

}  // namespace oomcast::predictor
