// A Clock for tests: time moves only when the test says so; SleepFor advances it.
#pragma once

#include <atomic>

#include "oomcast/clock.h"

namespace oomcast::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(double now_unix_s = 1767225600) : now_(now_unix_s) {}
  double NowUnixSeconds() const override { return now_.load(); }
  void SleepFor(double seconds) override {
    slept_ = slept_.load() + seconds;
    Advance(seconds);
  }
  void Advance(double seconds) { now_ = now_.load() + seconds; }
  void Set(double now_unix_s) { now_ = now_unix_s; }
  double total_slept() const { return slept_.load(); }

 private:
  std::atomic<double> now_;
  std::atomic<double> slept_{0};
};

}  // namespace oomcast::testing
