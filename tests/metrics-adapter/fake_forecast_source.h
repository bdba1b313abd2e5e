// A ForecastSource for tests: the test sets the snapshot.
#pragma once

#include <mutex>
#include <vector>

#include "oomcast/predictor/forecast.h"

namespace oomcast::testing {

class FakeForecastSource final : public predictor::ForecastSource {
 public:
  FakeForecastSource() { snap_.forecasts = std::make_shared<std::vector<predictor::Forecast>>(); }
  predictor::ForecastSnapshot Snapshot() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return snap_;
  }
  // Publishes `forecasts` as a successful cycle at `now`.
  void Publish(std::vector<predictor::Forecast> forecasts, double now,
               double stale_after_seconds = 120) {
    std::lock_guard<std::mutex> lock(mu_);
    snap_.forecasts = std::make_shared<std::vector<predictor::Forecast>>(std::move(forecasts));
    snap_.last_success_unix_s = now;
    snap_.last_attempt_unix_s = now;
    snap_.stale_after_seconds = stale_after_seconds;
    snap_.last_error = Status();
  }
  void Fail(Status error, double now) {
    std::lock_guard<std::mutex> lock(mu_);
    snap_.last_attempt_unix_s = now;
    snap_.last_error = std::move(error);
  }

 private:
  mutable std::mutex mu_;
  predictor::ForecastSnapshot snap_;
};

inline predictor::Forecast MakeForecast(std::string ns, std::string pod, std::string container,
                                        std::map<std::string, std::string> labels, double t,
                                        double rate, double eta, double risk) {
  predictor::Forecast f;
  f.key = {std::move(ns), std::move(pod), std::move(container)};
  f.pod_labels = std::make_shared<const std::map<std::string, std::string>>(std::move(labels));
  f.t = t;
  f.growth_rate_bytes_per_second = rate;
  f.acceleration_bytes_per_second2 = rate / 100;
  f.eta_seconds = eta;
  f.risk = risk;
  return f;
}

}  // namespace oomcast::testing
