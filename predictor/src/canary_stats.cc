#include "oomcast/predictor/canary_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace oomcast::predictor::canary {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Continued fraction of the incomplete beta (modified Lentz), valid for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-15;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEps) break;
  }
  return h;
}

}  // namespace

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
}

double StudentTUpperTail(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return t > 0 ? 0 : 1;
  // P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2).
  const double two_sided = RegularizedIncompleteBeta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? two_sided / 2 : 1 - two_sided / 2;
}

double Median(std::vector<double> values) {
  if (values.empty()) return kNaN;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double hi = values[mid];
  if (values.size() % 2 == 1) return hi;
  const double lo = *std::max_element(values.begin(), values.begin() + mid);
  return (lo + hi) / 2;
}

namespace {

// The least-squares line through (t, bytes): the means and the slope (NaN for fewer than 2
// samples or all at one time).
struct LineFit {
  double t_mean = kNaN;
  double bytes_mean = kNaN;
  double slope = kNaN;
};

LineFit FitLine(const std::vector<double>& t, const std::vector<double>& bytes) {
  LineFit fit;
  const size_t n = std::min(t.size(), bytes.size());
  if (n == 0) return fit;
  double tm = 0, ym = 0;
  for (size_t i = 0; i < n; ++i) {
    tm += t[i];
    ym += bytes[i];
  }
  fit.t_mean = tm / n;
  fit.bytes_mean = ym / n;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (t[i] - fit.t_mean) * (t[i] - fit.t_mean);
    sxy += (t[i] - fit.t_mean) * (bytes[i] - fit.bytes_mean);
  }
  if (n >= 2 && sxx > 0) fit.slope = sxy / sxx;
  return fit;
}

}  // namespace

double Quantile(std::vector<double> values, double q) {
  if (values.empty() || !(q >= 0 && q <= 1)) return kNaN;
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  std::nth_element(values.begin(), values.begin() + lo, values.end());
  const double v_lo = values[lo];
  if (lo + 1 >= values.size()) return v_lo;
  const double v_hi = *std::min_element(values.begin() + lo + 1, values.end());
  return v_lo + (v_hi - v_lo) * (pos - static_cast<double>(lo));
}

double DetrendedAbsoluteDeviation(const std::vector<double>& t, const std::vector<double>& bytes) {
  const size_t n = std::min(t.size(), bytes.size());
  if (n < 3) return kNaN;
  const LineFit fit = FitLine(t, bytes);
  const double slope = std::isnan(fit.slope) ? 0 : fit.slope;
  std::vector<double> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = bytes[i] - fit.bytes_mean - slope * (t[i] - fit.t_mean);
  const double med = Median(r);
  double sum = 0;
  for (double v : r) sum += std::fabs(v - med);
  return sum / n;
}

double LeastSquaresSlope(const std::vector<double>& t, const std::vector<double>& bytes) {
  return FitLine(t, bytes).slope;
}

double ResistantSlope(const std::vector<double>& t, const std::vector<double>& bytes) {
  const size_t n = std::min(t.size(), bytes.size());
  if (n < 3) return kNaN;
  const size_t third = n / 3;
  std::vector<double> t0(t.begin(), t.begin() + third), y0(bytes.begin(), bytes.begin() + third);
  std::vector<double> t1(t.begin() + (n - third), t.begin() + n);
  std::vector<double> y1(bytes.begin() + (n - third), bytes.begin() + n);
  const double dt = Median(t1) - Median(t0);
  return dt > 0 ? (Median(y1) - Median(y0)) / dt : kNaN;
}

double MinGrowthSpan(const std::vector<std::vector<std::pair<double, double>>>& pods,
                     double max_slope_noise, double max_span, int min_samples) {
  std::vector<double> gaps;
  for (const auto& p : pods) {
    for (size_t i = 1; i < p.size(); ++i) gaps.push_back(p[i].first - p[i - 1].first);
  }
  const double step = Median(gaps);
  if (!(step > 0) || !(max_span > 0)) return kNaN;
  // The slope scatter over spans of length l, and how many slope differences it rests on.
  auto scatter = [&](double l, int* diffs) {
    double sum_sq = 0;
    *diffs = 0;
    std::vector<double> t, y;
    for (const auto& p : pods) {
      if (p.empty()) continue;
      double prev = kNaN;
      for (double end = p.back().first; end - l >= p.front().first - 1e-6; end -= l) {
        t.clear();
        y.clear();
        for (const auto& [ts, b] : p) {
          if (ts > end - l && ts <= end) {
            t.push_back(ts);
            y.push_back(b);
          }
        }
        if (static_cast<int>(t.size()) < min_samples) break;
        const double slope = ResistantSlope(t, y);
        if (std::isfinite(prev) && std::isfinite(slope)) {
          sum_sq += (slope - prev) * (slope - prev);
          ++*diffs;
        }
        prev = slope;
      }
    }
    return *diffs > 0 ? std::sqrt(sum_sq / *diffs / 2) : kNaN;
  };
  constexpr int kMinDiffs = 3;
  for (double span = 3.0 * std::max(min_samples, 1) * step;; span *= 1.25) {
    const double l = std::min(span, max_span);
    int diffs = 0;
    double noise = scatter(l, &diffs);
    if (diffs < kMinDiffs) {
      // Too little history to measure over l (it takes about 2 l): extrapolated from l / 2 with
      // the decay measured between l / 4 and l / 2, taken as at most a halving per doubling
      // (a sawtooth's end effects decay like 1 / l; slower decay, as of a random walk, is
      // measured as such) and at least none.
      int half_diffs = 0, quarter_diffs = 0;
      const double half = scatter(l / 2, &half_diffs);
      const double quarter = scatter(l / 4, &quarter_diffs);
      noise = kNaN;
      if (half_diffs >= kMinDiffs && quarter_diffs >= kMinDiffs && quarter > 0) {
        noise = half * std::clamp(half / quarter, 0.5, 1.0);
      } else if (half_diffs >= kMinDiffs && half == 0) {
        noise = 0;
      }
    }
    if (std::isfinite(noise) && noise <= max_slope_noise) return l;
    if (l >= max_span) return kNaN;
  }
}

TestResult PooledTTestGreater(const std::vector<double>& baseline,
                              const std::vector<double>& canary) {
  TestResult out;
  const size_t nb = baseline.size(), nc = canary.size();
  if (nb == 0 || nc == 0 || nb + nc < 3) return out;
  double mb = 0, mc = 0;
  for (double v : baseline) mb += v;
  for (double v : canary) mc += v;
  mb /= nb;
  mc /= nc;
  double ss = 0;
  for (double v : baseline) ss += (v - mb) * (v - mb);
  for (double v : canary) ss += (v - mc) * (v - mc);
  out.df = static_cast<double>(nb + nc - 2);
  const double var = ss / out.df;
  const double se = std::sqrt(var * (1.0 / nb + 1.0 / nc));
  out.valid = true;
  if (!(se > 0)) {
    out.statistic = mc > mb ? std::numeric_limits<double>::infinity() : 0;
    out.p_value = mc > mb ? 0 : 1;
    return out;
  }
  out.statistic = (mc - mb) / se;
  out.p_value = StudentTUpperTail(out.statistic, out.df);
  return out;
}

TestResult MannWhitneyGreater(const std::vector<double>& baseline,
                              const std::vector<double>& canary) {
  TestResult out;
  const size_t nb = baseline.size(), nc = canary.size(), n = nb + nc;
  if (nb == 0 || nc == 0 || n > 100) return out;
  // Doubled midranks (integers) of the pooled sample.
  std::vector<std::pair<double, int>> all;  // (value, 0 baseline / 1 canary)
  for (double v : baseline) all.push_back({v, 0});
  for (double v : canary) all.push_back({v, 1});
  std::sort(all.begin(), all.end());
  std::vector<int> rank2(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && all[j + 1].first == all[i].first) ++j;
    // Ranks i+1..j+1 averaged, doubled: (i + 1 + j + 1).
    for (size_t k = i; k <= j; ++k) rank2[k] = static_cast<int>(i + j + 2);
    i = j + 1;
  }
  int observed = 0;
  for (size_t i = 0; i < n; ++i) observed += all[i].second == 1 ? rank2[i] : 0;
  // U = R - nc (nc + 1) / 2, with R = observed / 2.
  out.statistic = observed / 2.0 - nc * (nc + 1) / 2.0;
  // count[k][s]: number of k-subsets of the items seen so far with doubled rank sum s, as
  // probabilities (divided by C(n, nc) along the way through the binomial recursion).
  const int max_sum = 2 * static_cast<int>(n) * static_cast<int>(n) + 2;
  std::vector<std::vector<double>> count(nc + 1, std::vector<double>(max_sum + 1, 0.0));
  count[0][0] = 1;
  for (size_t i = 0; i < n; ++i) {
    const int r = rank2[i];
    for (size_t k = std::min(nc, i + 1); k >= 1; --k) {
      const std::vector<double>& from = count[k - 1];
      std::vector<double>& to = count[k];
      for (int s = max_sum - r; s >= 0; --s) {
        if (from[s] != 0) to[s + r] += from[s];
      }
    }
  }
  double total = 0, tail = 0;
  for (int s = 0; s <= max_sum; ++s) {
    total += count[nc][s];
    if (s >= observed) tail += count[nc][s];
  }
  out.p_value = total > 0 ? tail / total : 1;
  out.valid = true;
  return out;
}

double Binomial(size_t n, size_t k) {
  if (k > n) return 0;
  k = std::min(k, n - k);
  double c = 1;
  for (size_t i = 1; i <= k; ++i) c = c * static_cast<double>(n - k + i) / static_cast<double>(i);
  return std::round(c);
}

double AlphaAtLook(double alpha, size_t look, double first_share) {
  if (look == 0 || !(first_share > 0 && first_share < 1)) return 0;
  if (look == 1) return alpha * first_share;
  const double k = static_cast<double>(look);
  return alpha * (1 - first_share) / ((k - 1) * k);
}

}  // namespace oomcast::predictor::canary
