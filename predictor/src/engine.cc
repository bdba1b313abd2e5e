#include "oomcast/predictor/engine.h"

#include <algorithm>
#include <cmath>

#include "oomcast/log.h"
#include "oomcast/predictor/pod_metadata.h"
#include "oomcast/units.h"

namespace oomcast::predictor {
namespace {

// cAdvisor reports 0 for "no limit" and some runtimes a huge sentinel (~2^63).
double NormalizeLimit(double v) {
  if (!std::isfinite(v) || v <= 0 || v >= 9.0e18) return kNaN;
  return v;
}

// The identity labels of `labels`, borrowed (valid while `labels` is).
bool KeyOf(const Labels& labels, ContainerKeyView* key) {
  auto ns = labels.find("namespace");
  auto pod = labels.find("pod");
  auto c = labels.find("container");
  if (ns == labels.end() || pod == labels.end() || c == labels.end()) return false;
  if (ns->second.empty() || pod->second.empty() || c->second.empty()) return false;
  *key = ContainerKeyView{ns->second, pod->second, c->second};
  return true;
}

// Inserts `extra` matchers into the first {...} of a selector, or appends a {...}.
std::string AddMatchers(const std::string& selector, const std::string& extra) {
  if (extra.empty()) return selector;
  size_t open = selector.find('{');
  if (open == std::string::npos) return selector + "{" + extra + "}";
  size_t close = selector.find('}', open);
  if (close == std::string::npos) return selector;  // Malformed; the TSDB will say so.
  std::string inner = selector.substr(open + 1, close - open - 1);
  bool empty_inner = inner.find_first_not_of(" \t") == std::string::npos;
  return selector.substr(0, close) + (empty_inner ? "" : ",") + extra + selector.substr(close);
}

std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".+*?()[]{}|^$\\").find(c) != std::string_view::npos) out += "\\\\";
    out += c;
  }
  return out;
}

}  // namespace

LabelAllowlist PredictorLabels() {
  return LabelAllowlist({"namespace", "pod", "container", "label_*"});
}

struct Engine::Tracked {
  explicit Tracked(const ModelConfig* mc) : model(mc) {}
  ContainerModel model;
  double limit_bytes = kNaN;
  double last_seen_unix_s = 0;  // Wall time of the newest sample (for dropping).
  uint64_t limit_fetch = 0;     // The limits fetch that last set limit_bytes.
  std::shared_ptr<const std::map<std::string, std::string>> pod_labels;  // Null: none known.
  bool labels_known = false;  // A pod labels fetch has run since this container appeared.
};

Engine::Engine(EngineConfig config, PrometheusClient* client, Clock* clock)
    : config_(std::move(config)), client_(client), clock_(clock) {
  snapshot_.forecasts = std::make_shared<std::vector<Forecast>>();
  snapshot_.horizon_seconds = config_.model.horizon_seconds;
  snapshot_.stale_after_seconds = config_.stale_after_seconds;
}

std::string ScopeToNamespaces(const std::string& selector,
                              const std::vector<std::string>& namespaces) {
  if (namespaces.empty()) return selector;
  std::string alt;
  for (const auto& ns : namespaces) {
    if (!alt.empty()) alt += "|";
    alt += RegexEscape(ns);
  }
  return AddMatchers(selector, "namespace=~\"" + alt + "\"");
}

std::string Engine::Scoped(const std::string& selector) const {
  return ScopeToNamespaces(selector, config_.queries.namespaces);
}

Status Engine::RunCycle() {
  double start = clock_->NowUnixSeconds();
  double now = start - config_.lookback_delay_seconds;
  Status st = backfilled_ ? Incremental(now) : Backfill(now);
  if (st.ok()) st = FetchLimits(now);
  if (st.ok() && pod_label_source_ == nullptr) {
    // Pod labels are optional (kube-state-metrics may be absent): errors are logged, not fatal.
    Status labels = FetchPodLabels(now);
    if (!labels.ok()) {
      LogWarn("pod labels query failed; forecasts keep their previous labels",
              {{"err", labels.ToString()}});
    }
  }
  double end = clock_->NowUnixSeconds();
  if (st.ok()) Publish(end);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.cycles++;
  stats_.last_cycle_seconds = end - start;
  snapshot_.last_attempt_unix_s = end;
  if (!st.ok()) {
    stats_.cycle_errors++;
    stats_.query_errors[std::string(StatusCodeName(st.code()))]++;
    snapshot_.last_error = st;
    LogWarn("forecast cycle failed; keeping previous forecasts (they turn stale)",
            {{"err", st.ToString()}});
    return st;
  }
  snapshot_.last_error = Status::Ok();
  snapshot_.last_success_unix_s = end;
  return Status::Ok();
}

Status Engine::Backfill(double now) {
  OOMCAST_RETURN_IF_ERROR(BackfillRange(now - config_.window_seconds, now, 0));
  backfilled_ = true;
  last_fetch_end_ = now;
  return Status::Ok();
}

Status Engine::BackfillRange(double start, double end, int depth) {
  auto result =
      client_->QueryRange(Scoped(config_.queries.memory_query), start, end, config_.step_seconds);
  if (!result.ok()) {
    // Too large for the response cap (many containers x a long window): split the range in two
    // and load the halves in time order, down to ~8 steps per query.
    if (result.status().code() == StatusCode::kResourceExhausted &&
        end - start > 8 * config_.step_seconds && depth < 12) {
      double mid =
          start + std::floor((end - start) / 2 / config_.step_seconds) * config_.step_seconds;
      LogInfo("backfill response over the size cap; splitting the range",
              {{"start", FormatRfc3339(start)}, {"end", FormatRfc3339(end)}});
      OOMCAST_RETURN_IF_ERROR(BackfillRange(start, mid, depth + 1));
      return BackfillRange(mid + config_.step_seconds, end, depth + 1);
    }
    return result.status().WithContext("backfill");
  }
  IngestSeries(result->series);
  return Status::Ok();
}

Status Engine::Incremental(double now) {
  // Raw samples newer than the previous fetch, with an overlap of two steps for samples that
  // arrived late; duplicates are dropped by the model (it ignores samples not newer than its
  // newest). Never more than the model window.
  double range = now - last_fetch_end_ + 2 * config_.step_seconds;
  range = std::clamp(range, config_.step_seconds, config_.window_seconds);
  std::string q = Scoped(config_.queries.memory_query) + "[" +
                  std::to_string(static_cast<long long>(std::ceil(range))) + "s]";
  auto result = client_->Query(q, now);
  if (!result.ok()) return result.status().WithContext("incremental ingest");
  IngestSeries(result->series);
  last_fetch_end_ = now;
  return Status::Ok();
}

void Engine::IngestSeries(const std::vector<SeriesData>& all) {
  uint64_t ingested = 0, rejected = 0;
  // Several series can map to one container (duplicate cAdvisor targets), and fetches overlap:
  // only samples newer than the model's newest are fed (and counted), so each instant is
  // ingested once, from the first series that has it.
  for (const auto& series : all) {
    ContainerKeyView key;
    if (!KeyOf(series.labels, &key)) continue;
    auto it = tracked_.find(key);
    if (it == tracked_.end()) {
      it = tracked_.emplace(key.ToKey(), std::make_unique<Tracked>(&config_.model)).first;
    }
    auto& slot = it->second;
    size_t before = slot->model.rejected_samples();
    for (size_t i = 0; i < series.values.size(); ++i) {
      if (series.timestamps_s[i] <= slot->model.last_sample_t()) continue;
      slot->model.Observe(series.timestamps_s[i], series.values[i], slot->limit_bytes);
      ++ingested;
    }
    rejected += slot->model.rejected_samples() - before;
    if (!series.timestamps_s.empty()) {
      slot->last_seen_unix_s = std::max(slot->last_seen_unix_s, series.timestamps_s.back());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.samples_ingested += ingested;
  stats_.samples_rejected += rejected;
}

Status Engine::FetchLimits(double now) {
  // One series per container (3 labels, duplicates of cAdvisor targets merged) keeps the
  // response small: max, because a real limit is never below the reported one.
  auto result = client_->Query(
      "max by (namespace, pod, container) (" + Scoped(config_.queries.limit_query) + ")", now);
  if (!result.ok()) return result.status().WithContext("limits");
  const uint64_t fetch = ++limits_fetch_;
  for (const auto& series : result->series) {
    ContainerKeyView key;
    if (!KeyOf(series.labels, &key) || series.values.empty()) continue;
    auto it = tracked_.find(key);
    if (it == tracked_.end()) continue;
    Tracked& tr = *it->second;
    double limit = NormalizeLimit(series.values.back());
    // Several series (e.g. duplicates) for one container: keep the smallest real limit.
    if (tr.limit_fetch != fetch || std::isnan(tr.limit_bytes)) {
      tr.limit_bytes = limit;
    } else if (!std::isnan(limit)) {
      tr.limit_bytes = std::min(tr.limit_bytes, limit);
    }
    tr.limit_fetch = fetch;
  }
  for (auto& [key, tracked] : tracked_) {
    if (tracked->limit_fetch != fetch) tracked->limit_bytes = kNaN;  // No limit series: no ETA.
  }
  return Status::Ok();
}

Status Engine::FetchPodLabels(double now) {
  if (config_.queries.pod_labels_query.empty()) return Status::Ok();
  bool new_containers = false;
  for (const auto& [key, tracked] : tracked_) {
    if (!tracked->labels_known) {
      new_containers = true;
      break;
    }
  }
  if (!new_containers && now - pod_labels_fetched_ < config_.pod_labels_interval_seconds) {
    return Status::Ok();
  }
  auto result = client_->Query(Scoped(config_.queries.pod_labels_query), now);
  if (!result.ok()) return result.status().WithContext("pod labels");
  // The response's series by (namespace, pod), borrowed, not copied: at 100 000 pods, building
  // a map of maps each minute cost more than the rest of the cycle.
  struct PodSeries {
    std::string_view ns, pod;
    const Labels* labels;
  };
  auto by_pod = [](const PodSeries& a, const PodSeries& b) {
    return std::tie(a.ns, a.pod) < std::tie(b.ns, b.pod);
  };
  std::vector<PodSeries> pods;
  pods.reserve(result->series.size());
  for (const auto& series : result->series) {
    auto ns = series.labels.find("namespace");
    auto pod = series.labels.find("pod");
    if (ns == series.labels.end() || pod == series.labels.end()) continue;
    pods.push_back({ns->second, pod->second, &series.labels});
  }
  std::stable_sort(pods.begin(), pods.end(), by_pod);  // Usually sorted already.
  // A pod's labels are shared by its containers; a container keeps its map while it is unchanged.
  const PodSeries* built_for = nullptr;
  std::shared_ptr<const std::map<std::string, std::string>> built;
  for (auto& [key, tracked] : tracked_) {
    tracked->labels_known = true;
    auto [lo, hi] = std::equal_range(pods.begin(), pods.end(),
                                     PodSeries{key.namespace_name, key.pod, nullptr}, by_pod);
    if (lo == hi) continue;  // Not in this response: keep what is known.
    if (built_for != &*lo) {
      std::map<std::string, std::string> labels;
      // Several series of one pod (kube-state-metrics replicas) are merged.
      for (auto s = lo; s != hi; ++s) {
        for (const auto& [k, v] : *s->labels) {
          // kube-state-metrics exports pod label `app` as `label_app` (names sanitized).
          if (k.rfind("label_", 0) == 0 && k.size() > 6) labels[k.substr(6)] = v;
        }
      }
      built_for = &*lo;
      built = tracked->pod_labels && *tracked->pod_labels == labels
                  ? tracked->pod_labels
                  : std::make_shared<const std::map<std::string, std::string>>(std::move(labels));
    }
    tracked->pod_labels = built;
  }
  pod_labels_fetched_ = now;
  return Status::Ok();
}

void Engine::Publish(double now) {
  auto out = std::make_shared<std::vector<Forecast>>();
  auto warming = std::make_shared<std::vector<Forecast>>();  // Withheld: ForecastSnapshot.
  out->reserve(tracked_.size());
  uint64_t dropped = 0, restarts = 0;
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    Tracked& tr = *it->second;
    if (now - tr.last_seen_unix_s > config_.drop_after_seconds) {
      it = tracked_.erase(it);
      ++dropped;
      continue;
    }
    restarts += tr.model.restarts();
    // A container whose samples stopped is not forecast as current (never "safe").
    if (now - tr.model.last_sample_t() <= config_.stale_after_seconds) {
      ModelOutput m = tr.model.Predict(std::max(now, tr.model.last_sample_t()), tr.limit_bytes);
      const bool withheld = m.warming_up && !m.oom_predicted && !config_.publish_warming_up;
      Forecast f;
      f.key = it->first;
      f.pod_labels = pod_label_source_ != nullptr
                         ? pod_label_source_->Labels(f.key.namespace_name, f.key.pod)
                         : tr.pod_labels;
      f.t = now;
      f.last_sample_t = tr.model.last_sample_t();
      f.rss_bytes = tr.model.last_sample_bytes();
      f.limit_bytes = tr.limit_bytes;
      f.growth_rate_bytes_per_second = m.growth_rate_bytes_per_second;
      f.acceleration_bytes_per_second2 = m.acceleration_bytes_per_second2;
      f.eta_seconds = m.eta_seconds;
      f.risk = m.risk;
      f.oom_predicted = m.oom_predicted;
      f.warming_up = m.warming_up;
      (withheld ? warming : out)->push_back(std::move(f));
    }
    ++it;
  }
  // By ETA, then key: `out` is in key order already (tracked_ is ordered), and most ETAs are
  // +Inf, so a stable sort on the ETA alone avoids comparing keys.
  std::stable_sort(out->begin(), out->end(), [](const Forecast& a, const Forecast& b) {
    return a.eta_seconds < b.eta_seconds;
  });
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_.forecasts = std::move(out);
  snapshot_.withheld_warming_up = std::move(warming);
  stats_.series_tracked = tracked_.size();
  stats_.series_dropped += dropped;
  stats_.restarts_detected = restarts;
}

Engine::~Engine() = default;

ForecastSnapshot Engine::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Engine::Run(const std::atomic<bool>& stop, const CycleObserver& on_cycle) {
  while (!stop.load()) {
    double started = clock_->NowUnixSeconds();
    Status st = RunCycle();
    if (on_cycle) on_cycle(clock_->NowUnixSeconds() - started, st);
    double next = started + config_.interval_seconds;
    // Sleep in short slices so a stop request is honoured within ~0.2 s.
    while (!stop.load()) {
      double left = next - clock_->NowUnixSeconds();
      if (left <= 0) break;
      clock_->SleepFor(std::min(left, 0.2));
    }
  }
}

}  // namespace oomcast::predictor
