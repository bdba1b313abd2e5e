#include "oomcast/predictor/simulator.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace oomcast::predictor {
namespace {

constexpr double kPi = 3.14159265358979323846;
// A leak's kill is predictable when the leak began at least this long before it: the horizon
// (900 s) plus 5 minutes for the climb to become distinguishable from the noise.
constexpr double kPredictableOnsetSeconds = 1200;

// splitmix64: a tiny generator whose output is the same on every platform (unlike the
// distributions of <random>).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  double Normal() {
    double u1 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * Uniform());
  }

 private:
  uint64_t state_;
};

const std::vector<std::string>& Families() {
  static const std::vector<std::string> kFamilies = {
      "flat",           "leak_linear", "leak_accel",     "leak_step", "gc_stable", "gc_leak",
      "diurnal_stable", "diurnal_oom", "warmup_plateau", "spike",     "batch",     "leak_gappy"};
  return kFamilies;
}

// Parameters of one container, as fractions of its limit and seconds.
struct Params {
  std::string family;
  double limit = 0;            // Bytes.
  double cache = 0;            // Page cache on top of RSS in the working set (fraction).
  double noise = 0.005;        // Relative noise of a sample (fraction of the limit).
  double base = 0.3;           // Level at start/restart.
  double delay = 0;            // Seconds before growth begins (first instance only).
  double a = 0, b = 0, c = 0;  // Family-specific.
  double period = 0;
  double phase = 0;
  double spike_t = 0;  // Absolute time of the spike (spike family).
};

Params MakeParams(const std::string& family, const SimulatorOptions& o, Rng& rng) {
  Params p;
  p.family = family;
  // Limits from 256 MiB to 8 GiB, log-uniform, rounded to MiB.
  p.limit = std::round(std::exp(rng.Uniform(std::log(256.0), std::log(8192.0)))) * 1048576.0;
  p.cache = rng.Uniform(0.02, 0.08);
  const double d = o.duration_s;
  if (family == "flat") {
    p.base = rng.Uniform(0.3, 0.85);
    p.noise = 0.008;
  } else if (family == "leak_linear" || family == "leak_gappy") {
    p.base = rng.Uniform(0.25, 0.45);
    p.delay = rng.Uniform(0, 0.3 * d);
    p.a = (1 - p.base) / (rng.Uniform(40, 80) * 60);  // Bytes fraction per second.
    p.noise = 0.006;
  } else if (family == "leak_accel") {
    p.base = rng.Uniform(0.4, 0.6);
    p.delay = rng.Uniform(0, 0.2 * d);
    p.a = rng.Uniform(50, 110) * 60;  // Seconds from growth start to the limit.
    p.noise = 0.008;
  } else if (family == "leak_step") {
    p.base = rng.Uniform(0.4, 0.6);
    p.delay = rng.Uniform(0, 0.2 * d);
    p.a = rng.Uniform(0.02, 0.05);       // Step height.
    p.period = rng.Uniform(6, 15) * 60;  // Step interval.
    p.noise = 0.003;
  } else if (family == "gc_stable") {
    p.base = rng.Uniform(0.3, 0.45);                       // Floor.
    p.a = std::min(rng.Uniform(1.5, 1.9), 0.85 / p.base);  // Peak / floor.
    p.period = rng.Uniform(30, 120);
    p.phase = rng.Uniform(0, 1);
    p.noise = 0.004;
  } else if (family == "gc_leak") {
    p.a = rng.Uniform(1.5, 1.8);                             // Peak / floor.
    p.base = rng.Uniform(0.18, 0.28);                        // Floor at start.
    p.b = (1 / p.a - p.base) / (rng.Uniform(50, 110) * 60);  // Floor growth per second.
    p.period = rng.Uniform(30, 90);
    p.phase = rng.Uniform(0, 1);
    p.noise = 0.004;
  } else if (family == "diurnal_stable" || family == "diurnal_oom") {
    const bool oom = family == "diurnal_oom";
    p.base = rng.Uniform(0.2, 0.3);  // After a restart, before the load returns.
    p.a = oom ? rng.Uniform(0.6, 0.72) : rng.Uniform(0.4, 0.6);               // Mid level.
    p.b = oom ? rng.Uniform(1.03, 1.1) - p.a : rng.Uniform(0.8, 0.88) - p.a;  // Amplitude.
    p.period = rng.Uniform(8, 16) * 3600;
    // Peak of the wave inside the simulated time.
    const double peak_t = rng.Uniform(0.4, 0.8) * d;
    p.phase = kPi / 2 - 2 * kPi * peak_t / p.period;
    p.noise = 0.004;
  } else if (family == "warmup_plateau") {
    p.base = rng.Uniform(0.2, 0.35);
    p.a = rng.Uniform(0.6, 0.9);    // Plateau.
    p.b = rng.Uniform(8, 30) * 60;  // Time constant.
    p.delay = rng.Uniform(0, 0.3 * d);
    p.noise = 0.005;
  } else if (family == "spike") {
    p.base = rng.Uniform(0.3, 0.6);
    p.spike_t = o.start_s + rng.Uniform(0.3, 0.9) * d;
    p.noise = 0.004;
  } else if (family == "batch") {
    p.base = rng.Uniform(0.25, 0.4);
    p.a = rng.Uniform(0.6, 0.85);         // Level while a batch runs.
    p.period = rng.Uniform(12, 40) * 60;  // Batch interval.
    p.b = rng.Uniform(2, 6) * 60;         // Batch duration.
    p.phase = rng.Uniform(0, p.period);
    p.noise = 0.004;
  }
  return p;
}

// Memory demand (fraction of the limit, without noise) at absolute time t, `run` seconds after
// the instance started; `first` for the first instance (growth may be delayed).
double Demand(const Params& p, double t, double t0, double run, bool first) {
  const double grow = first ? std::max(0.0, t - t0 - p.delay) : run;
  const std::string& f = p.family;
  if (f == "flat" || f == "spike") return p.base;
  if (f == "leak_linear" || f == "leak_gappy") return p.base + p.a * grow;
  if (f == "leak_accel") {
    const double u = grow / p.a;
    return p.base + (1 - p.base) * u * u;
  }
  if (f == "leak_step") return p.base + p.a * std::floor(grow / p.period);
  if (f == "gc_stable" || f == "gc_leak") {
    const double floor = f == "gc_leak" ? p.base + p.b * run : p.base;
    const double cycle = run / p.period + p.phase;
    return floor * (1 + (p.a - 1) * (cycle - std::floor(cycle)));
  }
  if (f == "diurnal_stable" || f == "diurnal_oom") {
    const double load = p.a + p.b * std::sin(2 * kPi * (t - t0) / p.period + p.phase);
    // After a restart the load comes back within a minute.
    return std::min(load, p.base + (load - p.base) * std::min(1.0, run / 60));
  }
  if (f == "warmup_plateau") return p.base + (p.a - p.base) * (1 - std::exp(-grow / p.b));
  if (f == "batch") {
    const double u = std::fmod(t - t0 + p.phase, p.period);
    return u < p.b ? p.a : p.base;
  }
  return p.base;
}

struct Samples {
  std::vector<double> t, rss, ws;
};

void AppendLine(std::string* out, const char* metric, const std::string& labels, double v,
                double t) {
  char buf[64];
  *out += metric;
  *out += labels;
  std::snprintf(buf, sizeof(buf), " %.0f %.3f\n", v, t);
  *out += buf;
}

// The three gauges of every container, in the dev corpus' layout.
Status WriteSamples(const std::vector<TruthSeries>& truth, const std::vector<Samples>& samples,
                    const std::vector<double>& limits, std::ostream& out) {
  static const char* kMetrics[] = {"container_memory_rss", "container_memory_working_set_bytes",
                                   "container_spec_memory_limit_bytes"};
  std::string buf;
  for (int m = 0; m < 3; ++m) {
    buf = std::string("# TYPE ") + kMetrics[m] + " gauge\n";
    out << buf;
    for (size_t c = 0; c < truth.size(); ++c) {
      const ContainerKey& key = truth[c].key;
      const std::string labels = "{namespace=\"" + key.namespace_name + "\",pod=\"" + key.pod +
                                 "\",container=\"" + key.container + "\"}";
      buf.clear();
      const Samples& s = samples[c];
      for (size_t i = 0; i < s.t.size(); ++i) {
        const double v = m == 0 ? s.rss[i] : m == 1 ? s.ws[i] : limits[c];
        AppendLine(&buf, kMetrics[m], labels, v, s.t[i]);
      }
      out << buf;
    }
  }
  out << "# EOF\n";
  if (!out) return InternalError("simulate: write failed");
  return Status::Ok();
}

// Writes `data` to `path`, gzip-compressed when the path ends in ".gz", and the truth beside.
Status WriteCorpusFiles(const std::string& data, const std::vector<TruthSeries>& truth,
                        double step_s, const std::string& openmetrics_path,
                        const std::string& truth_path) {
  const bool gz = openmetrics_path.size() > 3 &&
                  openmetrics_path.compare(openmetrics_path.size() - 3, 3, ".gz") == 0;
  if (gz) {
    gzFile f = gzopen(openmetrics_path.c_str(), "wb6");
    if (f == nullptr) return NotFoundError("cannot write " + openmetrics_path);
    const int wrote = gzwrite(f, data.data(), static_cast<unsigned>(data.size()));
    if (gzclose(f) != Z_OK || wrote != static_cast<int>(data.size())) {
      return InternalError("write failed: " + openmetrics_path);
    }
  } else {
    std::ofstream f(openmetrics_path, std::ios::binary);
    if (!f) return NotFoundError("cannot write " + openmetrics_path);
    f << data;
    if (!f) return InternalError("write failed: " + openmetrics_path);
  }
  std::ofstream t(truth_path);
  if (!t) return NotFoundError("cannot write " + truth_path);
  WriteTruthJson(truth, step_s, t);
  if (!t) return InternalError("write failed: " + truth_path);
  return Status::Ok();
}

}  // namespace

std::vector<std::string> SimulatorFamilies() { return Families(); }

StatusOr<std::vector<TruthSeries>> Simulate(const SimulatorOptions& o, std::ostream& out) {
  if (!(o.duration_s > 0) || !(o.step_s > 0) || o.containers_per_family <= 0) {
    return InvalidArgumentError("simulate: duration, step and containers per family must be > 0");
  }
  std::vector<std::string> families = o.families.empty() ? Families() : o.families;
  for (const std::string& f : families) {
    if (std::find(Families().begin(), Families().end(), f) == Families().end()) {
      return InvalidArgumentError("simulate: unknown family '" + f + "'");
    }
  }
  Rng rng(o.seed);
  std::vector<TruthSeries> truth;
  std::vector<Samples> samples;
  std::vector<Params> params;
  const double end = o.start_s + o.duration_s;
  for (const std::string& family : families) {
    for (int i = 0; i < o.containers_per_family; ++i) {
      Params p = MakeParams(family, o, rng);
      TruthSeries ts;
      std::string pod = family;
      std::replace(pod.begin(), pod.end(), '_', '-');
      char idx[16];
      std::snprintf(idx, sizeof(idx), "-%02d", i);
      ts.key = {o.namespace_name, pod + idx, o.container_name};
      ts.family = family;
      ts.limit_bytes = p.limit;
      ts.predictable = family != "spike";
      ts.start = o.start_s;
      ts.end = end;
      Samples s;
      double instance_start = o.start_s;
      bool first = true;
      double up_at = o.start_s;  // Down (restarting) until this time.
      double backoff = 10;
      bool spiked = false;
      const bool gappy = family == "leak_gappy";
      double gap_from = -1, gap_to = -1;
      if (gappy) {
        gap_from = o.start_s + rng.Uniform(0.2, 0.8) * o.duration_s;
        gap_to = gap_from + rng.Uniform(180, 360);
      }
      for (double k = 0;; k += 1) {
        double t = o.start_s + k * o.step_s;
        if (gappy) t = std::round((t + rng.Uniform(-0.2, 0.2) * o.step_s) * 1000) / 1000;
        if (t >= end) break;
        const double noise = rng.Normal();
        if (gappy && (rng.Uniform() < 0.08 || (t >= gap_from && t < gap_to))) continue;
        if (t < up_at) continue;
        if (up_at > instance_start) {
          instance_start = up_at;  // Restarted at baseline.
          first = false;
        }
        const double run = t - instance_start;
        double frac = Demand(p, t, o.start_s, run, first) + p.noise * noise;
        if (family == "spike" && !spiked && t >= p.spike_t) {
          frac = 1.0;
          spiked = true;
        }
        double rss = std::max(0.0, frac) * p.limit;
        if (rss >= p.limit) {
          // The kernel's OOM kill: the scrape sees the limit, the container restarts after the
          // back-off (reset after 10 minutes of running, as the kubelet does).
          rss = p.limit;
          ts.oom_times.push_back(t);
          if (run >= 600) backoff = 10;
          up_at = t + backoff;
          backoff = std::min(300.0, backoff * 2);
        }
        s.t.push_back(t);
        s.rss.push_back(std::round(rss));
        s.ws.push_back(std::round(std::min(p.limit, rss + p.cache * p.limit)));
      }
      truth.push_back(std::move(ts));
      samples.push_back(std::move(s));
      params.push_back(std::move(p));
    }
  }
  std::vector<double> limits;
  for (const Params& p : params) limits.push_back(p.limit);
  if (Status st = WriteSamples(truth, samples, limits, out); !st.ok()) return st;
  return truth;
}

void WriteTruthJson(const std::vector<TruthSeries>& truth, double step_s, std::ostream& out) {
  nlohmann::json arr = nlohmann::json::array();
  for (const TruthSeries& s : truth) {
    arr.push_back({{"namespace", s.key.namespace_name},
                   {"pod", s.key.pod},
                   {"container", s.key.container},
                   {"family", s.family},
                   {"limit_bytes", s.limit_bytes},
                   {"oom_times", s.oom_times},
                   {"predictable", s.predictable},
                   {"start", s.start},
                   {"end", s.end},
                   {"step", step_s}});
    if (!s.predictable_each.empty()) arr.back()["predictable_each"] = s.predictable_each;
  }
  out << arr.dump(1) << "\n";
}

Status SimulateToFiles(const SimulatorOptions& options, const std::string& openmetrics_path,
                       const std::string& truth_path) {
  std::ostringstream text;
  auto truth = Simulate(options, text);
  if (!truth.ok()) return truth.status();
  return WriteCorpusFiles(text.str(), *truth, options.step_s, openmetrics_path, truth_path);
}
namespace {

// Reads a whole file, gzip-compressed or not (zlib reads plain files as they are).
StatusOr<std::string> ReadMaybeGzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return NotFoundError("cannot read " + path);
  std::string data;
  char buf[1 << 16];
  int got;
  while ((got = gzread(f, buf, sizeof(buf))) > 0) data.append(buf, static_cast<size_t>(got));
  const bool failed = got < 0;
  gzclose(f);
  if (failed) return InternalError("read failed: " + path);
  return data;
}

// One leak of one instance, as a fraction of the limit `u` seconds after its onset.
struct Leak {
  std::string kind = "none";
  double delay = 0;    // Seconds from the instance start to the onset.
  double rate = 0;     // linear, stop, fast: fraction per second.
  double amp = 0;      // exp: amplitude; step: step height.
  double tau = 0;      // exp: time constant; step: step interval (seconds).
  double stop_at = 0;  // stop: the leak holds once it has grown this much.
  double Amount(double u) const {
    if (kind == "none" || u <= 0) return 0;
    if (kind == "exp") return amp * std::expm1(u / tau);
    if (kind == "step") return amp * std::floor(u / tau);
    if (kind == "stop") return std::min(stop_at, rate * u);
    return rate * u;  // linear, fast.
  }
};

// A new leak for an instance whose curve stands at `level` (fraction) at its onset.
Leak MakeLeak(const std::string& kind, double delay, double level, Rng& rng) {
  Leak l;
  l.kind = kind;
  l.delay = delay;
  const double headroom = std::max(0.02, 1.0 - level);
  if (kind == "linear") {
    l.rate = headroom / (rng.Uniform(25, 150) * 60);
  } else if (kind == "exp") {
    l.tau = rng.Uniform(8, 30) * 60;
    const double to_limit = rng.Uniform(30, 120) * 60;
    l.amp = headroom / std::expm1(to_limit / l.tau);
  } else if (kind == "step") {
    l.amp = headroom * rng.Uniform(0.08, 0.2);
    l.tau = rng.Uniform(4, 15) * 60;
  } else if (kind == "stop") {
    l.rate = headroom / (rng.Uniform(25, 150) * 60);
    l.stop_at = headroom * rng.Uniform(0.3, 0.8);
  } else if (kind == "fast") {
    l.rate = headroom / (rng.Uniform(6, 20) * 60);
  }
  return l;
}

// The curve's value at t (linear interpolation, held across a drop of more than 25 %); NaN in
// a gap (more than 3 of its median steps between samples) and outside the curve.
class CurveSampler {
 public:
  explicit CurveSampler(const RealCurve& c) : c_(c) {
    std::vector<double> d;
    for (size_t i = 1; i < c.t.size(); ++i) d.push_back(c.t[i] - c.t[i - 1]);
    if (!d.empty()) {
      std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
      max_gap_ = 3 * d[d.size() / 2];
    }
  }
  double At(double t) {
    const std::vector<double>& ts = c_.t;
    if (ts.empty() || t < ts.front() || t > ts.back()) return kNaN;
    while (i_ + 1 < ts.size() && ts[i_ + 1] <= t) ++i_;
    while (i_ > 0 && ts[i_] > t) --i_;
    if (i_ + 1 >= ts.size() || ts[i_] == t) return c_.value[i_];
    const double dt = ts[i_ + 1] - ts[i_];
    if (dt > max_gap_) return kNaN;
    const double a = c_.value[i_], b = c_.value[i_ + 1];
    // A drop (a restart) is not a ramp down: the old level until midway, then the new one.
    if (b < 0.75 * a) return t - ts[i_] < 0.5 * dt ? a : b;
    return a + (b - a) * (t - ts[i_]) / dt;
  }

 private:
  const RealCurve& c_;
  size_t i_ = 0;
  double max_gap_ = std::numeric_limits<double>::infinity();
};

}  // namespace

std::vector<std::string> RealCurveLeakKinds() {
  return {"none", "linear", "exp", "step", "stop", "fast"};
}

StatusOr<std::vector<RealCurve>> ParseRealCurvesCsv(std::string_view text) {
  std::map<std::string, std::vector<std::pair<double, double>>> by_id;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_no == 1 && line.rfind("value", 0) == 0)) continue;
    const size_t c1 = line.find(','), c2 = c1 == std::string::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string::npos) {
      return InvalidArgumentError("real curves: line " + std::to_string(line_no) +
                                  ": want value,timestamp,container");
    }
    char* e1 = nullptr;
    char* e2 = nullptr;
    const std::string vs = line.substr(0, c1), ts = line.substr(c1 + 1, c2 - c1 - 1);
    const double v = std::strtod(vs.c_str(), &e1), t = std::strtod(ts.c_str(), &e2);
    if (vs.empty() || ts.empty() || *e1 != '\0' || *e2 != '\0' || !std::isfinite(v) ||
        !std::isfinite(t) || v < 0 || c2 + 1 >= line.size()) {
      return InvalidArgumentError("real curves: line " + std::to_string(line_no) + ": bad value");
    }
    by_id[line.substr(c2 + 1)].push_back({t, v});
  }
  std::vector<RealCurve> curves;
  for (auto& [id, pts] : by_id) {
    std::sort(pts.begin(), pts.end());
    RealCurve c;
    c.id = id;
    for (const auto& [t, v] : pts) {
      if (!c.t.empty() && t <= c.t.back()) continue;
      c.t.push_back(t);
      c.value.push_back(v);
    }
    curves.push_back(std::move(c));
  }
  return curves;
}

StatusOr<std::vector<RealCurve>> ReadRealCurvesFile(const std::string& path) {
  auto text = ReadMaybeGzip(path);
  if (!text.ok()) return text.status();
  return ParseRealCurvesCsv(*text);
}

StatusOr<std::vector<TruthSeries>> SimulateRealCurves(const std::vector<RealCurve>& all,
                                                      const RealCurveOptions& o,
                                                      std::ostream& out) {
  if (!(o.step_s > 0) || o.variants_per_curve <= 0 || !(o.leak_fraction >= 0) ||
      o.leak_fraction > 1) {
    return InvalidArgumentError(
        "simulate: step and variants must be > 0, the leak fraction in [0, 1]");
  }
  std::vector<const RealCurve*> curves;
  for (const RealCurve& c : all) {
    if (c.t.size() < 2) continue;
    if (o.curves.empty() || std::find(o.curves.begin(), o.curves.end(), c.id) != o.curves.end())
      curves.push_back(&c);
  }
  for (const std::string& id : o.curves) {
    if (std::none_of(curves.begin(), curves.end(), [&](const RealCurve* c) { return c->id == id; }))
      return InvalidArgumentError("simulate: no curve '" + id + "'");
  }
  const std::vector<std::string> kinds = RealCurveLeakKinds();
  if (!o.leak_kind.empty() && std::find(kinds.begin(), kinds.end(), o.leak_kind) == kinds.end())
    return InvalidArgumentError("simulate: unknown leak kind '" + o.leak_kind + "'");
  Rng rng(o.seed);
  std::vector<TruthSeries> truth;
  std::vector<Samples> samples;
  std::vector<double> limits;
  // The physics tick: the scrape interval divided into steps of at most 5 s.
  const double ticks_per_step = std::ceil(o.step_s / 5.0);
  const double tick = o.step_s / ticks_per_step;
  for (const RealCurve* curve : curves) {
    for (int v = 0; v < o.variants_per_curve; ++v) {
      // Limits from 256 MiB to 16 GiB, log-uniform, rounded to MiB.
      const double limit =
          std::round(std::exp(rng.Uniform(std::log(256.0), std::log(16384.0)))) * 1048576.0;
      const double cache = rng.Uniform(0.02, 0.08);
      std::string kind = "none";
      if (rng.Uniform() < o.leak_fraction) {
        kind =
            kinds[1 + static_cast<size_t>(rng.Uniform() * (kinds.size() - 1)) % (kinds.size() - 1)];
        if (!o.leak_kind.empty()) kind = o.leak_kind;
      }
      const double start = curve->t.front(), end = curve->t.back();
      const double span = end - start;
      TruthSeries ts;
      char pod[64];
      std::snprintf(pod, sizeof(pod), "%s-%02d", curve->id.c_str(), v);
      ts.key = {o.namespace_name, pod, o.container_name};
      ts.family = "real_" + kind;
      ts.limit_bytes = limit;
      ts.predictable = true;
      ts.start = start;
      ts.end = end;
      // The first onset after hours of the curve alone (2 h to three quarters of the curve).
      double onset_delay = rng.Uniform(2 * 3600, std::max(2 * 3600.0, 0.75 * span));
      Leak leak;
      bool leak_made = false;
      CurveSampler sampler(*curve);
      Samples s;
      double instance_start = start, up_at = start, backoff = 10;
      double prev_curve = kNaN;
      for (double k = 0;; k += 1) {
        const double t = start + k * tick;
        if (t > end) break;
        const double bg = sampler.At(t);
        if (!std::isfinite(bg)) continue;  // A gap in the recording: nothing to scrape.
        // A real kill in the curve itself (it drops from near its limit to a fresh instance).
        const bool curve_kill =
            std::isfinite(prev_curve) && prev_curve >= 0.95 && bg < 0.5 * prev_curve;
        prev_curve = bg;
        if (curve_kill && t >= up_at) {
          ts.oom_times.push_back(t - tick);
          ts.predictable_each.push_back(true);
          instance_start = t;
          leak_made = false;
          onset_delay = rng.Uniform(3600, 3 * 3600);
        }
        if (t < up_at) continue;  // Down: the kubelet's back-off.
        if (!leak_made && kind != "none" && t - instance_start >= onset_delay) {
          leak = MakeLeak(kind, onset_delay, bg, rng);
          leak_made = true;
        }
        const double grown = leak_made ? leak.Amount(t - instance_start - leak.delay) : 0.0;
        const double usage = (bg + grown) * limit;
        if (usage >= limit) {
          // The kernel's OOM kill, at this tick. The new instance starts after the back-off
          // (reset after 10 minutes of running) at the curve's level, the leak reset.
          ts.oom_times.push_back(t);
          // No forecaster warns a horizon ahead of a climb that has not begun: a kill whose leak
          // began less than kPredictableOnsetSeconds before it is not predictable (scored apart).
          ts.predictable_each.push_back(!leak_made || t - (instance_start + leak.delay) >=
                                                          kPredictableOnsetSeconds);
          if (t - instance_start >= 600) backoff = 10;
          up_at = t + backoff;
          backoff = std::min(300.0, backoff * 2);
          instance_start = up_at;
          leak_made = false;
          onset_delay = rng.Uniform(3600, 3 * 3600);
          continue;
        }
        // A scrape on every step_s (tick index a multiple of the ticks per step).
        if (std::fmod(k, ticks_per_step) != 0) continue;
        const double ws = std::round(usage);
        s.t.push_back(t);
        s.ws.push_back(ws);
        s.rss.push_back(std::max(0.0, std::round(usage - cache * limit)));
      }
      truth.push_back(std::move(ts));
      samples.push_back(std::move(s));
      limits.push_back(limit);
    }
  }
  if (Status st = WriteSamples(truth, samples, limits, out); !st.ok()) return st;
  return truth;
}

Status SimulateRealCurvesToFiles(const std::string& csv_path, const RealCurveOptions& options,
                                 const std::string& openmetrics_path,
                                 const std::string& truth_path) {
  auto curves = ReadRealCurvesFile(csv_path);
  if (!curves.ok()) return curves.status();
  std::ostringstream text;
  auto truth = SimulateRealCurves(*curves, options, text);
  if (!truth.ok()) return truth.status();
  return WriteCorpusFiles(text.str(), *truth, options.step_s, openmetrics_path, truth_path);
}

}  // namespace oomcast::predictor
