// TEST ONLY: a ForecastSource read from a JSON file (--fake-forecasts), for integration tests
// and benchmarks of the serving path without a TSDB. Never use it in production.
//
// {"ageSeconds": 5,            // last successful cycle this long before the file was read;
//                              // null: never succeeded (no data yet)
//  "staleAfterSeconds": 300,
//  "forecasts": [{"namespace": "ns", "pod": "p", "container": "c", "labels": {"app": "x"},
//                 "growthRate": 1.5, "acceleration": 0, "etaSeconds": 600 or null (+Inf),
//                 "risk": 0.25}]}
// The file is re-read when it changes (checked at most once per second).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "oomcast/clock.h"
#include "oomcast/predictor/forecast.h"
#include "oomcast/status.h"

namespace oomcast::metrics_adapter {

class FileForecastSource final : public predictor::ForecastSource {
 public:
  // Reads `path` once; errors name the file. `clock` must outlive the source.
  static StatusOr<std::unique_ptr<FileForecastSource>> Open(const std::string& path,
                                                            const Clock* clock);
  predictor::ForecastSnapshot Snapshot() const override;

 private:
  FileForecastSource(std::string path, const Clock* clock)
      : path_(std::move(path)), clock_(clock) {}
  Status Load() const;

  std::string path_;
  const Clock* clock_;
  mutable std::mutex mu_;
  mutable predictor::ForecastSnapshot snapshot_;
  mutable std::string stamp_;
  mutable double next_check_ = 0;
};

}  // namespace oomcast::metrics_adapter
