#include "oomcast/predictor/canary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "oomcast/predictor/canary_stats.h"

namespace oomcast::predictor {
namespace {

// A forecast whose newest sample is older than this is not current (the engine's default
// staleness), seconds.
constexpr double kStaleSeconds = 120;
// A pod missing from the evaluations for longer than this is a new instance when it comes back.
constexpr double kGapSeconds = 180;
// The growth test waits for a span over which one pod's slope scatters by at most this many
// growth tolerances (measured on the baseline pods, canary::MinGrowthSpan). The t-test itself
// accounts for the scatter; the bound keeps the test from spending its alpha on spans where a
// sawtooth's phase at the ends dominates the slopes.
constexpr double kSlopeNoiseTolerances = 3;
// The watch's alpha is split between the aspects (Bonferroni with fixed weights): the level is
// as informative at its first test as it will ever be (pods differ persistently; more time does
// not shrink that), the growth's evidence accumulates over the watch, and a wider sawtooth
// usually shows in the level too.
constexpr double kAlphaShare[kCanaryAspects] = {0.5, 1.0 / 3, 1.0 / 6};
// Share of an aspect's alpha spent at its first test (canary::AlphaAtLook): a plateau is as
// visible at the first level test as later, and a later test of nearly the same per-pod
// summaries adds little.
constexpr double kFirstTestShare = 0.75;
// The level of a pod: the midpoint of the 10th and 90th percentiles of its window samples. Near
// the ends of its range a GC sawtooth's samples move little with the phase the window happens
// to start and end at (and with the aliasing of the GC period against the scrape interval);
// the median moves about five times as much.
constexpr double kLevelQuantile = 0.1;

Status FieldError(const std::string& path, const std::string& msg) {
  return InvalidArgumentError(path + ": " + msg);
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? kNaN : s / static_cast<double>(v.size());
}

std::string FormatBytesRate(double bytes_per_second) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.1f kB/s", bytes_per_second / 1000);
  return buf;
}

std::string FormatPercent(double fraction) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.1f %%", fraction * 100);
  return buf;
}

nlohmann::json Num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

const char* CanaryVerdictName(CanaryVerdictKind v) {
  switch (v) {
    case CanaryVerdictKind::kPass:
      return "pass";
    case CanaryVerdictKind::kFail:
      return "fail";
    case CanaryVerdictKind::kInconclusive:
      break;
  }
  return "inconclusive";
}

const char* CanaryAspectName(size_t aspect) {
  switch (aspect) {
    case kLevel:
      return "level";
    case kGrowth:
      return "growth";
    case kSpread:
      return "spread";
  }
  return "unknown";
}

Status ValidateCanaryComparison(const CanaryComparisonConfig& c, const std::string& path) {
  if (c.name.empty()) return FieldError(path + ".name", "must be set");
  if (c.namespace_name.empty()) return FieldError(path + ".namespace", "must be set");
  auto b = LabelSelector::Parse(c.baseline_selector);
  if (!b.ok()) return FieldError(path + ".baseline", b.status().message());
  auto k = LabelSelector::Parse(c.canary_selector);
  if (!k.ok()) return FieldError(path + ".canary", k.status().message());
  if (b->empty()) return FieldError(path + ".baseline", "must select something (not empty)");
  if (k->empty()) return FieldError(path + ".canary", "must select something (not empty)");
  if (b->ToString() == k->ToString()) {
    return FieldError(path + ".canary", "is the same selector as baseline");
  }
  const CanaryTolerances& t = c.tolerances;
  const std::string tp = path + ".tolerances";
  if (!(t.level_increase >= 0)) return FieldError(tp + ".levelIncrease", "must be >= 0");
  if (!(t.growth_bytes_per_second >= 0)) return FieldError(tp + ".growth", "must be >= 0");
  if (!(t.spread_increase >= 0)) return FieldError(tp + ".spreadIncrease", "must be >= 0");
  if (!(t.alpha > 0 && t.alpha < 1)) return FieldError(tp + ".alpha", "must be in (0, 1)");
  if (!(t.warmup_seconds >= 0)) return FieldError(tp + ".warmup", "must be >= 0");
  if (!(t.window_seconds > 0)) return FieldError(tp + ".window", "must be > 0");
  if (!(t.min_window_seconds >= 0)) return FieldError(tp + ".minWindow", "must be >= 0");
  if (!(t.growth_window_seconds > 0)) return FieldError(tp + ".growthWindow", "must be > 0");
  if (!(t.min_growth_span_seconds >= 0 && t.min_growth_span_seconds <= t.growth_window_seconds)) {
    return FieldError(tp + ".minGrowthSpan", "must be in [0, growthWindow]");
  }
  if (!(t.look_interval_seconds > 0)) return FieldError(tp + ".lookInterval", "must be > 0");
  if (t.min_baseline_pods < 1) return FieldError(tp + ".minBaselinePods", "must be >= 1");
  if (t.min_canary_pods < 1) return FieldError(tp + ".minCanaryPods", "must be >= 1");
  if (t.min_baseline_pods + t.min_canary_pods < 3) {
    return FieldError(tp + ".minBaselinePods",
                      "minBaselinePods + minCanaryPods must be >= 3 (a test needs a spread)");
  }
  if (t.min_samples < 3) return FieldError(tp + ".minSamples", "must be >= 3");
  if (!(t.reset_after_seconds > 0)) return FieldError(tp + ".resetAfter", "must be > 0");
  return Status::Ok();
}

std::string CanaryVerdictJson(const CanaryComparisonConfig& config, const CanaryVerdict& v) {
  nlohmann::json j;
  j["t"] = v.t;
  j["verdict"] = CanaryVerdictName(v.verdict);
  j["p_value"] = Num(v.p_value);
  j["effect"] = Num(v.effect);
  j["baseline_pods"] = v.baseline_pods;
  j["canary_pods"] = v.canary_pods;
  j["name"] = config.name;
  j["namespace"] = config.namespace_name;
  j["aspect"] =
      v.effect_aspect >= 0 ? nlohmann::json(CanaryAspectName(v.effect_aspect)) : nlohmann::json();
  j["reason"] = v.reason;
  j["looks"] = v.looks;
  j["baseline_usable"] = v.baseline_usable;
  j["canary_usable"] = v.canary_usable;
  j["growth_min_span_s"] = Num(v.growth_min_span);
  nlohmann::json aspects = nlohmann::json::object();
  for (size_t a = 0; a < kCanaryAspects; ++a) {
    const CanaryAspectResult& r = v.aspects[a];
    aspects[CanaryAspectName(a)] = {{"tested", r.tested},
                                    {"tests", r.tests},
                                    {"effect", Num(r.effect)},
                                    {"tolerance", Num(r.tolerance)},
                                    {"p_value", Num(r.p_value)},
                                    {"alpha", Num(r.alpha)},
                                    {"adjusted_p_value", Num(r.adjusted_p_value)},
                                    {"failed", r.failed}};
  }
  j["aspects"] = std::move(aspects);
  return j.dump();
}

StatusOr<CanaryComparator> CanaryComparator::Create(CanaryComparisonConfig config) {
  OOMCAST_RETURN_IF_ERROR(ValidateCanaryComparison(config, "canary[" + config.name + "]"));
  auto b = LabelSelector::Parse(config.baseline_selector);
  auto c = LabelSelector::Parse(config.canary_selector);
  return CanaryComparator(std::move(config), std::move(*b), std::move(*c));
}

CanaryComparator::CanaryComparator(CanaryComparisonConfig config, LabelSelector baseline,
                                   LabelSelector canary)
    : config_(std::move(config)), baseline_(std::move(baseline)), canary_(std::move(canary)) {}

void CanaryComparator::ResetWatch() {
  verdict_ = CanaryVerdict{};
  canary_absent_since_ = 0;
}

const CanaryVerdict& CanaryComparator::Update(double now, const std::vector<Forecast>& forecasts) {
  const CanaryTolerances& tol = config_.tolerances;
  // The pods of this comparison, each the sum of its containers.
  struct Current {
    double bytes = 0;
    double sample_t = 0;
    bool fresh = true;    // Every container current (finite, not stale).
    bool trusted = true;  // ... and past the model's warm-up.
    int group = 0;        // 0 baseline, 1 canary.
  };
  std::map<std::string, Current> current;
  for (const Forecast& f : forecasts) {
    if (f.key.namespace_name != config_.namespace_name) continue;
    const auto& labels = f.PodLabels();
    const bool in_baseline = baseline_.Matches(labels);
    const bool in_canary = canary_.Matches(labels);
    if (in_baseline == in_canary) continue;  // Neither, or ambiguous: left out.
    Current& c = current[f.key.pod];
    c.group = in_canary ? 1 : 0;
    if (now - f.last_sample_t > kStaleSeconds || !std::isfinite(f.rss_bytes)) {
      c.fresh = false;
      continue;
    }
    if (f.warming_up) c.trusted = false;
    c.bytes += f.rss_bytes;
    c.sample_t = std::max(c.sample_t, f.last_sample_t);
  }

  CanaryVerdict& v = verdict_;
  v.t = now;
  v.baseline_pods = v.canary_pods = 0;
  for (const auto& [name, c] : current) (c.group == 1 ? v.canary_pods : v.baseline_pods)++;

  // A canary group gone for reset_after_seconds ends the watch: the next rollout starts afresh.
  if (v.canary_pods == 0) {
    if (canary_absent_since_ == 0) canary_absent_since_ = now;
    if (now - canary_absent_since_ >= tol.reset_after_seconds && v.watch_start_t > 0) {
      ResetWatch();
      v.t = now;
      v.baseline_pods = 0;
      for (const auto& [name, c] : current) v.baseline_pods += c.group == 0 ? 1 : 0;
      canary_absent_since_ = now;
    }
  } else {
    canary_absent_since_ = 0;
  }

  // Per-pod windows; a pod out of the evaluations (stale), or warming up again after the model
  // trusted it (a restart), restarts its instance when it comes back.
  std::vector<const Pod*> baseline, canary, baseline_growth, canary_growth;
  for (const auto& [name, c] : current) {
    Pod& p = pods_[name];
    if (!c.fresh || (!c.trusted && p.trusted_t > 0)) {
      p = Pod{};
      continue;
    }
    if (p.instance_start_t == 0 || now - p.last_seen_t > kGapSeconds) {
      p = Pod{};
      p.instance_start_t = now;
    }
    p.last_seen_t = now;
    if (c.trusted && p.trusted_t == 0) p.trusted_t = now;
    if (now - p.instance_start_t >= tol.warmup_seconds && c.sample_t > p.last_sample_t) {
      p.window.emplace_back(c.sample_t, c.bytes);
      p.last_sample_t = c.sample_t;
    }
    const double keep = std::max(tol.window_seconds, tol.growth_window_seconds);
    while (!p.window.empty() && p.window.front().first < now - keep) p.window.pop_front();
    if (now - p.instance_start_t < tol.warmup_seconds) continue;
    (c.group == 1 ? canary_growth : baseline_growth).push_back(&p);
    if (p.trusted_t == 0 || now - p.trusted_t < tol.warmup_seconds) continue;
    (c.group == 1 ? canary : baseline).push_back(&p);
  }
  // Forget pods long gone.
  for (auto it = pods_.begin(); it != pods_.end();) {
    const bool gone = !current.count(it->first) &&
                      now - it->second.last_seen_t > tol.window_seconds + tol.reset_after_seconds;
    it = gone ? pods_.erase(it) : std::next(it);
  }
  auto enough = [&](const std::vector<const Pod*>& pods) {
    int n = 0;
    for (const Pod* p : pods) n += RecentSamples(*p, now) >= tol.min_samples ? 1 : 0;
    return n;
  };
  v.baseline_usable = enough(baseline_growth);
  v.canary_usable = enough(canary_growth);

  if (v.verdict != CanaryVerdictKind::kFail) {
    const bool ready = static_cast<int>(baseline_growth.size()) >= tol.min_baseline_pods &&
                       static_cast<int>(canary_growth.size()) >= tol.min_canary_pods;
    if (v.watch_start_t == 0 && ready) v.watch_start_t = now;
    if (v.watch_start_t > 0 &&
        now >= v.watch_start_t + static_cast<double>(v.looks) * tol.look_interval_seconds) {
      if (ready) {
        Look(now, baseline, canary, baseline_growth, canary_growth);
      } else {
        // A look missed for lack of pods is still a look spent: the schedule does not stretch.
        v.looks++;
      }
    }
  }
  if (v.verdict != CanaryVerdictKind::kFail) {
    bool any_tested = false;
    for (const auto& a : v.aspects) any_tested = any_tested || a.tested;
    const bool ready_now =
        v.baseline_usable >= tol.min_baseline_pods && v.canary_usable >= tol.min_canary_pods;
    if (v.looks > 0 && any_tested && ready_now) {
      v.verdict = CanaryVerdictKind::kPass;
      v.reason = "no aspect worse than its tolerance with significance";
    } else {
      v.verdict = CanaryVerdictKind::kInconclusive;
      v.reason = "usable pods: baseline " + std::to_string(v.baseline_usable) + " (need " +
                 std::to_string(tol.min_baseline_pods) + "), canary " +
                 std::to_string(v.canary_usable) + " (need " + std::to_string(tol.min_canary_pods) +
                 ")";
    }
  }
  return v;
}

int CanaryComparator::RecentSamples(const Pod& p, double now) const {
  int n = 0;
  for (auto it = p.window.rbegin(); it != p.window.rend(); ++it) {
    if (it->first < now - config_.tolerances.window_seconds) break;
    ++n;
  }
  return n;
}

CanaryComparator::LookSpans CanaryComparator::Spans(
    double now, const std::vector<const Pod*>& canary,
    const std::vector<const Pod*>& baseline_growth,
    const std::vector<const Pod*>& canary_growth) const {
  const CanaryTolerances& tol = config_.tolerances;
  // The growth of every pod is fitted over the same span: the history of the youngest canary
  // pod past its warm-up (at most growth_window_seconds). A slope over less data is noisier, and
  // the test needs summaries equally precise in both groups; baseline pods with a shorter history
  // (restarted during the watch) are left out of the growth test until they have as much. The same
  // holds for the level and the spread: their window is at most the youngest canary pod's history.
  // The level and the spread count samples from the model's warm-up + warmup_seconds on; the
  // growth from the start-up ramp (warmup_seconds after the first current sample) on.
  double history = kInf, growth_history = kInf;
  for (const Pod* p : canary) history = std::min(history, now - LevelFrom(*p));
  for (const Pod* p : canary_growth) {
    growth_history =
        p->window.empty() ? 0 : std::min(growth_history, now - p->window.front().first);
  }
  LookSpans s;
  s.growth_span = std::min(tol.growth_window_seconds, growth_history);
  s.window = std::min(tol.window_seconds, history);
  // The shortest span whose per-pod slope noise is bounded by the growth tolerance, measured on
  // the baseline pods' samples (NaN: not yet measurable, no growth test).
  std::vector<std::vector<std::pair<double, double>>> baseline_samples;
  for (const Pod* p : baseline_growth)
    baseline_samples.emplace_back(p->window.begin(), p->window.end());
  s.growth_min_span =
      canary::MinGrowthSpan(baseline_samples, kSlopeNoiseTolerances * tol.growth_bytes_per_second,
                            tol.growth_window_seconds, tol.min_samples);
  s.growth_ready = std::isfinite(s.growth_min_span) &&
                   s.growth_span >= std::max(s.growth_min_span, tol.min_growth_span_seconds) - 1e-6;
  return s;
}

std::vector<double> CanaryComparator::Summaries(double now, const LookSpans& s,
                                                const std::vector<const Pod*>& pods,
                                                size_t aspect) const {
  const CanaryTolerances& tol = config_.tolerances;
  std::vector<double> out;
  for (const Pod* p : pods) {
    std::vector<double> t, bytes;
    const double from = now - (aspect == kGrowth ? s.growth_span : s.window);
    if (p->window.empty() || p->window.front().first > from + 1e-6) continue;
    if (aspect != kGrowth && LevelFrom(*p) > from + 1e-6) continue;
    for (const auto& [ts, b] : p->window) {
      if (ts < from) continue;
      t.push_back(ts);
      bytes.push_back(b);
    }
    if (static_cast<int>(t.size()) < tol.min_samples) continue;
    if (aspect == kGrowth) {
      if (s.growth_ready) out.push_back(canary::ResistantSlope(t, bytes));
      continue;
    }
    const double level = 0.5 * (canary::Quantile(bytes, kLevelQuantile) +
                                canary::Quantile(bytes, 1 - kLevelQuantile));
    if (!(level > 0)) continue;
    if (aspect == kLevel) {
      out.push_back(std::log(level));
    } else {
      // A flat pod has no sawtooth: its amplitude is floored at 0.01 % of its level so the
      // ratio stays finite.
      const double spread = canary::DetrendedAbsoluteDeviation(t, bytes);
      out.push_back(std::log(std::max(spread, 1e-4 * level)));
    }
  }
  return out;
}

namespace {

// Tests aspect `a` at this look on the per-pod summaries of the baseline (`b`) and the canary
// (`c`), with the level and spread window `window` (seconds). *r holds the aspect's earlier test
// count and its tolerance; on a test the rest of *r is filled in and r->tests counts it. Returns
// false (and leaves *r alone) when the aspect cannot be tested yet: window too short, too few
// pods, or an invalid test.
bool TestAspect(size_t a, const CanaryTolerances& tol, double window, const std::vector<double>& b,
                const std::vector<double>& c, CanaryAspectResult* r) {
  // The level and the spread wait for a window of min_window_seconds: a shorter one is
  // noisier (few GC cycles), and its test would spend the aspect's largest alpha share.
  if (a != kGrowth && window < std::min(tol.min_window_seconds, tol.window_seconds) - 1e-6) {
    return false;
  }
  if (static_cast<int>(b.size()) < tol.min_baseline_pods ||
      static_cast<int>(c.size()) < tol.min_canary_pods) {
    return false;
  }
  // Each aspect spends its share of alpha over its own tests: a look at which an aspect
  // cannot be tested yet (too little history) costs it nothing.
  const double alpha_look =
      canary::AlphaAtLook(tol.alpha * kAlphaShare[a], r->tests + 1, kFirstTestShare);
  // Mann-Whitney's exact p-value cannot go below 1 / C(n, n_canary) (4 + 2 pods: 1/15, 6 + 3:
  // 1/84): with fewer pods than that needs to reach this look's alpha it could never fail, so
  // the t-test on the same per-pod summaries decides (the choice depends on pod counts only).
  const bool rank_test = tol.test == CanaryTest::kMannWhitney &&
                         1 / canary::Binomial(b.size() + c.size(), c.size()) <= alpha_look;
  const canary::TestResult test =
      rank_test ? canary::MannWhitneyGreater(b, c) : canary::PooledTTestGreater(b, c);
  if (!test.valid) return false;
  r->tested = true;
  r->tests++;
  r->alpha = alpha_look;
  const double diff = Mean(c) - Mean(b);
  r->effect = a == kGrowth ? diff : std::exp(diff) - 1;
  r->p_value = test.p_value;
  r->adjusted_p_value = std::min(1.0, test.p_value * tol.alpha / alpha_look);
  r->failed = r->p_value <= alpha_look && r->effect > r->tolerance;
  return true;
}

// Fails the watch on the first failed aspect of *v's latest look (in aspect order), at `now`,
// unless it has failed already: sets the verdict, its effect and a one-line reason.
void RecordFailure(double now, CanaryVerdict* v) {
  for (size_t a = 0; a < kCanaryAspects && v->failed_aspect < 0; ++a) {
    const CanaryAspectResult& r = v->aspects[a];
    if (!r.failed) continue;
    v->failed_aspect = static_cast<int>(a);
    v->failed_at_t = now;
    v->verdict = CanaryVerdictKind::kFail;
    v->effect = r.effect;
    v->effect_aspect = static_cast<int>(a);
    char p[32];
    std::snprintf(p, sizeof p, "%.3g", r.adjusted_p_value);
    v->reason = std::string(CanaryAspectName(a)) + ": canary " +
                (a == kGrowth ? FormatBytesRate(r.effect) : FormatPercent(r.effect)) +
                " over baseline (tolerance " +
                (a == kGrowth ? FormatBytesRate(r.tolerance) : FormatPercent(r.tolerance)) +
                "), adjusted p " + p;
  }
}

}  // namespace

void CanaryComparator::Look(double now, const std::vector<const Pod*>& baseline,
                            const std::vector<const Pod*>& canary,
                            const std::vector<const Pod*>& baseline_growth,
                            const std::vector<const Pod*>& canary_growth) {
  const CanaryTolerances& tol = config_.tolerances;
  CanaryVerdict& v = verdict_;
  v.looks++;
  const LookSpans spans = Spans(now, canary, baseline_growth, canary_growth);
  v.growth_min_span = spans.growth_min_span;
  const double tolerances[kCanaryAspects] = {tol.level_increase, tol.growth_bytes_per_second,
                                             tol.spread_increase};
  double best_p = kNaN;
  double closest = -kInf;
  for (size_t a = 0; a < kCanaryAspects; ++a) {
    CanaryAspectResult& r = v.aspects[a];
    const size_t tests = r.tests;
    r = CanaryAspectResult{};
    r.tests = tests;
    r.tolerance = tolerances[a];
    const std::vector<double> b =
        Summaries(now, spans, a == kGrowth ? baseline_growth : baseline, a);
    const std::vector<double> c = Summaries(now, spans, a == kGrowth ? canary_growth : canary, a);
    if (!TestAspect(a, tol, spans.window, b, c, &r)) continue;
    if (std::isnan(best_p) || r.adjusted_p_value < best_p) best_p = r.adjusted_p_value;
    const double ratio = r.tolerance > 0 ? r.effect / r.tolerance : r.effect;
    if (v.failed_aspect < 0 && ratio > closest) {
      closest = ratio;
      v.effect = r.effect;
      v.effect_aspect = static_cast<int>(a);
    }
  }
  v.p_value = best_p;
  RecordFailure(now, &v);
}

}  // namespace oomcast::predictor
