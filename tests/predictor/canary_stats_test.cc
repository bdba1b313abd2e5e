// Reference values computed with scipy 1.10.1 (Debian python3-scipy); each constant names the
// call that made it.
#include "oomcast/predictor/canary_stats.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace oomcast::predictor::canary;

TEST_CASE("incomplete beta matches scipy.special.betainc") {
  // scipy.special.betainc(2.5, 0.5, 0.3)
  CHECK(RegularizedIncompleteBeta(2.5, 0.5, 0.3) == Approx(0.01892712407194565).epsilon(1e-10));
  // scipy.special.betainc(0.5, 3.0, 0.9)
  CHECK(RegularizedIncompleteBeta(0.5, 3.0, 0.9) == Approx(0.9996750253207289).epsilon(1e-10));
  CHECK(RegularizedIncompleteBeta(1, 1, 0) == 0);
  CHECK(RegularizedIncompleteBeta(1, 1, 1) == 1);
}

TEST_CASE("Student t upper tail matches scipy.stats.t.sf") {
  // scipy.stats.t.sf(2.5, 4)
  CHECK(StudentTUpperTail(2.5, 4) == Approx(0.03338327240599406).epsilon(1e-10));
  // scipy.stats.t.sf(-1.3, 7)
  CHECK(StudentTUpperTail(-1.3, 7) == Approx(0.8826160823038114).epsilon(1e-10));
  // scipy.stats.t.sf(10.0, 2)
  CHECK(StudentTUpperTail(10.0, 2) == Approx(0.004926228511662846).epsilon(1e-10));
  // scipy.stats.t.sf(0.7, 1.5)
  CHECK(StudentTUpperTail(0.7, 1.5) == Approx(0.2882191204413434).epsilon(1e-10));
  CHECK(StudentTUpperTail(0, 3) == Approx(0.5));
}

TEST_CASE("pooled t-test matches scipy.stats.ttest_ind(equal_var=True, alternative='greater')") {
  // scipy.stats.ttest_ind([3, 5, 6], [1, 2, 3.5, 4], equal_var=True, alternative='greater')
  TestResult r = PooledTTestGreater({1.0, 2.0, 3.5, 4.0}, {3.0, 5.0, 6.0});
  REQUIRE(r.valid);
  CHECK(r.statistic == Approx(1.8576071235199638).epsilon(1e-10));
  CHECK(r.df == 5);
  CHECK(r.p_value == Approx(0.06117323662957391).epsilon(1e-10));
}

TEST_CASE("pooled t-test with one canary pod is a prediction-interval test") {
  // b = [10, 11, 12.5]; t = (14 - mean(b)) / (std(b, ddof=1) * sqrt(1 + 1/3)); df = 2
  // t -> 1.9500337378997752, scipy.stats.t.sf(t, 2) -> 0.0952380952380952
  TestResult r = PooledTTestGreater({10.0, 11.0, 12.5}, {14.0});
  REQUIRE(r.valid);
  CHECK(r.statistic == Approx(1.9500337378997752).epsilon(1e-10));
  CHECK(r.p_value == Approx(0.0952380952380952).epsilon(1e-10));
}

TEST_CASE("pooled t-test: too few pods and zero variance") {
  CHECK_FALSE(PooledTTestGreater({1.0}, {2.0}).valid);
  CHECK_FALSE(PooledTTestGreater({}, {2.0, 3.0}).valid);
  TestResult same = PooledTTestGreater({5.0, 5.0}, {5.0});
  CHECK(same.valid);
  CHECK(same.p_value == 1);
  TestResult above = PooledTTestGreater({5.0, 5.0}, {6.0, 6.0});
  CHECK(above.p_value == 0);
}

TEST_CASE("Mann-Whitney exact p without ties matches scipy") {
  // scipy.stats.mannwhitneyu([4.1, 5.2, 6.3, 7.0], [1.0, 2.0, 3.0, 4.5, 5.0],
  //                          alternative='greater', method='exact')
  TestResult r = MannWhitneyGreater({1.0, 2.0, 3.0, 4.5, 5.0}, {4.1, 5.2, 6.3, 7.0});
  REQUIRE(r.valid);
  CHECK(r.statistic == 18);
  CHECK(r.p_value == Approx(0.031746031746031744).epsilon(1e-12));
}

TEST_CASE("Mann-Whitney exact p with ties matches scipy's exact permutation test") {
  // U = lambda x, y, axis: scipy.stats.mannwhitneyu(x, y, alternative='greater',
  //                                                  method='asymptotic', axis=axis).statistic
  // scipy.stats.permutation_test(([2, 4, 4, 5], [1, 2, 2, 3, 4, 4]), U,
  //     permutation_type='independent', alternative='greater', n_resamples=np.inf,
  //     vectorized=True) -> statistic 18.0, pvalue 0.1380952380952381
  TestResult r = MannWhitneyGreater({1, 2, 2, 3, 4, 4}, {2, 4, 4, 5});
  REQUIRE(r.valid);
  CHECK(r.statistic == 18);
  CHECK(r.p_value == Approx(0.1380952380952381).epsilon(1e-12));
}

TEST_CASE("Mann-Whitney smallest p is 1 / C(n, n_canary)") {
  TestResult r = MannWhitneyGreater({1, 2, 3}, {4, 5, 6});
  CHECK(r.p_value == Approx(1.0 / 20));
  TestResult all_tied = MannWhitneyGreater({1, 1}, {1});
  CHECK(all_tied.p_value == Approx(1.0));
}

TEST_CASE("median and detrended absolute deviation") {
  CHECK(Median({3, 1, 2}) == 2);
  CHECK(Median({4, 1, 3, 2}) == 2.5);
  CHECK(std::isnan(Median({})));
  // A straight line has no fluctuation around its trend.
  std::vector<double> t, line, saw, saw_on_line;
  for (int i = 0; i < 40; ++i) {
    t.push_back(i * 15.0);
    line.push_back(1e8 + 5e4 * i * 15.0);
    const double s = (i % 4) * 1e6;  // Sawtooth 0, 1, 2, 3 MB.
    saw.push_back(1e8 + s);
    saw_on_line.push_back(line.back() + s);
  }
  CHECK(DetrendedAbsoluteDeviation(t, line) == Approx(0).margin(1e-3));
  const double a = DetrendedAbsoluteDeviation(t, saw);
  CHECK(a == Approx(1e6).epsilon(0.05));  // Mean |s - median| of 0,1,2,3 MB is 1 MB.
  CHECK(DetrendedAbsoluteDeviation(t, saw_on_line) == Approx(a).epsilon(0.05));
  CHECK(std::isnan(DetrendedAbsoluteDeviation({1, 2}, {1, 2})));
}

TEST_CASE("alpha spending sums to alpha over an unbounded look schedule") {
  for (double first : {0.5, 0.75}) {
    double sum = 0;
    for (size_t k = 1; k <= 100000; ++k) sum += AlphaAtLook(0.05, k, first);
    CHECK(sum < 0.05);
    CHECK(sum == Approx(0.05).epsilon(1e-4));
    CHECK(AlphaAtLook(0.05, 1, first) == Approx(0.05 * first));
    CHECK(AlphaAtLook(0.05, 0, first) == 0);
  }
  CHECK(AlphaAtLook(0.05, 2, 0.75) == Approx(0.05 * 0.25 / 2));
  CHECK(AlphaAtLook(0.05, 3, 0.75) == Approx(0.05 * 0.25 / 6));
  CHECK(AlphaAtLook(0.05, 1, 1.0) == 0);  // No share left for later tests: refused.
}

TEST_CASE("quantiles interpolate like numpy's default") {
  // numpy.quantile([1, 2, 3, 4, 10], q) for q = 0.1, 0.5, 0.9: 1.4, 3.0, 7.6.
  CHECK(Quantile({10, 1, 3, 2, 4}, 0.1) == Approx(1.4));
  CHECK(Quantile({10, 1, 3, 2, 4}, 0.5) == Approx(3.0));
  CHECK(Quantile({10, 1, 3, 2, 4}, 0.9) == Approx(7.6));
  CHECK(Quantile({5}, 0.9) == 5);
  CHECK(Quantile({4, 1}, 1.0) == 4);
  CHECK(std::isnan(Quantile({}, 0.5)));
  CHECK(std::isnan(Quantile({1, 2}, 1.5)));
}

TEST_CASE("slopes: least squares and the resistant line") {
  std::vector<double> t, y, saw;
  for (int i = 0; i < 90; ++i) {
    t.push_back(i * 10.0);
    y.push_back(1000 + 3.0 * i * 10.0);
    saw.push_back(y.back() + ((i % 6) == 0 ? 500 : 0));  // Spikes do not move the medians.
  }
  CHECK(LeastSquaresSlope(t, y) == Approx(3.0));
  CHECK(ResistantSlope(t, y) == Approx(3.0));
  CHECK(ResistantSlope(t, saw) == Approx(3.0).epsilon(0.02));
  CHECK(std::isnan(LeastSquaresSlope({1}, {1})));
  CHECK(std::isnan(ResistantSlope({1, 2}, {1, 2})));
}

TEST_CASE("binomial coefficients (math.comb)") {
  CHECK(Binomial(6, 2) == 15);
  CHECK(Binomial(9, 3) == 84);
  CHECK(Binomial(40, 20) == 137846528820.0);
  CHECK(Binomial(3, 5) == 0);
}

TEST_CASE("minimum growth span: the shortest span whose slope scatter meets the bound") {
  // A steady trend with no noise: every span's slopes agree, the first candidate
  // (3 x min_samples x 15 s = 450 s) is enough, whatever the trend.
  std::vector<std::pair<double, double>> steady, saw;
  for (int i = 0; i < 480; ++i) {
    const double t = 15.0 * i;
    steady.emplace_back(t, 1e9 + 5e4 * t);
    // A 100 MB sawtooth with a 70 s period: short spans' slopes depend on the phase at the ends.
    const double cycle = t / 70.0;
    saw.emplace_back(t, 1e9 + 1e8 * (cycle - std::floor(cycle)));
  }
  CHECK(MinGrowthSpan({steady, steady}, 1.0, 3600, 10) == Approx(450));
  const double loose = MinGrowthSpan({saw, saw}, 30e3, 3600, 10);
  const double tight = MinGrowthSpan({saw, saw}, 3e3, 3600, 10);
  REQUIRE(std::isfinite(loose));
  CHECK(loose >= 450);
  // A tighter bound needs a longer span (or none is long enough).
  CHECK((std::isnan(tight) || tight > loose));
  // Too little history for three slope differences: not measurable.
  CHECK(std::isnan(
      MinGrowthSpan({std::vector<std::pair<double, double>>(steady.begin(), steady.begin() + 40)},
                    1.0, 3600, 10)));
  CHECK(std::isnan(MinGrowthSpan({}, 1.0, 3600, 10)));
  // With history shorter than two spans of the measured answer (the predictor just started),
  // the scatter over a span is extrapolated from half of it: about the same span comes out.
  REQUIRE(std::isfinite(tight));
  const size_t n_short = static_cast<size_t>(1.5 * tight / 15);
  const std::vector<std::pair<double, double>> short_saw(saw.end() - n_short, saw.end());
  const double extrapolated = MinGrowthSpan({short_saw, short_saw}, 3e3, 3600, 10);
  INFO("measured " << tight << " s with 2 h of history, " << extrapolated << " s with "
                   << n_short * 15 << " s");
  REQUIRE(std::isfinite(extrapolated));
  CHECK(extrapolated >= 0.75 * tight);
  CHECK(extrapolated <= 1.6 * tight);
}
