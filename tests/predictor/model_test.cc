#include "oomcast/predictor/model.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace oomcast::predictor {
namespace {

TEST_CASE("linear growth gives exact rate and ETA", "[model]") {
  ModelConfig config;
  ContainerModel model(&config);
  const double t0 = 1767225600, limit = 1e9;
  for (int i = 0; i <= 240; ++i) model.Observe(t0 + 15 * i, 2e8 + 1e5 * 15 * i, limit);
  const double now = t0 + 15 * 240;
  ModelOutput out = model.Forecast(now, limit);
  CHECK(out.growth_rate_bytes_per_second == Approx(1e5).epsilon(1e-3));
  CHECK(out.acceleration_bytes_per_second2 == Approx(0).margin(1e-3));
  CHECK_FALSE(out.warming_up);
  const double level = 2e8 + 1e5 * 15 * 240;
  CHECK(out.envelope_bytes < 1e5 * 15);
  CHECK(out.eta_seconds == Approx((limit - level - out.envelope_bytes) / 1e5).epsilon(1e-3));
}

}  // namespace
}  // namespace oomcast::predictor
