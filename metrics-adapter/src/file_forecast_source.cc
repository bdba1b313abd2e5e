#include "oomcast/metrics_adapter/file_forecast_source.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "oomcast/file_stamp.h"
#include "oomcast/log.h"

namespace oomcast::metrics_adapter {
StatusOr<std::unique_ptr<FileForecastSource>> FileForecastSource::Open(const std::string& path,
                                                                       const Clock* clock) {
  std::unique_ptr<FileForecastSource> s(new FileForecastSource(path, clock));
  OOMCAST_RETURN_IF_ERROR(s->Load());
  return s;
}

Status FileForecastSource::Load() const {
  std::ifstream in(path_);
  if (!in) return InvalidArgumentError("fake forecasts " + path_ + ": cannot open");
  std::string stamp = FileStamp(path_);
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    predictor::ForecastSnapshot snap;
    const double now = clock_->NowUnixSeconds();
    snap.last_attempt_unix_s = now;
    if (j.contains("ageSeconds") && !j["ageSeconds"].is_null()) {
      snap.last_success_unix_s = now - j["ageSeconds"].get<double>();
    } else {
      snap.last_error = UnavailableError("fake: no successful cycle");
    }
    snap.stale_after_seconds = j.value("staleAfterSeconds", 300.0);
    auto list = std::make_shared<std::vector<predictor::Forecast>>();
    for (const auto& f : j.value("forecasts", nlohmann::json::array())) {
      predictor::Forecast fc;
      fc.key = {f.at("namespace").get<std::string>(), f.at("pod").get<std::string>(),
                f.at("container").get<std::string>()};
      if (f.contains("labels")) {
        fc.pod_labels = std::make_shared<const std::map<std::string, std::string>>(
            f["labels"].get<std::map<std::string, std::string>>());
      }
      fc.t = snap.last_success_unix_s;
      fc.last_sample_t = fc.t;
      fc.growth_rate_bytes_per_second = f.value("growthRate", 0.0);
      fc.acceleration_bytes_per_second2 = f.value("acceleration", 0.0);
      fc.eta_seconds = f.contains("etaSeconds") && !f["etaSeconds"].is_null()
                           ? f["etaSeconds"].get<double>()
                           : predictor::kInf;
      fc.risk = f.value("risk", 0.0);
      list->push_back(std::move(fc));
    }
    snap.forecasts = list;
    snapshot_ = std::move(snap);
    stamp_ = stamp;
  } catch (const std::exception& e) {
    return InvalidArgumentError("fake forecasts " + path_ + ": " + e.what());
  }
  return Status::Ok();
}

predictor::ForecastSnapshot FileForecastSource::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  const double now = clock_->NowUnixSeconds();
  if (now >= next_check_) {
    next_check_ = now + 1;
    if (FileStamp(path_) != stamp_) {
      Status st = Load();
      if (!st.ok()) LogWarn("reloading fake forecasts failed", {{"err", st.ToString()}});
    }
  }
  return snapshot_;
}

}  // namespace oomcast::metrics_adapter
