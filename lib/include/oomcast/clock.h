// Injected time. Domain code (forecasts, staleness, cooldowns, stabilization windows) takes a
// Clock so that tests are exact and never sleep; only main() names SystemClock. Time is two
// things: wall time for data (timestamps, what the API stores) and monotonic time for durations
// and timeouts (never jumps when the wall clock is set). Code that measures or waits takes both
// from its Clock. Exceptions today: the HTTP client's socket deadlines (real I/O on Asio
// timers) and the metrics adapter's request timing read std::chrono::steady_clock.
#pragma once

#include <chrono>

namespace oomcast {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time as Unix seconds (fractional). Thread-safe.
  virtual double NowUnixSeconds() const = 0;
  // Monotonic time in seconds since an unspecified origin (fractional): only differences mean
  // something; never goes back. For durations, timeouts and sync periods. Thread-safe.
  // The default returns NowUnixSeconds(), which suits clocks whose wall time only moves
  // forward (fixed or fake clocks); SystemClock overrides it with std::chrono::steady_clock.
  virtual double MonotonicSeconds() const { return NowUnixSeconds(); }
  // Blocks the calling thread for `seconds` (>= 0). A fake clock advances instead of sleeping.
  virtual void SleepFor(double seconds) = 0;
};

// The real clock: std::chrono::system_clock, std::chrono::steady_clock and
// std::this_thread::sleep_for. Thread-safe.
class SystemClock final : public Clock {
 public:
  double NowUnixSeconds() const override;
  double MonotonicSeconds() const override;
  void SleepFor(double seconds) override;
};

}  // namespace oomcast
