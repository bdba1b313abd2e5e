// Injected time. Domain code (forecasts, staleness, cooldowns, stabilization windows) takes a
// Clock so that tests are exact and never sleep; only main() names SystemClock.
#pragma once

#include <chrono>

namespace oomcast {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time as Unix seconds (fractional). Thread-safe.
  virtual double NowUnixSeconds() const = 0;
  // Blocks the calling thread for `seconds` (>= 0). A fake clock advances instead of sleeping.
  virtual void SleepFor(double seconds) = 0;
};

// The real clock: std::chrono::system_clock and std::this_thread::sleep_for. Thread-safe.
class SystemClock final : public Clock {
 public:
  double NowUnixSeconds() const override;
  void SleepFor(double seconds) override;
};

}  // namespace oomcast
