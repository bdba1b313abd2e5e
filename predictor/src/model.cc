// The per-container memory model. See predictor/MODEL.md for the math and the reasons.
#include "oomcast/predictor/model.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace oomcast::predictor {
namespace model_internal {
// A point of the regression: x kiloseconds relative to the forecast time, y the bucket mean and
// peak its max (bytes), w its weight (samples).
struct Point {
  double x;
  double y;
  double peak;
  double w;
  double sqrt_w;
};
}  // namespace model_internal
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kNotANumber = std::numeric_limits<double>::quiet_NaN();
// Times in the regression are kiloseconds relative to `now`, for conditioning.
constexpr double kTimeScale = 1000.0;

// Standard normal upper tail P(Z > z).
double NormalUpperTail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// Upper tail of Student's t with `dof` degrees of freedom, through the Cornish-Fisher style
// normalization of Abramowitz & Stegun 26.7.8 (accurate to ~1e-3 for dof >= 3).
double StudentUpperTail(double t, double dof) {
  if (dof > 200) return NormalUpperTail(t);
  const double z = t * (1.0 - 1.0 / (4.0 * dof)) / std::sqrt(1.0 + t * t / (2.0 * dof));
  return NormalUpperTail(z);
}

// Upper quantile of Student's t with `dof` degrees of freedom for the normal quantile z
// (Cornish-Fisher expansion, Abramowitz & Stegun 26.7.5; a little low below 5 dof).
double StudentQuantile(double z, double dof) {
  dof = std::max(1.0, dof);
  const double z3 = z * z * z, z5 = z3 * z * z;
  return z + (z3 + z) / (4 * dof) + (5 * z5 + 16 * z3 + 3 * z) / (96 * dof * dof);
}

using model_internal::Point;

// Weighted least squares of y on (1, x[, x^2]). Solves the normal equations by Cholesky.
// Returns false when singular. `inv` receives (X'WX)^-1 (row-major 3x3, used part only).
bool SolveWls(const Point* pts, int n, const double* robust_w, int p, double beta[3],
              double inv[9]) {
  // Moments sum w x^k (k = 0..4) and sum w y x^k (k = 0..2).
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, r0 = 0, r1 = 0, r2 = 0;
  for (int i = 0; i < n; ++i) {
    const double w = pts[i].w * robust_w[i];
    if (w <= 0) continue;
    const double x = pts[i].x, wx = w * x, wx2 = wx * x, wy = w * pts[i].y;
    s0 += w;
    s1 += wx;
    s2 += wx2;
    s3 += wx2 * x;
    s4 += wx2 * x * x;
    r0 += wy;
    r1 += wy * x;
    r2 += wy * x * x;
  }
  const double m[3][3] = {{s0, 0, 0}, {s1, s2, 0}, {s2, s3, s4}};
  const double r[3] = {r0, r1, r2};
  // Cholesky m = L L'.
  double l[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  for (int a = 0; a < p; ++a) {
    for (int b = 0; b <= a; ++b) {
      double s = m[a][b];
      for (int k = 0; k < b; ++k) s -= l[a][k] * l[b][k];
      if (a == b) {
        if (s <= 1e-12 * std::max(1.0, m[a][a])) return false;
        l[a][a] = std::sqrt(s);
      } else {
        l[a][b] = s / l[b][b];
      }
    }
  }
  // Inverse of L, then inv = L^-T L^-1.
  double li[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  for (int a = 0; a < p; ++a) {
    li[a][a] = 1.0 / l[a][a];
    for (int b = 0; b < a; ++b) {
      double s = 0;
      for (int k = b; k < a; ++k) s -= l[a][k] * li[k][b];
      li[a][b] = s / l[a][a];
    }
  }
  for (int a = 0; a < p; ++a) {
    for (int b = 0; b < p; ++b) {
      double s = 0;
      for (int k = std::max(a, b); k < p; ++k) s += li[k][a] * li[k][b];
      inv[a * 3 + b] = s;
    }
  }
  for (int a = 0; a < p; ++a) {
    double s = 0;
    for (int b = 0; b < p; ++b) s += inv[a * 3 + b] * r[b];
    beta[a] = s;
  }
  for (int a = p; a < 3; ++a) beta[a] = 0;
  return true;
}

double Eval(const double beta[3], double x) { return beta[0] + x * (beta[1] + x * beta[2]); }

// Variance of g' beta, g = (1, x, x^2) from element `from` on (0: the fitted mean at x; 1: the
// fitted growth from 0 to x, trend(x) - trend(0)), with Cov = s2 * inv.
double FitVariance(const double inv[9], int p, double s2, double x, int from = 0) {
  const double g[3] = {1.0, x, x * x};
  double v = 0;
  for (int a = from; a < p; ++a)
    for (int b = from; b < p; ++b) v += g[a] * inv[a * 3 + b] * g[b];
  return std::max(0.0, v * s2);
}

struct Fit {
  int p = 0;  // Parameters: 2 linear, 3 quadratic.
  double beta[3] = {0, 0, 0};
  double inv[9] = {};
  double s2 = 0;  // Residual variance of one sample (bytes^2), inflated for autocorrelation.
  double dof = 1;
};

// Fits a polynomial of `p` parameters with weights w * rw. With `reweights` > 0, first
// replaces rw by Tukey biweights of the residuals (scale: MAD), that many times; the final rw
// are left in `rw` for reuse by other fits of the same points.
bool RobustFit(const Point* pts, int n, int p, Fit* fit, double* rw, int reweights) {
  fit->p = p;
  double res[ContainerModel::kBuckets + 1];
  for (int iter = 0;; ++iter) {
    if (!SolveWls(pts, n, rw, p, fit->beta, fit->inv)) return false;
    if (iter >= reweights) break;
    double abs_res[ContainerModel::kBuckets + 1] = {};
    for (int i = 0; i < n; ++i) {
      res[i] = (pts[i].y - Eval(fit->beta, pts[i].x)) * pts[i].sqrt_w;
      abs_res[i] = std::fabs(res[i]);
    }
    std::nth_element(abs_res, abs_res + n / 2, abs_res + n);
    const double mad = abs_res[n / 2] / 0.6745;
    if (!(mad > 0)) break;
    const double c = 4.685 * mad;
    for (int i = 0; i < n; ++i) {
      const double u = res[i] / c;
      rw[i] = std::fabs(u) >= 1 ? 0.0 : (1 - u * u) * (1 - u * u);
    }
  }
  // Residual variance and lag-1 autocorrelation of the standardized residuals.
  double sw = 0, ss = 0, lag = 0, prev = 0;
  int used = 0;
  for (int i = 0; i < n; ++i) {
    const double r = (pts[i].y - Eval(fit->beta, pts[i].x)) * pts[i].sqrt_w;
    res[i] = r;
    if (rw[i] <= 0) continue;
    sw += rw[i];
    ss += rw[i] * r * r;
    if (used > 0) lag += r * prev;
    prev = r;
    ++used;
  }
  fit->dof = std::max(1.0, used - static_cast<double>(p));
  double s2 = ss / std::max(1e-9, sw) * used / fit->dof;
  const double rho = ss > 0 ? std::clamp(lag / ss, 0.0, 0.9) : 0.0;
  // Positively correlated residuals carry less information: variance inflation (1+rho)/(1-rho).
  fit->s2 = s2 * (1 + rho) / (1 - rho);
  return true;
}

// The bucket-to-bucket changes of the points beyond the trend's own, and what the jump rules
// below need from them. Bytes.
struct Jumps {
  // change[i]: y[i+1] - y[i] minus the trend's increase between them; near[i]: whether that
  // interval is at most max_dx (a gap in the data is not a jump).
  double change[ContainerModel::kBuckets + 1];
  bool near[ContainerModel::kBuckets + 1];
  // The largest increase over one or two consecutive near intervals (a step inside a bucket is
  // split over two: that bucket's mean is between the levels), from point `from` to `to` (-1
  // when nothing rises).
  double largest = 0;
  int from = -1, to = -1;
  // The noise of a change, robustly (jumps are rare): 1.4826 x the median absolute change.
  double noise = 0;
};

void MeasureJumps(const Point* pts, int n, const Fit& fit, double max_dx, Jumps* j) {
  double abs_change[ContainerModel::kBuckets + 1];
  double prev_trend = n > 0 ? Eval(fit.beta, pts[0].x) : 0;
  for (int i = 0; i + 1 < n; ++i) {
    const double trend = Eval(fit.beta, pts[i + 1].x);
    j->change[i] = (pts[i + 1].y - pts[i].y) - (trend - prev_trend);
    j->near[i] = pts[i + 1].x - pts[i].x <= max_dx;
    abs_change[i] = std::fabs(j->change[i]);
    prev_trend = trend;
    if (!j->near[i]) continue;
    if (j->change[i] > j->largest) {
      j->largest = j->change[i];
      j->from = i;
      j->to = i + 1;
    }
    if (i > 0 && j->near[i - 1] && j->change[i - 1] + j->change[i] > j->largest) {
      j->largest = j->change[i - 1] + j->change[i];
      j->from = i - 1;
      j->to = i + 1;
    }
  }
  if (n >= 2) {
    std::nth_element(abs_change, abs_change + (n - 1) / 2, abs_change + n - 1);
    j->noise = 1.4826 * abs_change[(n - 1) / 2];
  }
}

// Whether `model` (model(i): its value at point i) fits the points far better than `fit`: at
// most a quarter of the weighted squared residuals, over the points with segment[i] >= 0 (those
// in a transition, segment -1, are left out of both).
template <typename Model>
bool FitsFarBetter(const Point* pts, int n, const Fit& fit, const int* segment, Model model) {
  double ss_model = 0, ss_fit = 0;
  for (int i = 0; i < n; ++i) {
    if (segment[i] < 0) continue;
    const double model_res = pts[i].y - model(i);
    const double fit_res = pts[i].y - Eval(fit.beta, pts[i].x);
    ss_model += pts[i].w * model_res * model_res;
    ss_fit += pts[i].w * fit_res * fit_res;
  }
  return ss_model <= 0.25 * ss_fit;
}

// Whether one jump, beyond the trend's own increase, makes up at least half the rise of `fit`
// over the points, is clearly above the noise (4 robust standard deviations of a difference of
// two consecutive bucket means), and a constant level on each side of it fits far better than
// the line (a step, not a sawtooth or a staircase). Sets *after (when not null) to the first
// point after the jump.
bool JumpDominates(const Point* pts, int n, const Fit& fit, const Jumps& jumps, int* after) {
  if (n < 3) return false;
  const double rise = Eval(fit.beta, pts[n - 1].x) - Eval(fit.beta, pts[0].x);
  if (!(rise > 0)) return false;
  const int from = jumps.from, to = jumps.to;
  if (from < 0 || jumps.largest < 0.5 * rise) return false;
  if (jumps.largest < 4.0 * jumps.noise) return false;
  if (from < 1 || n - to < 2) return false;
  // The two levels: the weighted means before and after the jump.
  int segment[ContainerModel::kBuckets + 1];
  double level[2] = {0, 0}, weight[2] = {0, 0};
  for (int i = 0; i < n; ++i) {
    segment[i] = i <= from ? 0 : i >= to ? 1 : -1;
    if (segment[i] < 0) continue;
    level[segment[i]] += pts[i].w * pts[i].y;
    weight[segment[i]] += pts[i].w;
  }
  level[0] /= weight[0];
  level[1] /= weight[1];
  if (!FitsFarBetter(pts, n, fit, segment, [&](int i) { return level[segment[i]]; })) return false;
  if (after) *after = to;
  return true;
}

// Whether the points switch between two levels: batch runs that allocate a block, hold it and
// free it again (a square wave, possibly on a leaking baseline). A jump is a change (beyond the
// trend's own) over consecutive intervals that all move the same way by more than 4 robust
// standard deviations of a bucket difference, adding up to at least half of the largest jump
// up; the buckets inside it are transitions (a bucket split by the jump). A run starts with a jump
// up from the baseline and ends with a jump down; anything else (a second step up, as in a
// staircase, or a drop below the baseline, as after a garbage collection) means it is not such a
// series. It is one when at least one run has ended (the memory came back down: a staircase never
// does) and the baseline's own line, with the runs a constant height above it, fits far better than
// `fit`. On success *base is the baseline's line (its level alone when the baseline has fewer than
// 6 points or spans less than `min_slope_span` kiloseconds), fitted on the baseline points only.
bool FindReleasedAllocations(const Point* pts, int n, const Fit& fit, const Jumps& jumps,
                             double min_slope_span, Fit* base) {
  const double noise = 4.0 * jumps.noise;
  if (n < 5 || jumps.from < 0 || jumps.largest < noise) return false;
  const double jump = 0.5 * jumps.largest;
  // segment[i]: 0 baseline, 1 run, -1 transition.
  int segment[ContainerModel::kBuckets + 1];
  // The window may start inside a run: the state before the first jump is known from its sign.
  int state = -1, base_points = 0;
  bool seen_jump = false;
  bool ended = false;
  segment[0] = -1;
  for (int i = 0; i + 1 < n;) {
    // A jump: the consecutive intervals from i that change the same way, each beyond the noise
    // (a jump inside a bucket, or a block allocated over a few scrapes, spans two or three).
    int to = i;
    double c = 0;
    while (to + 1 < n && jumps.near[to]) {
      const double d = jumps.change[to];
      if (std::fabs(d) <= noise || (c != 0 && (d > 0) != (c > 0))) break;
      c += d;
      ++to;
    }
    if (std::fabs(c) < jump) {
      segment[i + 1] = state;
      ++i;
      continue;
    }
    for (int k = i + 1; k < to; ++k) segment[k] = -1;
    if (!seen_jump) {
      seen_jump = true;
      state = c > 0 ? 0 : 1;
      for (int k = 0; k <= i; ++k) segment[k] = state;
    }
    if (c > 0) {
      if (state == 1) return false;  // A second step up: a staircase, not a run.
      state = 1;
    } else {
      if (state == 0) return false;  // A drop below the baseline: not a run ending.
      state = 0;
      ended = true;
    }
    segment[to] = state;
    i = to;
  }
  double baseline[ContainerModel::kBuckets + 1];
  double first_x = 0, last_x = 0;
  for (int i = 0; i < n; ++i) {
    baseline[i] = segment[i] == 0 ? 1.0 : 0.0;
    if (segment[i] != 0) continue;
    if (base_points++ == 0) first_x = pts[i].x;
    last_x = pts[i].x;
  }
  if (!ended || base_points < 3) return false;
  const int p = base_points >= 6 && last_x - first_x >= min_slope_span ? 2 : 1;
  if (!RobustFit(pts, n, p, base, baseline, 0)) return false;
  // The runs' height above the baseline.
  double height = 0, run_weight = 0;
  for (int i = 0; i < n; ++i) {
    if (segment[i] != 1) continue;
    height += pts[i].w * (pts[i].y - Eval(base->beta, pts[i].x));
    run_weight += pts[i].w;
  }
  if (run_weight <= 0) return false;
  height /= run_weight;
  return FitsFarBetter(pts, n, fit, segment, [&](int i) {
    return Eval(base->beta, pts[i].x) + (segment[i] == 1 ? height : 0);
  });
}

// Growth that accelerates as an exponential leak does (each minute adds a fixed share of what
// has leaked): y = c0 + c1 exp(k x), fitted by weighted least squares over the points from
// `from` on for each k of a grid of time constants 1 / k from 2 to 64 minutes (for a fixed k
// the model is linear in c0, c1), the best k kept. On success (c1 > 0, and the exponential
// leaves fewer squared residuals than a parabola of the same points, also three parameters: the
// rise of a wave from its trough, or a warm-up, is a parabola's) `beta` is the exponential's
// second-order expansion at x = 0 (now): c0 + c1, c1 k, c1 k^2 / 2. Its slope and curvature are
// the exponential's own now, where a parabola fitted over the rise has those of its middle;
// further ahead than 1 / k it stays below the exponential. `growth` receives (c1, k): the
// exponential's own extrapolation is beta[0] + c1 (exp(k x) - 1).
bool ExponentialTrend(const Point* pts, int n, int from, double beta[3], double growth[2]) {
  if (n - from < 8) return false;
  double ones[ContainerModel::kBuckets + 1], quad[3], inv[9];
  for (int i = from; i < n; ++i) ones[i] = 1.0;
  if (!SolveWls(pts + from, n - from, ones + from, 3, quad, inv)) return false;
  double ss_quad = 0;
  for (int i = from; i < n; ++i) {
    const double r = pts[i].y - Eval(quad, pts[i].x);
    ss_quad += pts[i].w * r * r;
  }
  double best_ss = ss_quad, best_k = 0, best_c0 = 0, best_c1 = 0;
  // Time constants 2 to 64 minutes, in kiloseconds, a factor 2^(1/4) apart.
  for (double tau = 0.12; tau <= 3.85; tau *= 1.189207) {
    const double k = 1.0 / tau;
    double s0 = 0, s1 = 0, s2 = 0, r0 = 0, r1 = 0;
    for (int i = from; i < n; ++i) {
      const double w = pts[i].w, e = std::exp(k * pts[i].x);
      s0 += w;
      s1 += w * e;
      s2 += w * e * e;
      r0 += w * pts[i].y;
      r1 += w * e * pts[i].y;
    }
    const double det = s0 * s2 - s1 * s1;
    if (!(det > 1e-12 * s0 * s2)) continue;
    const double c1 = (s0 * r1 - s1 * r0) / det, c0 = (r0 - c1 * s1) / s0;
    if (!(c1 > 0)) continue;
    double ss = 0;
    for (int i = from; i < n; ++i) {
      const double r = pts[i].y - c0 - c1 * std::exp(k * pts[i].x);
      ss += pts[i].w * r * r;
    }
    if (ss < best_ss) {
      best_ss = ss;
      best_k = k;
      best_c0 = c0;
      best_c1 = c1;
    }
  }
  if (!(best_k > 0)) return false;
  beta[0] = best_c0 + best_c1;
  beta[1] = best_c1 * best_k;
  beta[2] = 0.5 * best_c1 * best_k * best_k;
  growth[0] = best_c1;
  growth[1] = best_k;
  return true;
}

// Smallest tau in (0, +inf) where beta(tau) + offset >= limit, or +Inf. tau in kiloseconds.
double FirstCrossing(const double beta[3], double offset, double limit) {
  const double a = beta[2], b = beta[1], c = beta[0] + offset - limit;
  if (c >= 0) return 0;
  if (std::fabs(a) < 1e-300) {
    if (b <= 0) return kInfinity;
    return -c / b;
  }
  const double disc = b * b - 4 * a * c;
  if (disc < 0) return kInfinity;
  const double sq = std::sqrt(disc);
  // Numerically stable roots.
  const double q = -0.5 * (b + std::copysign(sq, b));
  double r1 = q / a, r2 = q != 0 ? c / q : kInfinity;
  if (r1 > r2) std::swap(r1, r2);
  if (r1 > 0) return r1;
  if (r2 > 0) return r2;
  return kInfinity;
}

// Adds the weighted moments of `p` to the sums: w, w x, w x^2, w y, w x y (x as in `p`).
void AddMoments(const Point& p, double* s0, double* s1, double* s2, double* y0, double* y1) {
  const double w = p.w, x = p.x, y = p.y;
  *s0 += w;
  *s1 += w * x;
  *s2 += w * x * x;
  *y0 += w * y;
  *y1 += w * x * y;
}

// The change point of a continuous two-slope (hinge) model y = a + b x + d max(0, x - x_j)
// fitted by weighted least squares: the j (with at least `min_after` points from it on) whose
// model leaves the least squared residuals; -1 when none. O(n) with suffix sums.
int HingeOnset(const Point* pts, int n, int min_after) {
  if (n < min_after + 2) return -1;
  // Whole-window sums.
  double S0 = 0, S1 = 0, S2 = 0, Y0 = 0, Y1 = 0, YY = 0;
  for (int i = 0; i < n; ++i) {
    AddMoments(pts[i], &S0, &S1, &S2, &Y0, &Y1);
    YY += pts[i].w * pts[i].y * pts[i].y;
  }
  // Suffix sums over the points after the candidate change point.
  double t0 = 0, t1 = 0, t2 = 0, u0 = 0, u1 = 0;
  double best_rss = kInfinity;
  int best = -1;
  for (int j = n - 1; j >= 1; --j) {
    AddMoments(pts[j], &t0, &t1, &t2, &u0, &u1);
    if (n - j < min_after) continue;
    const double tau = pts[j].x;
    // h = x - tau over the points from j on (0 before).
    const double h0 = t1 - tau * t0, h1 = t2 - tau * t1, h2 = t2 - 2 * tau * t1 + tau * tau * t0;
    const double hy = u1 - tau * u0;
    // Normal equations of (1, x, h).
    const double m[3][3] = {{S0, S1, h0}, {S1, S2, h1}, {h0, h1, h2}};
    const double r[3] = {Y0, Y1, hy};
    // Solve by Cramer's rule (3x3).
    const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                       m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                       m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if (!(std::fabs(det) > 1e-18 * std::max(1.0, S0 * S2 * h2))) continue;
    double beta[3];
    for (int c = 0; c < 3; ++c) {
      double mm[3][3];
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) mm[a][b] = b == c ? r[a] : m[a][b];
      beta[c] = (mm[0][0] * (mm[1][1] * mm[2][2] - mm[1][2] * mm[2][1]) -
                 mm[0][1] * (mm[1][0] * mm[2][2] - mm[1][2] * mm[2][0]) +
                 mm[0][2] * (mm[1][0] * mm[2][1] - mm[1][1] * mm[2][0])) /
                det;
    }
    const double rss = YY - (beta[0] * r[0] + beta[1] * r[1] + beta[2] * r[2]);
    if (rss < best_rss) {
      best_rss = rss;
      best = j;
    }
  }
  return best;
}

// The steps of ContainerModel::FitAndForecast, in their order. Points have x in kiloseconds
// relative to the forecast time (<= 0), y and peak in bytes; `rw` holds one robust weight per
// point, shared by the fits of the same points. `span` is the window's span in seconds.

// The trend a forecast extrapolates and what it was chosen from.
struct ChosenTrend {
  Fit fit;               // The trend (bytes over kiloseconds relative to now).
  Fit line;              // The whole window's robust line.
  int from = 0;          // Index of the first point the trend is fitted over.
  bool changed = false;  // The window holds a change of regime (the trend is not `line`).
  bool onset = false;    // The trend is the rise since a detected onset (at `from`).
  // An exponential trend beta[0] + exp_c1 (exp(exp_k x) - 1) (bytes, 1/kiloseconds); 0: none.
  double exp_c1 = 0, exp_k = 0;
};

// Step 1: the whole window's fits. Robust weights come from the quadratic fit (it follows
// curved data, so curvature is not mistaken for outliers) when the window has 8 points over 8
// buckets, and are left in rw[0, n). Sets `quad` and `quadratic` (its curvature is
// significant: |c| / se >= acceleration_min_t; false when there is no quadratic fit) and the
// robust line `line`. False when a fit fails (then there is no forecast).
bool FitWholeWindow(const ModelConfig& cfg, const Point* pts, int n, double span, double* rw,
                    Fit* quad, bool* quadratic, Fit* line) {
  for (int i = 0; i < n; ++i) rw[i] = 1.0;
  *quadratic = false;
  if (n >= 8 && span >= 8 * cfg.bucket_seconds && RobustFit(pts, n, 3, quad, rw, 1)) {
    const double se_c = std::sqrt(quad->s2 * quad->inv[8]);
    *quadratic = se_c > 0 && std::fabs(quad->beta[2]) / se_c >= cfg.acceleration_min_t;
    return RobustFit(pts, n, 2, line, rw, 0);
  }
  for (int i = 0; i < n; ++i) rw[i] = 1.0;
  return RobustFit(pts, n, 2, line, rw, 1);
}

// Step 2: the trend by regime. The recent half of the window: a change of regime (a leak or a
// warm-up that starts, a warm-up that levels off) shows as a recent slope different from the
// long one, and a flat part followed by a ramp is not an acceleration unless the recent part
// is itself curved. Expects t->fit == t->line (step 1); sets t->fit, t->from and t->changed.
void ChooseRegime(const ModelConfig& cfg, const Point* pts, int n, double span, double* rw,
                  const Fit& quad, bool quadratic, ChosenTrend* t) {
  int half = 0;
  while (half < n && (pts[half].x - pts[0].x) * kTimeScale < span / 2) ++half;
  const int nr = n - half;
  Fit recent;
  const bool have_recent = nr >= 6 && span / 2 >= cfg.min_fit_seconds &&
                           RobustFit(pts + half, nr, 2, &recent, rw + half, 0);
  // The recent half's own curvature, in units of its standard error.
  Fit recent_quad;
  double recent_curvature_t = 0;
  if (have_recent && nr >= 8 && RobustFit(pts + half, nr, 3, &recent_quad, rw + half, 0)) {
    const double se_c = std::sqrt(recent_quad.s2 * recent_quad.inv[8]);
    if (se_c > 0) recent_curvature_t = recent_quad.beta[2] / se_c;
  }
  Fit& fit = t->fit;
  int& from = t->from;
  bool& changed = t->changed;
  if (quadratic && quad.beta[2] < 0) {
    fit = quad;  // Deceleration: trusted as is (it only lowers the forecast).
  } else if (have_recent && recent_curvature_t <= -cfg.acceleration_min_t) {
    fit = recent_quad;  // Growth levelling off now (a warm-up reaching its plateau).
    from = half;
  } else if (quadratic) {
    changed = true;
    // Keep the acceleration only when the recent half is itself curved upwards.
    // Growth that accelerates faster than a parabola (e.g. exponential) is curved more in the
    // recent half: then the recent quadratic is the better local model.
    if (!have_recent) {
      fit = quad;
    } else if (recent_curvature_t >= 2.0) {
      fit = recent_quad.beta[2] > quad.beta[2] ? recent_quad : quad;
      from = recent_quad.beta[2] > quad.beta[2] ? half : 0;
    } else {
      fit = recent;
      from = half;
    }
  } else if (have_recent) {
    const double se = std::sqrt(recent.s2 * recent.inv[4] + fit.s2 * fit.inv[4]);
    if (se > 0 && std::fabs(recent.beta[1] - fit.beta[1]) / se >= 3.0) {
      fit = recent;
      from = half;
      changed = true;
    }
  }
}

// Step 3: growth is extrapolated only while the newest data still follow it, checked on the
// newest quarter of the window alone:
// - a leak or a warm-up that starts (flat, then a ramp) fits a parabola across the kink whose
//   slope at `now` overshoots the ramp's: when the newest quarter's slope falls clearly
//   (2 standard errors) below the parabola's over the same points, its line is the trend;
// - after a change of regime (a kink, a new slope), a warm-up that is already levelling off
//   (a saturating curve) is concave in its newest part while the line fitted since the change
//   still has the early, steep slope: when the newest quarter curves down significantly, its
//   quadratic is the trend (it only lowers the forecast, and stops at its vertex).
//   A steady staircase or sawtooth keeps the whole window's line and is not checked: a step
//   in the newest quarter also looks concave.
// May replace t->fit and t->from.
void FollowNewestQuarter(const ModelConfig& cfg, const Point* pts, int n, double span, double* rw,
                         ChosenTrend* t) {
  Fit& fit = t->fit;
  int& from = t->from;
  const bool changed = t->changed;
  if (!(fit.beta[2] > 0 || (changed && fit.beta[1] > 0))) return;
  int q = n;
  while (q > 0 && (pts[n - 1].x - pts[q - 1].x) * kTimeScale < span / 4) --q;
  Fit last;
  Fit last_quad;
  double last_curvature_t = 0;
  if (changed && n - q >= 8 && RobustFit(pts + q, n - q, 3, &last_quad, rw + q, 0)) {
    const double se_c = std::sqrt(last_quad.s2 * last_quad.inv[8]);
    if (se_c > 0) last_curvature_t = last_quad.beta[2] / se_c;
  }
  if (last_curvature_t <= -cfg.acceleration_min_t) {
    fit = last_quad;
    from = q;
  } else if (fit.beta[2] > 0 && n - q >= 6 && RobustFit(pts + q, n - q, 2, &last, rw + q, 0)) {
    double sw = 0, swx = 0;
    for (int i = q; i < n; ++i) {
      sw += pts[i].w * rw[i];
      swx += pts[i].w * rw[i] * pts[i].x;
    }
    const double xm = sw > 0 ? swx / sw : 0;
    const double curve_slope = fit.beta[1] + 2 * fit.beta[2] * xm;
    const double se_q = std::sqrt(last.s2 * last.inv[4]);
    if (last.beta[1] < curve_slope - 2.0 * se_q) {
      fit = last;
      from = q;
    }
  }
}

// Step 4: a level shift is not growth. Batch work that allocates a large block at once and
// holds it (a square wave), or a cache filled in one go, shows as one jump between two buckets
// and then a plateau; a line across the jump rises steeply, but the memory does not keep
// rising. When one jump (beyond the trend's own increase between those buckets) makes up at
// least half of the rise the fit claims over its points, the fit is replaced: by the whole
// window's line if that one is not itself one jump, else by the fit of the points after the
// jump (a line, or the level alone when too few). A staircase leak has several steps in its
// window, each a fraction of the rise; a gap in the data is not a jump (the trend's rise over
// the gap is subtracted). Jumps within noise (4 standard deviations of a bucket) do not count.
// Otherwise released allocations are discounted (below). May replace t->fit only; resets the
// robust weights after a dominating jump.
void DiscountStepsAndReleases(const ModelConfig& cfg, const Point* pts, int n, double* rw,
                              ChosenTrend* t) {
  Fit& fit = t->fit;
  const int from = t->from;
  const Fit& line = t->line;
  int after = -1;
  const double max_dx = 1.5 * cfg.bucket_seconds / kTimeScale;
  Jumps jumps;
  MeasureJumps(pts + from, n - from, fit, max_dx, &jumps);
  if (fit.beta[1] > 0 && JumpDominates(pts + from, n - from, fit, jumps, &after)) {
    after += from;
    // The replacement only ever lowers the growth (a ramp that starts with a jump keeps it).
    Jumps line_jumps;
    if (from > 0) MeasureJumps(pts, n, line, max_dx, &line_jumps);
    if (from > 0 && !JumpDominates(pts, n, line, line_jumps, nullptr)) {
      if (line.beta[1] < fit.beta[1]) fit = line;
    } else {
      const double after_span = (pts[n - 1].x - pts[after].x) * kTimeScale;
      for (int i = after; i < n; ++i) rw[i] = 1.0;
      Fit shifted;
      const bool ok = n - after >= 6 && after_span >= 2 * cfg.bucket_seconds
                          ? RobustFit(pts + after, n - after, 2, &shifted, rw + after, 1)
                          : RobustFit(pts + after, n - after, 1, &shifted, rw + after, 0);
      if (ok && shifted.beta[1] < fit.beta[1]) fit = shifted;
    }
  } else {
    // Released allocations are not growth either: batch runs (up, held, freed) tilt or bend the
    // fit that crosses them, and inflate its residual variance. The trend is the baseline's own
    // line (its level alone when it spans less than two buckets), whether that is steeper or not
    // (a leak under the runs); the runs stay in the envelope (the peak above the trend over the
    // last envelope window).
    Fit base;
    const double min_slope_span = 2 * cfg.bucket_seconds / kTimeScale;
    if (FindReleasedAllocations(pts + from, n - from, fit, jumps, min_slope_span, &base)) {
      fit = base;
    }
  }
}

// Whether the line `f` rises faster than `chosen_slope` (bytes per kilosecond, at now) by more
// than onset_z standard errors of its slope; with `decide`, z is widened to Student's t for
// f's degrees of freedom (the newest window only screens, the line since the onset decides).
bool RisesFaster(const ModelConfig& cfg, const Fit& f, bool decide, double chosen_slope) {
  const double se = std::sqrt(f.s2 * f.inv[4]);
  const double z = decide ? StudentQuantile(cfg.onset_z, f.dof) : cfg.onset_z;
  return se > 0 && f.beta[1] - z * se > chosen_slope;
}

// Step 5a: where a steeper rise began, if the newest data show one. The line of the newest
// onset_min_window_seconds (at least 5 points) must rise faster than `chosen_slope` (screened
// by a plain fit first: cheap, most forecasts stop here; then a robust one); the hinge of the
// window gives the onset, and the robust line of the points since it (`best`, own robust
// weights) must pass the deciding test. Returns the onset's index (>= 2), or -1 (then `best`
// is unspecified). Needs n >= 7.
int LocateOnset(const ModelConfig& cfg, const Point* pts, int n, double chosen_slope, Fit* best) {
  double orw[ContainerModel::kBuckets + 1];
  int k = n - 1;
  while (k > 0 && (pts[n - 1].x - pts[k - 1].x) * kTimeScale <= cfg.onset_min_window_seconds) --k;
  k = std::min(k, n - 5);
  Fit newest;
  for (int i = k; i < n; ++i) orw[i] = 1.0;
  bool candidate = RobustFit(pts + k, n - k, 2, &newest, orw + k, 0) &&
                   RisesFaster(cfg, newest, false, chosen_slope);
  if (candidate) {
    for (int i = k; i < n; ++i) orw[i] = 1.0;
    candidate = RobustFit(pts + k, n - k, 2, &newest, orw + k, 1) &&
                RisesFaster(cfg, newest, false, chosen_slope);
  }
  if (!candidate) return -1;
  const int onset_at = HingeOnset(pts, n, 5);
  // Own robust weights: the whole window's fit takes the newest points of an onset for
  // outliers.
  if (onset_at >= 2) {
    for (int i = onset_at; i < n; ++i) orw[i] = 1.0;
  }
  candidate = onset_at >= 2 &&
              RobustFit(pts + onset_at, n - onset_at, 2, best, orw + onset_at, 1) &&
              RisesFaster(cfg, *best, true, chosen_slope);
  return candidate ? onset_at : -1;
}

// Step 5b: whether the rise since the onset at index `onset_at` (its line `best`) is an onset
// and not a rise the window has seen before or a jump.
bool OnsetHolds(const ModelConfig& cfg, const Point* pts, int n, const Fit& best, int onset_at) {
  // Out of the band: the trend now is above every point before the onset.
  double band = -kInfinity;
  for (int i = 0; i < onset_at; ++i) band = std::max(band, pts[i].y);
  if (!(Eval(best.beta, 0) > band)) return false;
  // A rise that the past has shown to be released is not an onset: a garbage-collected heap
  // (or a batch run) climbs as steeply between its drops, every cycle, and with a leak under
  // it each cycle tops the last one. At a coarse scrape a whole rising phase is a few points
  // only (4-5 minutes at 60 s), as long as the onset window. The rise since the onset must
  // exceed onset_release_factor times the largest fall between consecutive points before
  // it (noise after a calm; a whole cycle's release under a sawtooth).
  if (cfg.onset_release_factor > 0) {
    double fall = 0;
    for (int i = 0; i < onset_at; ++i) fall = std::max(fall, pts[i].y - pts[i + 1].y);
    const double rise = Eval(best.beta, 0) - Eval(best.beta, pts[onset_at].x);
    if (!(rise > cfg.onset_release_factor * fall)) return false;
  }
  // A jump (a batch run starting, a level shift, wherever it is in the window, the newest
  // sample included) is not an onset: one rise between consecutive points of at least 40 %
  // of the window's rise and 4 robust standard deviations of such rises over the whole
  // window (mostly the calm before). A ramp of 5 points or more rises by about the same
  // between all of them (a quarter of its rise at most, plus noise).
  const double max_dx = 1.5 * cfg.bucket_seconds / kTimeScale;
  Jumps all;
  const Fit flat;
  MeasureJumps(pts, n, flat, max_dx, &all);
  const double rise = Eval(best.beta, pts[n - 1].x) - Eval(best.beta, pts[onset_at].x);
  double largest = 0;
  for (int i = onset_at; i + 1 < n; ++i) largest = std::max(largest, pts[i + 1].y - pts[i].y);
  return !(largest >= 0.4 * rise && largest >= 4.0 * all.noise);
}

// Step 5c: the rise since the onset at `onset_at` (its line `best`) becomes the trend: sets
// t->fit, from, changed and onset; resets the robust weights from the onset on.
void AdoptOnset(const ModelConfig& cfg, const Point* pts, int n, double* rw, const Fit& best,
                int onset_at, ChosenTrend* t) {
  Fit& fit = t->fit;
  const int from = onset_at;
  fit = best;
  t->from = from;
  t->changed = true;
  t->onset = true;
  // A rise that is already levelling off (a warm-up, a cache filling) is concave: when its
  // curvature is significant, its quadratic is the trend (lower, and stops at its vertex).
  Fit bent;
  for (int i = from; i < n; ++i) rw[i] = 1.0;
  if (n - from >= 8 && RobustFit(pts + from, n - from, 3, &bent, rw + from, 1)) {
    const double se_c = std::sqrt(bent.s2 * bent.inv[8]);
    if (se_c > 0 && bent.beta[2] < -2.0 * se_c && bent.beta[1] < fit.beta[1]) fit = bent;
    // A rise that is accelerating (an exponential leak: each minute adds a fixed share of
    // what has leaked) is convex: its line since the onset lags the slope now and misses
    // the curvature; when that is clearly significant, its quadratic is the trend.
    if (se_c > 0 && bent.beta[2] > cfg.acceleration_min_t * se_c) fit = bent;
  }
}

// Step 5: change detection, a leak that starts after a long calm. Every fit above weighs the
// calm past, so its slope lags a new one for a long time. When the line of the newest
// onset_min_window_seconds (at least 5 points) rises faster than the chosen fit now by more
// than onset_z standard errors (widened to Student's t: 5 points are little evidence), the
// change point is located: the continuous two-slope (hinge) model with the least squared
// residuals over the window gives the onset, and the line of the points since the onset is
// the trend if its slope passes the same test and it has climbed out of the band the points
// before the onset moved in (a sawtooth's rising phase does not). Only upwards: a staircase
// is flat between its steps, and a short flat window must not hide it.
void DetectOnset(const ModelConfig& cfg, const Point* pts, int n, double* rw, ChosenTrend* t) {
  if (!(cfg.onset_min_window_seconds > 0 && n >= 7)) return;
  const double chosen_slope = t->fit.beta[1];  // Slope at x = 0 (now).
  Fit best;
  const int onset_at = LocateOnset(cfg, pts, n, chosen_slope, &best);
  if (onset_at >= 0 && OnsetHolds(cfg, pts, n, best, onset_at)) {
    AdoptOnset(cfg, pts, n, rw, best, onset_at, t);
  }
}

// Step 6: growth that accelerates clearly (the chosen trend is a parabola curving up by
// acceleration_min_t standard errors) is taken for an exponential leak from where the rise
// began (the onset, else the hinge of the window) when an exponential fits it better than a
// parabola (ExponentialTrend): a parabola fitted over the whole rise has the slope and
// curvature of the rise's middle, and reaches the limit later than the leak. Then sets
// t->fit.beta to the exponential's and t->exp_c1, t->exp_k.
void ExponentialRise(const ModelConfig& cfg, const Point* pts, int n, ChosenTrend* t) {
  Fit& fit = t->fit;
  if (!(fit.p == 3 && fit.beta[2] > 0)) return;
  const double se_c = std::sqrt(fit.s2 * fit.inv[8]);
  const int rise_from = t->onset ? t->from : HingeOnset(pts, n, 5);
  double exp_beta[3], growth[2];
  if (se_c > 0 && fit.beta[2] > cfg.acceleration_min_t * se_c && rise_from >= 0 &&
      ExponentialTrend(pts, n, rise_from, exp_beta, growth) && exp_beta[1] > fit.beta[1]) {
    for (int c = 0; c < 3; ++c) fit.beta[c] = exp_beta[c];
    t->exp_c1 = growth[0];
    t->exp_k = growth[1];
  }
}

// Step 7: what is extrapolated, into beta[3]: the fit's coefficients with the slope shrunk
// towards 0 by its significance (a slope within noise of zero is not a trend; factor
// max(0, 1 - (growth_min_t / t)^2)); the curvature is kept (it is significant, above).
void ShrinkSlope(const ModelConfig& cfg, const Fit& fit, double beta[3]) {
  beta[0] = fit.beta[0];
  beta[1] = fit.beta[1];
  beta[2] = fit.beta[2];
  const double se_b = std::sqrt(fit.s2 * fit.inv[4]);
  if (se_b > 0) {
    const double tb = beta[1] / se_b;
    const double k = cfg.growth_min_t;
    beta[1] *= std::max(0.0, 1.0 - (k * k) / std::max(1e-12, tb * tb));
  }
}

// Step 8: the peak envelope (bytes above the trend): the envelope_quantile of the bucket peaks
// above t.fit over the last envelope_window_seconds (since the onset after one), plus the
// unseen part of the true peak, from `rise_ewma` (bytes, the typical rise between samples).
// False when no point is in that window (then there is no envelope).
bool PeakEnvelope(const ModelConfig& cfg, const Point* pts, int n, const ChosenTrend& t,
                  float rise_ewma, double* envelope) {
  // The peaks: the highest recent bucket peak above the trend. Garbage-collected heaps peak at
  // a multiple of their live size, so the envelope grows in proportion to the trend.
  double above[ContainerModel::kBuckets + 1];
  int m = 0;
  // After an onset the calm before it lies above the steep line drawn back: not a peak.
  const double envelope_from =
      std::max(-cfg.envelope_window_seconds / kTimeScale, t.onset ? pts[t.from].x : -kInfinity);
  for (int i = 0; i < n; ++i) {
    if (pts[i].x >= envelope_from) above[m++] = pts[i].peak - Eval(t.fit.beta, pts[i].x);
  }
  if (m == 0) return false;
  const int qi = std::clamp(static_cast<int>(std::ceil(cfg.envelope_quantile * m)) - 1, 0, m - 1);
  std::nth_element(above, above + qi, above + m);
  const double seen = std::max(0.0, above[qi]);
  // The true peak between scrapes is missed by up to a rise between samples, but every bucket
  // that comes within that rise of the highest one is another look at the same peak level
  // (another GC cycle, another batch run, sampled at another phase), so the highest of k looks
  // misses it by less. The looks are not independent (a GC period close to a multiple of the
  // scrape interval samples the same phases again), so the miss is taken to shrink as
  // 1 / sqrt(k), not as the 1 / (k + 1) of independent uniform phases.
  int looks = 0;
  for (int i = 0; i < m; ++i) looks += above[i] >= seen - rise_ewma ? 1 : 0;
  *envelope = seen + cfg.unseen_peak_factor * rise_ewma / std::sqrt(std::max(1, looks));
  return true;
}

// Step 9: the forecast peak (trend `beta` from step 7 plus the `envelope` in bytes, scaled
// with the trend's rise) within horizon_seconds: sets peak_at_horizon_bytes of `out` and, when
// limit_bytes is finite and > 0, eta_seconds (seconds until the peak reaches the limit; +Inf:
// never) and risk (P(the peak reaches the limit), from the fit's variance).
void ForecastPeak(const ModelConfig& cfg, const Point* pts, const ChosenTrend& t,
                  const double beta[3], double envelope, double limit_bytes, double horizon_seconds,
                  ModelOutput* out) {
  const Fit& fit = t.fit;
  const bool has_limit = std::isfinite(limit_bytes) && limit_bytes > 0;
  const double level0 = std::max(1.0, beta[0]);
  const double gain = 1.0 + envelope / level0;
  // The slope's shrinkage scales the exponential's growth alike.
  const double shrink = fit.beta[1] > 0 ? beta[1] / fit.beta[1] : 0.0;
  const double exp_c1 = t.exp_c1, exp_k = t.exp_k;
  auto trend_at = [&](double x) {
    return exp_k > 0 ? beta[0] + shrink * exp_c1 * std::expm1(exp_k * x) : Eval(beta, x);
  };
  auto peak_at = [&](double x) {
    const double trend = trend_at(x);
    return trend + envelope + std::max(0.0, trend - beta[0]) * (gain - 1.0);
  };
  // A trend seen only since a recent onset is not extrapolated further than
  // onset_extrapolation_factor times as long as it has been seen: a young rise may still be a
  // warm-up that levels off (its curvature is not yet measurable).
  double h = horizon_seconds / kTimeScale;
  if (t.onset) h = std::min(h, cfg.onset_extrapolation_factor * -pts[t.from].x);
  // The highest forecast trend point within [0, h].
  double x_peak = h;
  if (beta[2] < 0) {
    x_peak = std::clamp(-beta[1] / (2 * beta[2]), 0.0, h);
  } else if (Eval(beta, 0) > Eval(beta, h)) {
    x_peak = 0;
  }
  const double peak = peak_at(x_peak);
  out->peak_at_horizon_bytes = peak_at(cfg.horizon_seconds / kTimeScale);
  if (!has_limit) return;
  if (peak_at(0) >= limit_bytes) {
    out->eta_seconds = 0;
  } else {
    // peak_at(x) = limit  <=>  trend(x) = level0 + (limit - level0 - envelope) / gain.
    const double target = beta[0] + (limit_bytes - beta[0] - envelope) / gain;
    if (exp_k > 0) {
      const double growth = shrink * exp_c1;
      out->eta_seconds = growth > 0 && target > beta[0]
                             ? std::log1p((target - beta[0]) / growth) / exp_k * kTimeScale
                             : kInfinity;
    } else {
      out->eta_seconds = FirstCrossing(beta, 0, target) * kTimeScale;
    }
  }
  // Variance of the forecast peak: the level's, plus the growth's scaled by the gain.
  const double var_level = FitVariance(fit.inv, fit.p, fit.s2, 0);
  const double var_growth = FitVariance(fit.inv, fit.p, fit.s2, x_peak, 1);
  const double sd = std::sqrt(var_level + gain * gain * var_growth) + 1e-3 * limit_bytes;
  out->risk = StudentUpperTail((limit_bytes - peak) / sd, fit.dof);
}

}  // namespace

ContainerModel::ContainerModel(const ModelConfig* config)
    : config_(config), last_bytes_(kNotANumber), last_limit_(kNotANumber) {}

void ContainerModel::Restart(double t) {
  ++restarts_;
  head_ = 0;
  size_ = 0;
  open_count_ = 0;
  open_sum_t_ = 0;
  open_sum_v_ = 0;
  open_index_ = -1;
  origin_t_ = t;
  segment_start_t_ = t;
}

double ContainerModel::RecentFloor(double t) const {
  double floor = open_count_ > 0 ? open_min_ : last_bytes_;
  const double since = t - config_->restart_floor_seconds - origin_t_;
  for (int i = size_ - 1; i >= 0; --i) {
    const Bucket& b = ring_[(head_ + i) % kBuckets];
    if (b.t_mean < since) break;
    floor = std::min<double>(floor, b.min);
  }
  return floor;
}

bool ContainerModel::RecentDrop(double t, double drop) const {
  const double since = t - config_->restart_floor_seconds - origin_t_;
  if (open_count_ > 0 && open_max_ - open_min_ >= drop) return true;
  double next_min = open_count_ > 0 ? open_min_ : kInfinity;
  for (int i = size_ - 1; i >= 0; --i) {
    const Bucket& b = ring_[(head_ + i) % kBuckets];
    if (b.t_mean < since) break;
    if (b.max - b.min >= drop || b.max - next_min >= drop) return true;
    next_min = b.min;
  }
  return false;
}

void ContainerModel::FlushOpenBucket() {
  if (open_count_ == 0) return;
  Bucket b;
  b.t_mean = static_cast<float>(open_sum_t_ / open_count_);
  b.mean = static_cast<float>(open_sum_v_ / open_count_);
  b.max = static_cast<float>(open_max_);
  b.min = static_cast<float>(open_min_);
  const uint8_t count = static_cast<uint8_t>(std::min<uint32_t>(open_count_, 255));
  if (size_ < kBuckets) {
    ring_[(head_ + size_) % kBuckets] = b;
    counts_[(head_ + size_) % kBuckets] = count;
    ++size_;
  } else {
    ring_[head_] = b;
    counts_[head_] = count;
    head_ = static_cast<uint16_t>((head_ + 1) % kBuckets);
  }
  open_count_ = 0;
  open_sum_t_ = 0;
  open_sum_v_ = 0;
  open_max_ = 0;
}

void ContainerModel::Observe(double t, double bytes, double limit_bytes) {
  if (!std::isfinite(t) || !std::isfinite(bytes) || bytes < 0) {
    ++rejected_;
    return;
  }
  if (last_t_ != 0 && t <= last_t_) {
    ++rejected_;
    return;
  }
  if (last_t_ == 0) {
    origin_t_ = t;
    segment_start_t_ = t;
  } else {
    // Restart detection: a big drop to below the recent floor (the kernel's kill, then the
    // restart at baseline). A garbage collection returns to the floor, not below it.
    // An unseen kill: a scrape rarely sees the limit itself; memory within the near-limit
    // margin, then a big drop that the last restart_floor_seconds have not seen before (a
    // garbage-collected heap drops like that every cycle) is the kill and a fresh instance; the
    // instance must have run that long for its history to tell.
    // The fresh instance comes back at its own load, which may be high (a drop of less than
    // restart_drop_fraction): from within the margin, a fall of unseen_kill_drop_fraction x
    // the limit is enough.
    const bool big_drop = bytes < (1 - config_->restart_drop_fraction) * last_bytes_;
    const bool was_near_limit =
        std::isfinite(last_limit_) && config_->near_limit_margin_fraction > 0 &&
        last_bytes_ >= (1 - config_->near_limit_margin_fraction) * last_limit_;
    const bool fell_from_limit =
        was_near_limit &&
        (big_drop || last_bytes_ - bytes >= config_->unseen_kill_drop_fraction * last_limit_);
    if (killed_ || (big_drop && bytes < config_->restart_floor_fraction * RecentFloor(t)) ||
        (fell_from_limit && last_t_ - segment_start_t_ >= config_->restart_floor_seconds &&
         !RecentDrop(t, 0.5 * (last_bytes_ - bytes)))) {
      Restart(t);
    }
  }
  if (std::isfinite(limit_bytes) && limit_bytes > 0) last_limit_ = limit_bytes;
  killed_ = std::isfinite(last_limit_) && bytes >= config_->kill_fraction * last_limit_;
  if (killed_) {
    prev_kill_t_ = last_kill_t_;
    last_kill_t_ = t;
  }
  // Keep relative times small enough for float precision (rebase every ~11 days).
  if (t - origin_t_ > 1e6) {
    const double shift = std::floor((t - origin_t_ - config_->window_seconds * 2) /
                                    std::max(1.0, config_->bucket_seconds)) *
                         std::max(1.0, config_->bucket_seconds);
    if (shift > 0) {
      origin_t_ += shift;
      for (int i = 0; i < size_; ++i)
        ring_[(head_ + i) % kBuckets].t_mean -= static_cast<float>(shift);
      open_sum_t_ -= shift * open_count_;
      open_index_ -= shift / std::max(1.0, config_->bucket_seconds);
    }
  }
  const double width = std::max(1.0, config_->bucket_seconds);
  const double index = std::floor((t - origin_t_) / width);
  if (index != open_index_) {
    FlushOpenBucket();
    open_index_ = index;
  }
  // Typical rise between consecutive samples (EWMA of positive increments): the true peak
  // between two scrapes is higher than the sampled one by up to about this much.
  // The start-up ramp of an instance (restart_ramp_seconds) is not such a rise.
  if (last_t_ != 0 && !killed_ && bytes > last_bytes_ && size_ + open_count_ > 0 &&
      t >= segment_start_t_ + config_->restart_ramp_seconds) {
    rise_ewma_ += static_cast<float>(0.05 * ((bytes - last_bytes_) - rise_ewma_));
  }
  open_sum_t_ += t - origin_t_;
  open_sum_v_ += bytes;
  open_max_ = open_count_ == 0 ? bytes : std::max(open_max_, bytes);
  open_min_ = open_count_ == 0 ? bytes : std::min(open_min_, bytes);
  ++open_count_;
  last_t_ = t;
  last_bytes_ = bytes;
}

// The fit and forecast of one set of points (x in kiloseconds relative to the forecast time).
// Fills level, rate, acceleration, envelope, peak, eta and risk of `out`: the trend is chosen
// (steps 1-6), then extrapolated with its envelope (steps 7-9); see the steps above.
void ContainerModel::FitAndForecast(const Point* pts, int n, double limit_bytes,
                                    double horizon_seconds, ModelOutput* out) const {
  const double span = n > 0 ? (pts[n - 1].x - pts[0].x) * kTimeScale : 0;
  if (n < 3 || span < 30) return;
  const ModelConfig& cfg = *config_;
  double rw[kBuckets + 1];
  Fit quad;
  bool quadratic = false;
  ChosenTrend t;
  if (!FitWholeWindow(cfg, pts, n, span, rw, &quad, &quadratic, &t.line)) return;
  t.fit = t.line;
  ChooseRegime(cfg, pts, n, span, rw, quad, quadratic, &t);
  FollowNewestQuarter(cfg, pts, n, span, rw, &t);
  DiscountStepsAndReleases(cfg, pts, n, rw, &t);
  DetectOnset(cfg, pts, n, rw, &t);
  ExponentialRise(cfg, pts, n, &t);
  out->level_bytes = t.fit.beta[0];
  out->growth_rate_bytes_per_second = t.fit.beta[1] / kTimeScale;
  out->acceleration_bytes_per_second2 = 2 * t.fit.beta[2] / (kTimeScale * kTimeScale);
  double beta[3];
  ShrinkSlope(cfg, t.fit, beta);
  double envelope = 0;
  if (!PeakEnvelope(cfg, pts, n, t, rise_ewma_, &envelope)) return;
  out->envelope_bytes = envelope;
  ForecastPeak(cfg, pts, t, beta, envelope, limit_bytes, horizon_seconds, out);
}

double ContainerModel::NearLimitRisk(const Point* pts, int n, double limit_bytes) const {
  if (!(config_->near_limit_margin_fraction > 0) || n < 3) return 0;
  const double margin = config_->near_limit_margin_fraction * limit_bytes;
  // The highest recent peak (bucket maxima of the last near_limit_window_seconds before now:
  // data that old say nothing of now), and the newest bucket still near the limit (a drop
  // from near the limit may be a restart the drop rule did not see).
  const double peak_from = -config_->near_limit_window_seconds / kTimeScale;
  double peak = 0;
  for (int i = n - 1; i >= 0 && pts[i].x >= peak_from; --i) peak = std::max(peak, pts[i].peak);
  const double headroom = limit_bytes - peak;
  if (!(headroom < margin) || pts[n - 1].y < limit_bytes - 2 * margin) return 0;
  // Not clearly falling: the slope of the newest near_limit_trend_seconds is not below zero by
  // more than two standard errors (too few points: not falling either).
  int k = n - 1;
  const double trend_from = pts[n - 1].x - config_->near_limit_trend_seconds / kTimeScale;
  while (k > 0 && pts[k - 1].x >= trend_from) --k;
  if (n - k >= 3) {
    double rw[kBuckets + 1];
    for (int i = k; i < n; ++i) rw[i] = 1.0;
    Fit line;
    if (RobustFit(pts + k, n - k, 2, &line, rw + k, 0)) {
      const double se = std::sqrt(line.s2 * line.inv[4]);
      if (line.beta[1] < -2.0 * se) return 0;
    }
  }
  return std::clamp(1.0 - headroom / margin, 0.0, 1.0);
}

int ContainerModel::GatherPoints(double now, Point* pts) const {
  int n = 0;
  const double window_start = now - config_->window_seconds;
  const double ramp = config_->restart_ramp_seconds;
  for (int i = 0; i < size_; ++i) {
    const Bucket& b = ring_[(head_ + i) % kBuckets];
    const double t = origin_t_ + b.t_mean;
    if (t < window_start) continue;
    // The first restart_ramp_seconds of an instance are its start-up (loading, reconnecting,
    // the load coming back), not its trend; dropped once there is as much data after them.
    if (t < segment_start_t_ + ramp && last_t_ >= segment_start_t_ + 2 * ramp) continue;
    const double count = counts_[(head_ + i) % kBuckets];
    pts[n++] = {(t - now) / kTimeScale, b.mean, b.max, count, std::sqrt(count)};
  }
  if (open_count_ > 0) {
    pts[n++] = {(origin_t_ + open_sum_t_ / open_count_ - now) / kTimeScale,
                open_sum_v_ / open_count_, open_max_, static_cast<double>(open_count_),
                std::sqrt(static_cast<double>(open_count_))};
  }
  return n;
}

ModelOutput ContainerModel::Predict(double now, double limit_bytes) const {
  ModelOutput out;
  out.eta_seconds = kInfinity;
  out.peak_at_horizon_bytes = kNotANumber;
  if (last_t_ == 0) return out;
  if (now < last_t_) now = last_t_;
  out.level_bytes = last_bytes_;
  out.warming_up = last_t_ - segment_start_t_ < config_->min_fit_seconds;
  if (killed_) {
    // The newest sample is the kill itself: the forecast restarts with the next instance.
    out.warming_up = true;
    alarm_raised_ = false;
    return out;
  }
  const bool has_limit = std::isfinite(limit_bytes) && limit_bytes > 0;
  // The risk is computed over the horizon plus the alarm's own latency (the evaluation cycle
  // and the persistence check), so that an alarm is up a full horizon before the kill.
  const double margin = std::max(0.0, config_->alarm_latency_seconds);
  Point pts[kBuckets + 1];
  const int n = GatherPoints(now, pts);
  FitAndForecast(pts, n, limit_bytes, config_->horizon_seconds + margin, &out);
  if (!has_limit) {
    out.eta_seconds = kInfinity;
    out.risk = 0;
    return out;
  }
  // Persistence: the forecast made persistence_seconds ago (from the data then) must agree;
  // the risk reported is the lower of the two.
  if (out.risk >= config_->alarm_risk_threshold && config_->persistence_seconds > 0) {
    const double lag = config_->persistence_seconds / kTimeScale;
    int m = 0;
    while (m < n && pts[m].x <= -lag) ++m;
    for (int i = 0; i < m; ++i) pts[i].x += lag;
    ModelOutput earlier;
    // Same target time: the earlier forecast looks persistence_seconds further ahead.
    FitAndForecast(pts, m, limit_bytes,
                   config_->horizon_seconds + margin + config_->persistence_seconds, &earlier);
    out.risk = std::min(out.risk, earlier.risk);
    for (int i = 0; i < m; ++i) pts[i].x -= lag;  // Back to now's time base (below).
  }
  // Near the limit the kill is one allocation away, whatever the long fit says.
  // Not while warming up: a young instance's peaks are its start-up (a crash loop back at the
  // limit is the warm-up rule's, below).
  if (!out.warming_up) out.risk = std::max(out.risk, NearLimitRisk(pts, n, limit_bytes));
  if (out.warming_up && last_bytes_ < config_->warmup_alarm_fraction * limit_bytes) {
    // Early after a start/restart only a crash loop straight back near the limit is trusted.
    out.risk = 0;
  }
  // Hysteresis: a raised alarm stays raised while the risk stays above the release level.
  const bool raised = alarm_raised_ && now - alarm_checked_t_ <= config_->alarm_hold_seconds;
  // Held near the limit (ModelConfig::alarm_hold_headroom_fraction): the climb that raised it
  // has not shown it is over (no fall, no restart: those reset the alarm).
  const bool hold =
      raised && !out.warming_up && config_->alarm_hold_headroom_fraction > 0 &&
      limit_bytes - last_bytes_ < config_->alarm_hold_headroom_fraction * limit_bytes &&
      last_bytes_ >= alarm_bytes_ - config_->near_limit_margin_fraction * limit_bytes &&
      now - alarm_risk_t_ <= config_->alarm_hold_pause_seconds;
  out.oom_predicted = out.risk >= config_->alarm_risk_threshold ||
                      (raised && (out.risk >= config_->alarm_release_risk || hold));
  if (out.oom_predicted && !raised) alarm_bytes_ = static_cast<float>(last_bytes_);
  if (out.risk >= config_->alarm_risk_threshold) alarm_risk_t_ = now;
  alarm_raised_ = out.oom_predicted;
  alarm_checked_t_ = now;
  return out;
}

double ContainerModel::last_sample_t() const { return last_t_; }
double ContainerModel::last_sample_bytes() const { return last_bytes_; }
size_t ContainerModel::restarts() const { return restarts_; }
size_t ContainerModel::rejected_samples() const { return rejected_; }
size_t ContainerModel::MemoryBytes() const { return sizeof(*this); }

}  // namespace oomcast::predictor
