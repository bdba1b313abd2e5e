// The clock interface: SystemClock's monotonic time never goes back and moves with real time;
// the FakeClock moves both times on Advance and only the wall time on Set.
#include "oomcast/clock.h"

#include <catch2/catch.hpp>

#include "support/fake_clock.h"

namespace oomcast {
namespace {

TEST_CASE("SystemClock: monotonic time never goes back and follows a sleep") {
  SystemClock clock;
  double before = clock.MonotonicSeconds();
  clock.SleepFor(0.01);
  double after = clock.MonotonicSeconds();
  CHECK(after >= before + 0.01);
  CHECK(clock.NowUnixSeconds() > 1.7e9);  // After 2023: wall time is Unix seconds.
}

TEST_CASE("FakeClock: Advance moves both times, Set only the wall time") {
  testing::FakeClock clock(1767225600);
  const double mono0 = clock.MonotonicSeconds();
  clock.Advance(15);
  CHECK(clock.NowUnixSeconds() == 1767225615);
  CHECK(clock.MonotonicSeconds() == mono0 + 15);
  clock.Set(1767225000);  // The wall clock is set back.
  CHECK(clock.NowUnixSeconds() == 1767225000);
  CHECK(clock.MonotonicSeconds() == mono0 + 15);
  clock.SleepFor(5);
  CHECK(clock.MonotonicSeconds() == mono0 + 20);
  CHECK(clock.total_slept() == 5);
}

}  // namespace
}  // namespace oomcast
