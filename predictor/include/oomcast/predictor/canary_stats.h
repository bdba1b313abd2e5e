// Statistics of the canary memory comparison (DESIGN.md "Canary drift"): per-pod summaries of
// memory (level, spread), two-sample tests on those summaries, and the alpha spent at each look
// of a sequential watch. Pure functions, no I/O, no clock. Why these tests: docs/canary.md.
//
// Memory samples of one pod are autocorrelated (a GC sawtooth, a trend), so no test here takes
// raw samples of several pods as independent observations: every test compares one number per
// pod (its summary) between the two groups.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace oomcast::predictor::canary {

// ---- Distributions ----

// Regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]. Absolute error
// below 1e-12 over the range the tests use (continued fraction, Lentz's method).
double RegularizedIncompleteBeta(double a, double b, double x);

// P(T >= t) for Student's t with `df` > 0 degrees of freedom (exact, via the incomplete beta).
double StudentTUpperTail(double t, double df);

// ---- Per-pod summaries ----

// Median of `values` (NaN when empty). Takes a copy: the input is not reordered.
double Median(std::vector<double> values);

// Quantile `q` in [0, 1] of `values`, linear interpolation between order statistics (numpy's
// default method, "linear"); NaN when empty or q outside [0, 1]. Takes a copy.
double Quantile(std::vector<double> values, double q);

// Robust amplitude of the fluctuation of one pod's memory around its own trend (bytes): the
// mean absolute deviation of the detrended samples from their median (the per-pod unit of a
// Brown-Forsythe test). `t` in seconds, `bytes` in bytes, same length; the least-squares line
// over the samples is the trend removed, so a steady leak does not look like a wider sawtooth.
// NaN for fewer than 3 samples.
double DetrendedAbsoluteDeviation(const std::vector<double>& t, const std::vector<double>& bytes);

// Least-squares slope of `bytes` over `t` (bytes per second); NaN for fewer than 2 samples or
// all at one time.
double LeastSquaresSlope(const std::vector<double>& t, const std::vector<double>& bytes);

// Tukey's resistant line slope (bytes per second): the difference of the medians of the last
// and the first third of the samples (by time) over the difference of their median times. A
// GC sawtooth moves a least-squares slope over a short span by where its phase happens to be
// at the ends; the thirds' medians each cover several cycles. `t` sorted ascending; NaN for
// fewer than 3 samples.
double ResistantSlope(const std::vector<double>& t, const std::vector<double>& bytes);

// The shortest span (seconds) over which one pod's resistant-line slope is precise to
// `max_slope_noise` bytes per second, measured on the pods' own samples: for each candidate
// span L (from 3 x min_samples x the median scrape interval, growing by 1/4, to `max_span`),
// every pod's history is cut into adjacent spans of length L ending at its newest sample, and
// the slope noise is sqrt(mean of (slope_j - slope_j+1)^2 / 2) over all pods (differences of
// adjacent slopes: a steady trend of the pod cancels). The sawtooth, the scrape noise and the
// scrape interval all enter through the samples. Needs at least 3 such differences over the
// pods for a span to be judged; returns NaN when no candidate span up to max_span meets the
// bound. `pods`: per pod, (time s ascending, bytes).
double MinGrowthSpan(const std::vector<std::vector<std::pair<double, double>>>& pods,
                     double max_slope_noise, double max_span, int min_samples);

// ---- Two-sample tests of "the canary is larger" (one-sided) on per-pod summaries ----

struct TestResult {
  double statistic = 0;  // t, or U of the canary group.
  double df = 0;         // Degrees of freedom (t-test only).
  double p_value = 1;    // One-sided: P(statistic >= observed | both groups alike).
  bool valid = false;    // False when the groups are too small or degenerate (p_value = 1).
};

// Student's two-sample t-test with pooled variance, H1: mean(canary) > mean(baseline). Exact
// under the null (both groups draw from one normal distribution), and defined for a single
// canary pod (a prediction-interval test against the baseline's spread). Needs
// n_baseline + n_canary >= 3 with both non-empty; when the pooled variance is zero (all pods
// identical within each group) the p-value is 0 if the canary mean is larger, else 1.
TestResult PooledTTestGreater(const std::vector<double>& baseline,
                              const std::vector<double>& canary);

// Mann-Whitney U test, H1: canary stochastically larger. U is the canary's U statistic
// (pairs canary > baseline, ties counting 1/2). The p-value is exact, conditional on the ties:
// the permutation distribution of the canary's rank sum over all C(n, n_canary) assignments of
// the observed midranks (what scipy.stats.permutation_test computes exactly). Invalid for n > 100
// pods.
TestResult MannWhitneyGreater(const std::vector<double>& baseline,
                              const std::vector<double>& canary);

// C(n, k) as a double (exact up to 2^53); 0 for k > n.
double Binomial(size_t n, size_t k);

// ---- Repeated looks ----

// The share of `alpha` that test number `look` (1-based) of one aspect may spend so that the
// chance of a false failure over all its tests, however many, stays below `alpha` (Bonferroni
// over an unbounded schedule): alpha x first_share at the first, alpha x (1 - first_share) /
// ((look - 1) look) at each later one, which sums to alpha. first_share = 1/2 is close to
// alpha / (look (look + 1)). 0 for look 0 or first_share outside (0, 1).
double AlphaAtLook(double alpha, size_t look, double first_share);

}  // namespace oomcast::predictor::canary
