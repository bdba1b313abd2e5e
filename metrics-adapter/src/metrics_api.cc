#include "oomcast/metrics_adapter/metrics_api.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <unordered_map>

#include "oomcast/label_selector.h"
#include "oomcast/log.h"
#include "oomcast/lookup_table.h"
#include "oomcast/metrics_adapter/api_objects.h"
#include "oomcast/units.h"

namespace oomcast::metrics_adapter {

using predictor::Forecast;
using predictor::ForecastSnapshot;

const std::vector<std::string>& ServedMetricNames() {
  static const std::vector<std::string> kNames = {
      std::string(kGrowthRateMetric), std::string(kAccelerationMetric), std::string(kEtaMetric),
      std::string(kRiskMetric)};
  return kNames;
}

int MetricIndex(std::string_view metric) {
  const auto& names = ServedMetricNames();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == metric) return static_cast<int>(i);
  }
  return -1;
}

ApiResponse StatusResponse(int code, std::string_view message) {
  return {code, StatusObjectJson(code, ReasonForCode(code), message)};
}

// ---------------------------------------------------------------------------------------------
// The per-snapshot index.

namespace {
struct MetricQuery;
class ValueListWriter;
}  // namespace

struct MetricsApi::Index {
  struct Entry {
    std::string pod;
    std::string container;
    // metricLabels sorted by key: pod labels, overridden by namespace/pod/container.
    std::vector<std::pair<std::string, std::string>> labels;
    std::string labels_json;
    std::string timestamp;  // RFC 3339 of the forecast's evaluation time.
    double t = 0;
    std::array<double, kMetricCount> values{};
    std::array<std::string, kMetricCount> quantities;  // Empty: no value for that metric.

    const std::string* Lookup(std::string_view key) const {
      auto it = std::lower_bound(labels.begin(), labels.end(), key,
                                 [](const auto& kv, std::string_view k) { return kv.first < k; });
      return it != labels.end() && it->first == key ? &it->second : nullptr;
    }
  };
  struct Namespace {
    std::vector<Entry> entries;                                       // Sorted by pod, container.
    std::unordered_map<std::string, std::vector<uint32_t>> postings;  // "key\0value" -> ids.

    // Ids of the entries with a value of metric `mi` whose labels `selector` matches (a label
    // also matches under its sanitized name), in id order.
    std::vector<uint32_t> Match(const LabelSelector& selector, int mi) const;
    // The smallest posting list of an equality/in requirement of `selector`, in id order;
    // nullopt when it has none (every entry is a candidate).
    std::optional<std::vector<uint32_t>> Candidates(const LabelSelector& selector) const;
    // Appends the one item of an aggregated read: the max, min, sum or average of metric `mi`
    // over the `matched` entries (of namespace `ns`, at least one), labelled with the
    // aggregation and the number of containers, and for max and min with the pod and container
    // it came from. kInternal when the value is not finite.
    Status AppendAggregate(const std::vector<uint32_t>& matched, int mi, std::string_view ns,
                           const MetricQuery& q, ValueListWriter* out) const;
  };
  const std::vector<Forecast>* source = nullptr;  // Identity of the snapshot indexed.
  std::shared_ptr<const std::vector<Forecast>> keep_alive;
  std::unordered_map<std::string, Namespace> namespaces;
};

namespace {

// kube-state-metrics' name for a pod label (`app.kubernetes.io/name` -> `app_kubernetes_io_name`):
// a selector on the real name also matches labels that came sanitized from kube_pod_labels.
std::string SanitizedLabelName(std::string_view key) {
  std::string out(key);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return out;
}

std::string PostingKey(std::string_view key, std::string_view value) {
  std::string k;
  k.reserve(key.size() + value.size() + 1);
  k.append(key);
  k.push_back('\0');
  k.append(value);
  return k;
}

std::string QuantityOrEmpty(double v) {
  if (!std::isfinite(v)) return "";
  auto q = FormatQuantity(v);
  return q.ok() ? *q : "";
}

enum class Aggregation { kNone, kMax, kMin, kSum, kAvg };

constexpr std::pair<std::string_view, Aggregation> kAggregations[] = {{"max", Aggregation::kMax},
                                                                      {"min", Aggregation::kMin},
                                                                      {"sum", Aggregation::kSum},
                                                                      {"avg", Aggregation::kAvg}};

// A request's label selector with the reserved aggregation requirement split off.
struct MetricQuery {
  std::optional<std::string> selector_text;  // labelSelector as given.
  LabelSelector selector;
  Aggregation aggregation = Aggregation::kNone;
  std::string aggregation_name;
};

// kInvalidArgument (answered 400) for a malformed query, selector or aggregation.
StatusOr<MetricQuery> ParseMetricQuery(std::string_view query) {
  MetricQuery q;
  auto selector_text = QueryParameter(query, "labelSelector");
  if (!selector_text.ok()) return selector_text.status();
  q.selector_text = *selector_text;
  auto parsed = LabelSelector::Parse(q.selector_text.value_or(""));
  if (!parsed.ok()) return parsed.status();
  std::vector<LabelRequirement> reqs;
  for (const LabelRequirement& r : parsed->requirements()) {
    if (r.key != kAggregateKey) {
      reqs.push_back(r);
      continue;
    }
    bool eq = r.op == LabelRequirement::Op::kEquals || r.op == LabelRequirement::Op::kIn;
    if (!eq || r.values.size() != 1 || q.aggregation != Aggregation::kNone) {
      return InvalidArgumentError("label selector: " + std::string(kAggregateKey) +
                                  " takes exactly one of max, min, sum, avg (e.g. \"" +
                                  std::string(kAggregateKey) + " in (max)\")");
    }
    q.aggregation_name = r.values[0];
    std::optional<Aggregation> agg = Lookup(kAggregations, q.aggregation_name);
    if (!agg) {
      return InvalidArgumentError("label selector: unknown aggregation \"" + q.aggregation_name +
                                  "\" for " + std::string(kAggregateKey) +
                                  "; use max, min, sum or avg");
    }
    q.aggregation = *agg;
  }
  auto selector = LabelSelector::FromRequirements(std::move(reqs));
  if (!selector.ok()) return selector.status();
  q.selector = std::move(selector).value();
  return q;
}

// The 503 answered when `snap` holds no fresh forecasts at `now`; nullopt when it does.
std::optional<ApiResponse> UnavailableResponse(const ForecastSnapshot& snap, double now) {
  std::string msg;
  if (snap.last_success_unix_s <= 0) {
    msg = "no forecasts yet: the first forecast cycle has not completed";
  } else if (snap.Stale(now)) {
    msg = "forecasts are stale: the last successful forecast cycle was " +
          std::to_string(static_cast<long long>(now - snap.last_success_unix_s)) + "s ago (limit " +
          std::to_string(static_cast<long long>(snap.stale_after_seconds)) + "s)";
  } else {
    return std::nullopt;
  }
  if (!snap.last_error.ok()) msg += "; last error: " + snap.last_error.ToString();
  return StatusResponse(503, msg);
}

// Writes an ExternalMetricValueList of one metric, item by item.
class ValueListWriter {
 public:
  ValueListWriter(std::string_view metric, double window_seconds, size_t items)
      : metric_(metric), window_(std::to_string(static_cast<long long>(window_seconds))) {
    body_.reserve(128 + items * 320);
    body_.append(
        R"({"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1",)"
        R"("metadata":{},"items":[)");
  }

  void Append(std::string_view labels_json, std::string_view timestamp, std::string_view value) {
    if (body_.back() != '[') body_.push_back(',');
    body_.append(R"({"metricName":")");
    body_.append(metric_);
    body_.append(R"(","metricLabels":)");
    body_.append(labels_json);
    body_.append(R"(,"timestamp":")");
    body_.append(timestamp);
    body_.append(R"(","window":)");
    body_.append(window_);
    body_.append(R"(,"value":")");
    body_.append(value);
    body_.append("\"}");
  }

  std::string Finish() && {
    body_.append("]}");
    return std::move(body_);
  }

 private:
  std::string_view metric_;
  std::string window_;
  std::string body_;
};

}  // namespace

MetricsApi::MetricsApi(const predictor::ForecastSource* source, const Clock* clock,
                       MetricsApiOptions options)
    : source_(source), clock_(clock), options_(options) {}

MetricsApi::~MetricsApi() = default;

std::shared_ptr<const MetricsApi::Index> MetricsApi::CurrentIndex(
    const ForecastSnapshot& snap) const {
  {
    std::lock_guard<std::mutex> lock(build_mu_);
    if (index_ && index_->source == snap.forecasts.get()) return index_;
  }
  auto index = std::make_shared<Index>();
  index->source = snap.forecasts.get();
  index->keep_alive = snap.forecasts;
  for (const Forecast& f : *snap.forecasts) {
    Index::Entry e;
    e.pod = f.key.pod;
    e.container = f.key.container;
    std::map<std::string, std::string> merged = f.PodLabels();
    merged["namespace"] = f.key.namespace_name;
    merged["pod"] = f.key.pod;
    merged["container"] = f.key.container;
    e.labels.assign(merged.begin(), merged.end());
    e.labels_json.push_back('{');
    for (const auto& [k, v] : e.labels) {
      if (e.labels_json.size() > 1) e.labels_json.push_back(',');
      AppendJsonString(k, &e.labels_json);
      e.labels_json.push_back(':');
      AppendJsonString(v, &e.labels_json);
    }
    e.labels_json.push_back('}');
    e.t = f.t;
    e.timestamp = FormatRfc3339(f.t);
    double eta = f.eta_seconds;
    if (std::isnan(eta) || eta > options_.eta_cap_seconds) eta = options_.eta_cap_seconds;
    if (eta < 0) eta = 0;
    e.values = {f.growth_rate_bytes_per_second, f.acceleration_bytes_per_second2, eta, f.risk};
    for (int m = 0; m < kMetricCount; ++m) e.quantities[m] = QuantityOrEmpty(e.values[m]);
    index->namespaces[f.key.namespace_name].entries.push_back(std::move(e));
  }
  for (auto& [ns, space] : index->namespaces) {
    std::sort(space.entries.begin(), space.entries.end(), [](const auto& a, const auto& b) {
      return std::tie(a.pod, a.container) < std::tie(b.pod, b.container);
    });
    for (uint32_t i = 0; i < space.entries.size(); ++i) {
      for (const auto& [k, v] : space.entries[i].labels)
        space.postings[PostingKey(k, v)].push_back(i);
    }
  }
  std::lock_guard<std::mutex> lock(build_mu_);
  if (!index_ || index_->source != index->source) index_ = index;
  return index_;
}

void MetricsApi::NoteNoMatch(std::string_view ns,
                             const std::optional<std::string>& selector) const {
  no_match_total_++;
  const std::string key = std::string(ns) + "?" + selector.value_or("");
  const double now = clock_->NowUnixSeconds();
  {
    std::lock_guard<std::mutex> lock(no_match_mu_);
    double& last = no_match_logged_[key];
    if (last > 0 && now - last < 600) return;  // Once per selector and 10 minutes.
    last = now;
    if (no_match_logged_.size() > 1000) no_match_logged_.clear();
  }
  LogWarn(
      "label selector matches no container while forecasts are fresh (check the pods' labels; "
      "with kube-state-metrics as the source, its --metric-labels-allowlist)",
      {{"namespace", std::string(ns)}, {"labelSelector", selector.value_or("")}});
}

bool MetricsApi::Ready() const { return source_->Snapshot().last_success_unix_s > 0; }

double MetricsApi::ForecastAgeSeconds() const {
  ForecastSnapshot snap = source_->Snapshot();
  if (snap.last_success_unix_s <= 0) return std::numeric_limits<double>::infinity();
  return std::max(0.0, clock_->NowUnixSeconds() - snap.last_success_unix_s);
}

std::optional<std::vector<uint32_t>> MetricsApi::Index::Namespace::Candidates(
    const LabelSelector& selector) const {
  const std::vector<uint32_t>* best = nullptr;
  std::vector<uint32_t> merged_best;
  bool have_candidates = false;
  for (const LabelRequirement& r : selector.requirements()) {
    if (r.op != LabelRequirement::Op::kEquals && r.op != LabelRequirement::Op::kIn) continue;
    static const std::vector<uint32_t> kEmpty;
    const std::string sanitized = SanitizedLabelName(r.key);
    auto find = [&](const std::string& v) {
      auto it = postings.find(PostingKey(r.key, v));
      if (it == postings.end() && sanitized != r.key) it = postings.find(PostingKey(sanitized, v));
      return it;
    };
    if (r.values.size() == 1) {
      auto it = find(r.values[0]);
      const std::vector<uint32_t>* list = it == postings.end() ? &kEmpty : &it->second;
      if (!have_candidates || list->size() < (best ? best->size() : merged_best.size())) {
        best = list;
        have_candidates = true;
      }
    } else {
      std::vector<uint32_t> u;
      for (const std::string& v : r.values) {
        auto it = find(v);
        if (it != postings.end()) u.insert(u.end(), it->second.begin(), it->second.end());
      }
      if (!have_candidates || u.size() < (best ? best->size() : merged_best.size())) {
        std::sort(u.begin(), u.end());
        merged_best = std::move(u);
        best = nullptr;
        have_candidates = true;
      }
    }
  }
  if (!have_candidates) return std::nullopt;
  return best ? *best : merged_best;
}

std::vector<uint32_t> MetricsApi::Index::Namespace::Match(const LabelSelector& selector,
                                                          int mi) const {
  std::vector<uint32_t> matched;
  auto consider = [&](uint32_t i) {
    const Entry& e = entries[i];
    if (e.quantities[mi].empty()) return;
    if (selector.MatchesLookup([&](std::string_view k) {
          const std::string* v = e.Lookup(k);
          return v != nullptr ? v : e.Lookup(SanitizedLabelName(k));
        })) {
      matched.push_back(i);
    }
  };
  if (std::optional<std::vector<uint32_t>> candidates = Candidates(selector)) {
    for (uint32_t i : *candidates) consider(i);
  } else {
    for (uint32_t i = 0; i < entries.size(); ++i) consider(i);
  }
  return matched;
}

ApiResponse MetricsApi::ListMetric(std::string_view ns, std::string_view metric,
                                   std::string_view query) const {
  const int mi = MetricIndex(metric);
  if (mi < 0) {
    return StatusResponse(404, "the server could not find the metric " + std::string(metric));
  }
  StatusOr<MetricQuery> q = ParseMetricQuery(query);
  if (!q.ok()) return StatusResponse(400, q.status().message());
  ForecastSnapshot snap = source_->Snapshot();
  if (auto unavailable = UnavailableResponse(snap, clock_->NowUnixSeconds())) return *unavailable;
  std::shared_ptr<const Index> index = CurrentIndex(snap);

  auto space = index->namespaces.find(std::string(ns));
  std::vector<uint32_t> matched;
  if (space != index->namespaces.end()) matched = space->second.Match(q->selector, mi);
  if (matched.empty() && !q->selector.requirements().empty()) NoteNoMatch(ns, q->selector_text);

  ValueListWriter out(metric, options_.window_seconds, matched.size());
  if (!matched.empty() && q->aggregation == Aggregation::kNone) {
    for (uint32_t i : matched) {
      const Index::Entry& e = space->second.entries[i];
      out.Append(e.labels_json, e.timestamp, e.quantities[mi]);
    }
  } else if (!matched.empty()) {
    Status st = space->second.AppendAggregate(matched, mi, ns, *q, &out);
    if (!st.ok()) return StatusResponse(500, st.message());
  }
  return {200, std::move(out).Finish()};
}

Status MetricsApi::Index::Namespace::AppendAggregate(const std::vector<uint32_t>& matched, int mi,
                                                     std::string_view ns, const MetricQuery& q,
                                                     ValueListWriter* out) const {
  const Aggregation agg = q.aggregation;
  double acc =
      agg == Aggregation::kSum || agg == Aggregation::kAvg ? 0 : entries[matched[0]].values[mi];
  uint32_t extreme = matched[0];
  double newest_t = 0;
  for (uint32_t i : matched) {
    double v = entries[i].values[mi];
    newest_t = std::max(newest_t, entries[i].t);
    if (agg == Aggregation::kMax && v > acc) acc = v, extreme = i;
    if (agg == Aggregation::kMin && v < acc) acc = v, extreme = i;
    if (agg == Aggregation::kSum || agg == Aggregation::kAvg) acc += v;
  }
  if (agg == Aggregation::kAvg) acc /= static_cast<double>(matched.size());
  const bool from_one = agg == Aggregation::kMax || agg == Aggregation::kMin;
  std::string labels = "{";
  if (from_one) {
    labels += R"("container":)";
    AppendJsonString(entries[extreme].container, &labels);
    labels += ',';
  }
  labels += R"("namespace":)";
  AppendJsonString(ns, &labels);
  labels += ',';
  AppendJsonString(kAggregateKey, &labels);
  labels += ':';
  AppendJsonString(q.aggregation_name, &labels);
  labels += R"(,"oomcast.io/containers":")" + std::to_string(matched.size()) + '"';
  if (from_one) {
    labels += R"(,"pod":)";
    AppendJsonString(entries[extreme].pod, &labels);
  }
  labels += '}';
  std::string value = QuantityOrEmpty(acc);
  if (value.empty()) return InternalError("aggregate value is not finite");
  out->Append(labels, FormatRfc3339(newest_t), value);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Discovery.

std::string ApiGroupListJson() {
  return R"({"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"external.metrics.k8s.io",)"
         R"("versions":[{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
         R"("preferredVersion":{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}}]})";
}

std::string ApiGroupJson() {
  return R"({"kind":"APIGroup","apiVersion":"v1","name":"external.metrics.k8s.io",)"
         R"("versions":[{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
         R"("preferredVersion":{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}})";
}

std::string ApiResourceListJson(
    const std::vector<std::pair<std::string, std::string>>& extra_resources) {
  std::string out =
      R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"external.metrics.k8s.io/v1beta1","resources":[)";
  bool first = true;
  for (const std::string& name : ServedMetricNames()) {
    if (!first) out.push_back(',');
    first = false;
    out.append(R"({"name":)");
    AppendJsonString(name, &out);
    out.append(
        R"(,"singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]})");
  }
  for (const auto& [name, json] : extra_resources) {
    if (MetricIndex(name) >= 0) continue;
    out.push_back(',');
    out.append(json);
  }
  out.append("]}");
  return out;
}

}  // namespace oomcast::metrics_adapter
