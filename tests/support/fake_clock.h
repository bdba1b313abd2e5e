// A Clock for tests: time moves only when the test says so. Advance() and SleepFor() move the
// wall time and the monotonic time together; Set() moves the wall time only (as when NTP or an
// operator sets the system clock), so code that measures durations on the wall clock is caught.
// Thread-safe.
#pragma once

#include <atomic>

#include "oomcast/clock.h"

namespace oomcast::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(double now_unix_s = 1767225600) : now_(now_unix_s) {}
  double NowUnixSeconds() const override { return now_.load(); }
  // Starts at 1000 s, apart from the wall time.
  double MonotonicSeconds() const override { return monotonic_.load(); }
  void SleepFor(double seconds) override {
    slept_ = slept_.load() + seconds;
    Advance(seconds);
  }
  // Moves both times forward by `seconds` (>= 0).
  void Advance(double seconds) {
    now_ = now_.load() + seconds;
    monotonic_ = monotonic_.load() + seconds;
  }
  // Sets the wall time only; the monotonic time does not jump.
  void Set(double now_unix_s) { now_ = now_unix_s; }
  double total_slept() const { return slept_.load(); }

 private:
  std::atomic<double> now_;
  std::atomic<double> monotonic_{1000};
  std::atomic<double> slept_{0};
};

}  // namespace oomcast::testing
