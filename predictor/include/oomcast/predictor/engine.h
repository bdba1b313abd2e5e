// The predictor engine: pulls memory and limit series from a Prometheus-compatible TSDB,
// keeps one ContainerModel per container incrementally, and publishes forecasts.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "oomcast/clock.h"
#include "oomcast/predictor/forecast.h"
#include "oomcast/predictor/model.h"
#include "oomcast/prometheus_client.h"
#include "oomcast/status.h"

namespace oomcast::predictor {

class PodLabelSource;  // pod_metadata.h

struct QueryConfig {
  // PromQL selectors. Results must carry namespace, pod and container labels. The memory series
  // is by default what the kernel's OOM killer counts: the cgroup's usage less reclaimable page
  // cache (cAdvisor's working set: anonymous memory, tmpfs / shared memory, kernel memory and
  // page cache that cannot be reclaimed). RSS (container_memory_rss) misses tmpfs and /dev/shm.
  std::string memory_query =
      R"(container_memory_working_set_bytes{container!="",container!="POD"})";
  std::string limit_query = R"(container_spec_memory_limit_bytes{container!="",container!="POD"})";
  // kube-state-metrics' pod labels (label_<name> labels); empty disables pod labels.
  std::string pod_labels_query = "kube_pod_labels";
  std::vector<std::string> namespaces;  // Empty: all namespaces.
};

struct EngineConfig {
  QueryConfig queries;
  ModelConfig model;
  double window_seconds = 3600;       // History backfilled at start (one query_range).
  double step_seconds = 15;           // Resolution of query_range; should match scrape interval.
  double interval_seconds = 15;       // Time between cycles in Run().
  double stale_after_seconds = 120;   // A forecast older than this is stale (never "safe").
  double drop_after_seconds = 3600;   // Containers without samples this long are forgotten.
  double lookback_delay_seconds = 0;  // Ignore the newest seconds (remote-write/ingest lag).
  double pod_labels_interval_seconds = 60;  // Pod labels change rarely: refreshed this often.
  // A container whose model is still warming up (too little data since it started or
  // restarted) has no trustworthy forecast: it is left out of the snapshot's forecasts (unknown,
  // never "safe"; kept in ForecastSnapshot::withheld_warming_up for consumers of samples) unless
  // the model already alarms (a crash loop back at the limit). `once` sets this to show such
  // containers, marked.
  bool publish_warming_up = false;
};

// The labels the engine and the backtest read from query responses: the container identity
// (namespace, pod, container) and kube-state-metrics' pod labels (label_*). A client decoding
// only these (PrometheusBackendConfig::keep_labels) skips the other ~10 labels of each cAdvisor
// series instead of building and freeing them every cycle.
LabelAllowlist PredictorLabels();

// `selector` restricted to `namespaces` (a namespace=~"a|b" matcher added, names regex-escaped);
// unchanged when `namespaces` is empty. Every query the engine issues goes through this.
std::string ScopeToNamespaces(const std::string& selector,
                              const std::vector<std::string>& namespaces);

// Counters of the engine's work, for /metrics. Monotonic except series_tracked.
struct EngineStats {
  uint64_t cycles = 0;
  uint64_t cycle_errors = 0;
  uint64_t samples_ingested = 0;
  uint64_t samples_rejected = 0;  // NaN, Inf, negative, out of order.
  uint64_t series_tracked = 0;
  uint64_t series_dropped = 0;
  uint64_t restarts_detected = 0;
  double last_cycle_seconds = 0;
  std::map<std::string, uint64_t> query_errors;  // By status code name.
};

// Thread-safe: RunCycle() is called by one thread; Snapshot() and stats() from any.
class Engine final : public ForecastSource {
 public:
  // `client` and `clock` must outlive the engine.
  Engine(EngineConfig config, PrometheusClient* client, Clock* clock);
  ~Engine() override;

  // One cycle. The first backfills window_seconds with query_range; later cycles fetch only
  // samples newer than the newest seen. On error the previous forecasts are kept, the error is
  // recorded in the snapshot, and they turn stale after stale_after_seconds.
  Status RunCycle();

  ForecastSnapshot Snapshot() const override;
  EngineStats stats() const;
  const EngineConfig& config() const { return config_; }
  // Name of the TSDB backend, for metric labels and logs.
  const std::string& backend_name() const { return backend_name_; }
  void set_backend_name(std::string name) { backend_name_ = std::move(name); }
  // Pod labels from `source` (e.g. the Kubernetes API) instead of queries.pod_labels_query.
  // Set before the first cycle; `source` must outlive the engine.
  void set_pod_label_source(const PodLabelSource* source) { pod_label_source_ = source; }

  // Runs cycles every interval_seconds until `stop` becomes true. `on_cycle`, when set, is
  // called after each cycle with its duration in seconds and its result (e.g. for a histogram).
  using CycleObserver = std::function<void(double seconds, const Status& result)>;
  void Run(const std::atomic<bool>& stop, const CycleObserver& on_cycle = nullptr);

 private:
  struct Tracked;
  // Each returns the first error; the caller records it and keeps previous forecasts.
  Status Backfill(double now);
  Status BackfillRange(double start, double end, int depth);
  // Feeds the samples of `series` newer than each model's newest; updates the counters.
  void IngestSeries(const std::vector<SeriesData>& series);
  Status Incremental(double now);
  Status FetchLimits(double now);
  Status FetchPodLabels(double now);
  void Publish(double now);
  std::string Scoped(const std::string& selector) const;

  EngineConfig config_;
  PrometheusClient* client_;
  Clock* clock_;
  // Cycle thread only. Ordered: responses come sorted by labels, so successive lookups walk
  // nearby nodes (measured faster than a hash map at 100 000 containers).
  std::map<ContainerKey, std::unique_ptr<Tracked>, std::less<>> tracked_;
  uint64_t limits_fetch_ = 0;  // Number of the current limits fetch (Tracked::limit_fetch).
  double last_fetch_end_ = 0;  // Query time of the previous successful fetch.
  bool backfilled_ = false;
  double pod_labels_fetched_ = 0;  // Query time of the last successful pod labels fetch.
  std::string backend_name_ = "prometheus";
  const PodLabelSource* pod_label_source_ = nullptr;

  mutable std::mutex mu_;  // Guards snapshot_ and stats_.
  ForecastSnapshot snapshot_;
  EngineStats stats_;
};

}  // namespace oomcast::predictor
