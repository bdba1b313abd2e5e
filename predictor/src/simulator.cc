#include "oomcast/predictor/simulator.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace oomcast::predictor {
namespace {

constexpr double kPi = 3.14159265358979323846;

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
        const double v = m == 0 ? s.rss[i] : m == 1 ? s.ws[i] : params[c].limit;
        AppendLine(&buf, kMetrics[m], labels, v, s.t[i]);
      }
      out << buf;
    }
  }
  out << "# EOF\n";
  if (!out) return InternalError("simulate: write failed");
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
  }
  out << arr.dump(1) << "\n";
}

Status SimulateToFiles(const SimulatorOptions& options, const std::string& openmetrics_path,
                       const std::string& truth_path) {
  std::ostringstream text;
  auto truth = Simulate(options, text);
  if (!truth.ok()) return truth.status();
  const std::string data = text.str();
  const bool gz = openmetrics_path.size() > 3 &&
                  openmetrics_path.compare(openmetrics_path.size() - 3, 3, ".gz") == 0;
  if (gz) {
    gzFile f = gzopen(openmetrics_path.c_str(), "wb9");
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
  WriteTruthJson(*truth, options.step_s, t);
  if (!t) return InternalError("write failed: " + truth_path);
  return Status::Ok();
}

}  // namespace oomcast::predictor
