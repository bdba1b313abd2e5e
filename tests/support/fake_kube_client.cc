#include "support/fake_kube_client.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "oomcast/label_selector.h"
#include "oomcast/units.h"

namespace oomcast::testing {

using nlohmann::json;

namespace {

const char* kCreationTimestamp = "2026-01-01T00:00:00Z";

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(path);
  while (std::getline(in, cur, '/')) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::string QueryParam(const std::string& query, const std::string& key) {
  std::istringstream in(query);
  std::string pair;
  while (std::getline(in, pair, '&')) {
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key)
      return eq == std::string::npos ? "" : PercentDecode(pair.substr(eq + 1));
  }
  return "";
}

json StatusObject(int code, const std::string& reason, const std::string& message,
                  json details = nullptr) {
  json s = {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", json::object()},
            {"status", code < 300 ? "Success" : "Failure"},
            {"message", message},
            {"reason", reason},
            {"code", code}};
  if (!details.is_null()) s["details"] = std::move(details);
  return s;
}

KubeResponse Answer(int code, const json& body, std::map<std::string, std::string> headers = {}) {
  headers["content-type"] = "application/json";
  return KubeResponse{code, body.dump(), std::move(headers)};
}

KubeResponse Error(int code, const std::string& message, const std::string& reason = "",
                   json details = nullptr) {
  return Answer(code, StatusObject(code, reason.empty() ? StatusReasonOf(code) : reason, message,
                                   std::move(details)));
}

std::map<std::string, std::string> Labels(const json& object) {
  std::map<std::string, std::string> out;
  const json labels = object.value("metadata", json::object()).value("labels", json::object());
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  }
  return out;
}

// metav1.LabelSelector JSON as a selector string (matchLabels and matchExpressions).
std::string SelectorString(const json& selector) {
  std::vector<std::string> parts;
  const json ml = selector.value("matchLabels", json::object());
  for (auto it = ml.begin(); it != ml.end(); ++it) {
    parts.push_back(it.key() + "=" + it->get<std::string>());
  }
  for (const auto& e : selector.value("matchExpressions", json::array())) {
    std::string op = e.value("operator", ""), key = e.value("key", "");
    if (op == "In" || op == "NotIn") {
      std::string values;
      for (const auto& v : e.value("values", json::array())) {
        values += (values.empty() ? "" : ",") + v.get<std::string>();
      }
      parts.push_back(key + (op == "In" ? " in (" : " notin (") + values + ")");
    } else if (op == "Exists") {
      parts.push_back(key);
    } else if (op == "DoesNotExist") {
      parts.push_back("!" + key);
    }
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

bool SelectorMatches(const json& selector, const json& object) {
  auto sel = LabelSelector::Parse(SelectorString(selector));
  return sel.ok() && sel->Matches(Labels(object));
}

bool PodReady(const json& pod) {
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

std::string ApiVersion(const FakeKubeClient::Resource& r) {
  return r.group.empty() ? r.version : r.group + "/" + r.version;
}

bool Custom(const FakeKubeClient::Resource& r) {
  return r.group.find('.') != std::string::npos && r.group.find("k8s.io") == std::string::npos;
}

}  // namespace

std::string StatusReasonOf(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    default:
      return code >= 500 ? "InternalError" : "";
  }
}

struct FakeKubeClient::Parsed {
  const Resource* resource = nullptr;
  std::string id;  // group/version/plural
  bool namespaced = false;
  std::string ns;
  std::string name;  // Empty: the collection.
  std::string sub;   // scale, status, eviction or empty.
  std::string query;
};

FakeKubeClient::FakeKubeClient() {
  resources_ = {
      {"apps", "v1", "deployments", "Deployment", true},
      {"apps", "v1", "statefulsets", "StatefulSet", true},
      {"apps", "v1", "replicasets", "ReplicaSet", true},
      {"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true},
      {"coordination.k8s.io", "v1", "leases", "Lease", false},
      {"", "v1", "events", "Event", false},
      {"", "v1", "pods", "Pod", true},
      {"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true},
      {"oomcast.io", "v1alpha1", "memoryscalers", "MemoryScaler", true},
  };
}

void FakeKubeClient::AddResource(Resource resource) {
  std::lock_guard<std::mutex> lock(mu_);
  resources_.push_back(std::move(resource));
}

bool FakeKubeClient::ParsePath(const std::string& full_path, Parsed* p) const {
  const size_t q = full_path.find('?');
  p->query = q == std::string::npos ? "" : full_path.substr(q + 1);
  std::vector<std::string> seg = SplitPath(full_path.substr(0, q));
  std::string group, version;
  size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    version = seg[1];
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    i = 3;
  } else {
    return false;
  }
  if (seg.size() >= i + 3 && seg[i] == "namespaces") {
    p->namespaced = true;
    p->ns = seg[i + 1];
    i += 2;
  }
  if (i >= seg.size() || seg.size() > i + 3) return false;
  for (const Resource& r : resources_) {
    if (r.group == group && r.version == version && r.plural == seg[i]) p->resource = &r;
  }
  if (p->resource == nullptr) return false;
  p->id = group + "/" + version + "/" + seg[i];
  if (seg.size() > i + 1) p->name = seg[i + 1];
  if (seg.size() > i + 2) p->sub = seg[i + 2];
  return true;
}

StatusOr<KubeResponse> FakeKubeClient::Request(const std::string& method, const std::string& path,
                                               const std::string& body, const std::string&,
                                               const std::string&) {
  json parsed = nullptr;
  if (!body.empty()) {
    parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded()) return Error(400, "the request body is not valid JSON");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_;
  auto r = Serve(method, path, parsed);
  if (r.ok() && method != "GET") {
    writes_.push_back({method, path.substr(0, path.find('?')), r->status_code, parsed});
  }
  return r;
}

StatusOr<KubeResponse> FakeKubeClient::Serve(const std::string& method, const std::string& path,
                                             const json& body) {
  for (auto it = scripted_.begin(); it != scripted_.end(); ++it) {
    if ((it->method.empty() || it->method == method) &&
        path.find(it->path_contains) != std::string::npos) {
      KubeResponse r = Error(
          it->code, it->message.empty() ? "scripted " + std::to_string(it->code) : it->message,
          it->reason);
      for (const auto& [k, v] : it->headers) r.headers[k] = v;
      if (--it->count <= 0) scripted_.erase(it);
      return r;
    }
  }
  if (path.rfind("/apis/external.metrics.k8s.io/", 0) == 0) {
    const size_t q = path.find('?');
    return ServeExternalMetric(path.substr(0, q), q == std::string::npos ? "" : path.substr(q + 1));
  }
  Parsed p;
  if (!ParsePath(path, &p)) return Error(404, "the server could not find the requested resource");
  if (p.name.empty()) {
    if (method == "GET") {
      if (QueryParam(p.query, "watch") == "true") {
        return InvalidArgumentError("FakeKubeClient: watch paths go through Watch()");
      }
      return ServeList(p, p.query);
    }
    if (method == "POST") {
      if (!p.namespaced) return Error(405, "create needs a namespace");
      return Create(p, body);
    }
    return Error(405, method + " is not supported on a collection");
  }
  auto race = races_.find(path);
  if (method == "PUT" && race != races_.end() && race->second > 0) {
    --race->second;
    auto it = objects_.find({p.id, p.ns, p.name});
    if (it != objects_.end()) {
      json bumped = it->second;
      bumped["metadata"]["annotations"]["fake/concurrent-writer"] =
          bumped["metadata"].value("resourceVersion", "");
      Put(p, p.name, bumped, "MODIFIED");
    }
  }
  if (p.sub == "eviction") {
    if (p.resource->plural != "pods" || method != "POST")
      return Error(405, "eviction is POST on pods");
    return Evict(p, body);
  }
  if (p.sub == "scale") return ServeScale(method, p, body);
  if (!p.sub.empty() && (p.sub != "status" || !p.resource->has_status)) {
    return Error(404, "the server could not find the requested resource");
  }
  return ServeObject(method, p, body);
}

KubeResponse FakeKubeClient::ServeObject(const std::string& method, const Parsed& p,
                                         const json& body) {
  const Key key{p.id, p.ns, p.name};
  auto it = objects_.find(key);
  const std::string what = p.resource->plural +
                           (p.resource->group.empty() ? "" : "." + p.resource->group) + " \"" +
                           p.name + "\"";
  json details = {{"name", p.name}, {"group", p.resource->group}, {"kind", p.resource->plural}};
  if (it == objects_.end()) return Error(404, what + " not found", "NotFound", details);
  if (method == "GET") return Answer(200, it->second);
  if (method == "DELETE") {
    json gone = it->second;
    objects_.erase(it);
    gone["metadata"]["resourceVersion"] = std::to_string(++rv_);
    history_.push_back({"DELETED", p.id, rv_, gone});
    if (p.resource->plural == "pods") SyncDeployments(p.ns);
    return Answer(200, StatusObject(200, "", "deleted"));
  }
  if (method != "PUT") return Error(405, method + " is not supported by the fake");
  const json& current = it->second;
  const std::string rv = body.value("metadata", json::object()).value("resourceVersion", "");
  if (!rv.empty() && rv != current["metadata"].value("resourceVersion", "")) {
    return Error(409,
                 "Operation cannot be fulfilled on " + what +
                     ": the object has been modified; please apply your changes to the latest "
                     "version and try again",
                 "Conflict", details);
  }
  json next;
  if (p.sub == "status") {
    next = current;
    next["status"] = body.value("status", json::object());
  } else {
    next = body;
    next["apiVersion"] = current["apiVersion"];
    next["kind"] = current["kind"];
    for (const char* k : {"uid", "creationTimestamp", "namespace", "name", "generation"}) {
      if (current["metadata"].contains(k)) next["metadata"][k] = current["metadata"][k];
    }
    if (p.resource->has_status) {
      if (current.contains("status")) {
        next["status"] = current["status"];
      } else {
        next.erase("status");
      }
      if (next.value("spec", json()) != current.value("spec", json())) {
        next["metadata"]["generation"] = current["metadata"].value("generation", 1) + 1;
      }
    }
  }
  if (p.resource->plural == "horizontalpodautoscalers") {
    const json spec = next.value("spec", json::object());
    const json min = spec.value("minReplicas", json(1)), max = spec.value("maxReplicas", json());
    if (!min.is_number_integer() || !max.is_number_integer() || min.get<int>() < 1 ||
        min.get<int>() > max.get<int>()) {
      return Error(422, "HorizontalPodAutoscaler.autoscaling \"" + p.name +
                            "\" is invalid: spec.minReplicas: must be between 1 and maxReplicas");
    }
  }
  Put(p, p.name, next, "MODIFIED");
  if (p.resource->plural == "deployments") SyncDeployments(p.ns);
  return Answer(200, objects_.at(key));
}

KubeResponse FakeKubeClient::ServeScale(const std::string& method, const Parsed& p,
                                        const json& body) {
  const std::string& plural = p.resource->plural;
  if (plural != "deployments" && plural != "statefulsets" && plural != "replicasets") {
    return Error(404, "the server could not find the requested resource");
  }
  const Key key{p.id, p.ns, p.name};
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return Error(404, plural + "." + p.resource->group + " \"" + p.name + "\" not found");
  }
  auto scale_of = [](const json& o) {
    const json& md = o["metadata"];
    return json{{"kind", "Scale"},
                {"apiVersion", "autoscaling/v1"},
                {"metadata",
                 {{"name", md["name"]},
                  {"namespace", md["namespace"]},
                  {"uid", md["uid"]},
                  {"resourceVersion", md["resourceVersion"]},
                  {"creationTimestamp", md["creationTimestamp"]}}},
                {"spec", {{"replicas", o["spec"].value("replicas", 1)}}},
                {"status",
                 {{"replicas", o.value("status", json::object()).value("replicas", 0)},
                  {"selector", SelectorString(o["spec"].value("selector", json::object()))}}}};
  };
  if (method == "GET") return Answer(200, scale_of(it->second));
  if (method != "PUT") return Error(405, method + " is not supported on /scale");
  if (body.value("kind", "") != "Scale")
    return Error(400, "the body of the request was not a Scale");
  const std::string rv = body.value("metadata", json::object()).value("resourceVersion", "");
  if (!rv.empty() && rv != it->second["metadata"].value("resourceVersion", "")) {
    return Error(409,
                 "Operation cannot be fulfilled on " + plural + "." + p.resource->group + " \"" +
                     p.name +
                     "\": the object has been modified; please apply your changes to the "
                     "latest version and try again",
                 "Conflict");
  }
  const json replicas = body.value("spec", json::object()).value("replicas", json());
  if (!replicas.is_number_integer() || replicas.get<int>() < 0) {
    return Error(422, "Scale.autoscaling \"" + p.name +
                          "\" is invalid: spec.replicas: must be greater than or equal to 0");
  }
  json next = it->second;
  if (next["spec"].value("replicas", 1) != replicas.get<int>()) {
    next["spec"]["replicas"] = replicas;
    next["metadata"]["generation"] = next["metadata"].value("generation", 1) + 1;
  }
  Put(p, p.name, next, "MODIFIED");
  if (plural == "deployments") SyncDeployments(p.ns);
  return Answer(200, scale_of(objects_.at(key)));
}

KubeResponse FakeKubeClient::ServeList(const Parsed& p, const std::string& query) {
  auto selector = LabelSelector::Parse(QueryParam(query, "labelSelector"));
  if (!selector.ok()) return Error(400, selector.status().message());
  json items = json::array();
  for (const auto& [key, object] : objects_) {
    if (std::get<0>(key) != p.id || (p.namespaced && std::get<1>(key) != p.ns)) continue;
    if (!selector->Matches(Labels(object))) continue;
    json item = object;
    if (!Custom(*p.resource)) {  // Built-in list items carry no kind/apiVersion.
      item.erase("kind");
      item.erase("apiVersion");
    }
    items.push_back(std::move(item));
  }
  return Answer(200, {{"kind", p.resource->kind + "List"},
                      {"apiVersion", ApiVersion(*p.resource)},
                      {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                      {"items", items}});
}

KubeResponse FakeKubeClient::Create(const Parsed& p, json object) {
  if (!object.is_object()) return Error(400, "the request body is not an object");
  json& md = object["metadata"];
  if (md.value("name", "").empty() && !md.value("generateName", "").empty()) {
    md["name"] = md.value("generateName", "") + std::to_string(++uid_counter_);
  }
  const std::string name = md.value("name", "");
  if (name.empty())
    return Error(422, p.resource->kind + " is invalid: metadata.name: Required value");
  if (objects_.count({p.id, p.ns, name})) {
    return Error(409,
                 p.resource->plural + (p.resource->group.empty() ? "" : "." + p.resource->group) +
                     " \"" + name + "\" already exists",
                 "AlreadyExists");
  }
  if (p.resource->plural == "events" && !object.contains("involvedObject")) {
    return Error(422, "involvedObject: Required value");
  }
  object["apiVersion"] = ApiVersion(*p.resource);
  object["kind"] = p.resource->kind;
  md["namespace"] = p.ns;
  md["uid"] = "uid-" + std::to_string(++uid_counter_);
  md["creationTimestamp"] = kCreationTimestamp;
  if (object.contains("spec")) md["generation"] = 1;
  md.erase("resourceVersion");
  Put(p, name, object, "ADDED");
  if (p.resource->plural == "deployments") SyncDeployments(p.ns);
  return Answer(201, objects_.at({p.id, p.ns, name}));
}

void FakeKubeClient::Put(const Parsed& p, const std::string& name, json object,
                         const std::string& type) {
  object["metadata"]["resourceVersion"] = std::to_string(++rv_);
  objects_[{p.id, p.ns, name}] = object;
  history_.push_back({type, p.id, rv_, object});
}

void FakeKubeClient::SyncDeployments(const std::string& ns) {
  if (!simulate_pods_) return;
  Parsed pods;
  ParsePath("/api/v1/namespaces/" + ns + "/pods", &pods);
  Parsed deps;
  ParsePath("/apis/apps/v1/namespaces/" + ns + "/deployments", &deps);
  std::vector<std::string> names;
  for (const auto& [key, o] : objects_) {
    if (std::get<0>(key) == deps.id && std::get<1>(key) == ns) names.push_back(std::get<2>(key));
  }
  for (const std::string& name : names) {
    const json dep = objects_.at({deps.id, ns, name});
    const json selector = dep["spec"].value("selector", json::object());
    auto owned = [&] {
      std::vector<std::string> out;
      for (const auto& [key, o] : objects_) {
        if (std::get<0>(key) == pods.id && std::get<1>(key) == ns && SelectorMatches(selector, o) &&
            !o["metadata"].contains("deletionTimestamp")) {
          out.push_back(std::get<2>(key));
        }
      }
      return out;
    };
    const int want = dep["spec"].value("replicas", 1);
    const json tmpl = dep["spec"].value("template", json::object());
    for (auto have = owned(); static_cast<int>(have.size()) < want; have = owned()) {
      char suffix[16];
      std::snprintf(suffix, sizeof(suffix), "-%05d", ++pod_counter_);
      json pod = {
          {"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name + suffix},
            {"namespace", ns},
            {"uid", "uid-" + std::to_string(++uid_counter_)},
            {"creationTimestamp", kCreationTimestamp},
            {"labels", tmpl.value("metadata", json::object()).value("labels", json::object())},
            {"ownerReferences",
             {{{"apiVersion", "apps/v1"},
               {"kind", "ReplicaSet"},
               {"name", name + "-rs"},
               {"uid", dep["metadata"]["uid"]},
               {"controller", true}}}}}},
          {"spec", tmpl.value("spec", json{{"containers", json::array()}})},
          {"status",
           {{"phase", "Running"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
      Put(pods, name + suffix, pod, "ADDED");
    }
    for (auto have = owned(); static_cast<int>(have.size()) > want; have = owned()) {
      json gone = objects_.at({pods.id, ns, have.back()});
      objects_.erase({pods.id, ns, have.back()});
      gone["metadata"]["resourceVersion"] = std::to_string(++rv_);
      history_.push_back({"DELETED", pods.id, rv_, gone});
    }
    int ready = 0;
    const auto have = owned();
    for (const auto& pod_name : have) ready += PodReady(objects_.at({pods.id, ns, pod_name}));
    json status = {{"observedGeneration", dep["metadata"].value("generation", 1)},
                   {"replicas", static_cast<int>(have.size())},
                   {"updatedReplicas", static_cast<int>(have.size())},
                   {"readyReplicas", ready},
                   {"availableReplicas", ready}};
    if (dep.value("status", json()) != status) {
      json next = dep;
      next["status"] = status;
      Put(deps, name, next, "MODIFIED");
    }
  }
}

KubeResponse FakeKubeClient::Evict(const Parsed& p, const json& body) {
  auto it = objects_.find({p.id, p.ns, p.name});
  if (it == objects_.end()) return Error(404, "pods \"" + p.name + "\" not found");
  if (body.value("kind", "") != "Eviction" || body.value("apiVersion", "") != "policy/v1") {
    return Error(400, "the body of the request was not a policy/v1 Eviction");
  }
  const json pod = it->second;
  for (const auto& [key, pdb] : objects_) {
    if (std::get<0>(key) != "policy/v1/poddisruptionbudgets" || std::get<1>(key) != p.ns) continue;
    const json selector = pdb["spec"].value("selector", json::object());
    if (!SelectorMatches(selector, pod)) continue;
    int covered = 0, healthy = 0;
    for (const auto& [k, o] : objects_) {
      if (std::get<0>(k) == p.id && std::get<1>(k) == p.ns && SelectorMatches(selector, o)) {
        ++covered;
        healthy += PodReady(o);
      }
    }
    const int allowed = pdb["spec"].contains("minAvailable")
                            ? healthy - pdb["spec"].value("minAvailable", 0)
                            : pdb["spec"].value("maxUnavailable", 1) - (covered - healthy);
    if (allowed <= 0) {
      json details = {
          {"causes",
           {{{"reason", "DisruptionBudget"},
             {"message", "The disruption budget " + pdb["metadata"].value("name", "") + " needs " +
                             std::to_string(healthy - allowed) + " healthy pods and has " +
                             std::to_string(healthy) + " currently"}}}}};
      KubeResponse r =
          Error(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                "TooManyRequests", details);
      r.headers["retry-after"] = "10";
      return r;
    }
  }
  objects_.erase(it);
  json gone = pod;
  gone["metadata"]["resourceVersion"] = std::to_string(++rv_);
  history_.push_back({"DELETED", p.id, rv_, gone});
  SyncDeployments(p.ns);
  return Answer(201, StatusObject(201, "", ""));
}

KubeResponse FakeKubeClient::ServeExternalMetric(const std::string& path,
                                                 const std::string& query) {
  std::vector<std::string> seg = SplitPath(path);
  // apis external.metrics.k8s.io v1beta1 namespaces NS METRIC
  if (seg.size() != 6 || seg[3] != "namespaces") {
    return Error(404, "the server could not find the requested resource");
  }
  auto it = metrics_.find({seg[4], seg[5]});
  if (it == metrics_.end()) {
    return Error(503, "no forecast for " + seg[5] + " in namespace " + seg[4] + " yet");
  }
  const json& entry = it->second;
  if (entry.contains("error")) {
    return Error(entry["error"].value("code", 503), entry["error"].value("message", ""),
                 entry["error"].value("reason", ""));
  }
  auto selector = LabelSelector::Parse(QueryParam(query, "labelSelector"));
  if (!selector.ok()) return Error(400, "invalid labelSelector: " + selector.status().message());
  json items = json::array();
  for (const auto& item : entry["items"]) {
    json labels = item.value("labels", json::object());
    if (!labels.contains("namespace")) labels["namespace"] = seg[4];
    std::map<std::string, std::string> m;
    for (auto l = labels.begin(); l != labels.end(); ++l) m[l.key()] = l->get<std::string>();
    if (!selector->Matches(m)) continue;
    auto value = FormatQuantity(item.value("value", 0.0));
    items.push_back({{"metricName", seg[5]},
                     {"metricLabels", labels},
                     {"timestamp", FormatRfc3339(item.value("timestamp", 0.0))},
                     {"window", 60},
                     {"value", value.ok() ? *value : "0"}});
  }
  return Answer(200, {{"kind", "ExternalMetricValueList"},
                      {"apiVersion", "external.metrics.k8s.io/v1beta1"},
                      {"metadata", json::object()},
                      {"items", items}});
}

Status FakeKubeClient::Watch(const std::string& path, double,
                             const std::function<bool(const WatchEvent&)>& on_event,
                             const std::string&) {
  std::vector<WatchEvent> events;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_;
    Parsed p;
    if (!ParsePath(path, &p) || !p.name.empty()) {
      return NotFoundError("kube watch " + path + ": HTTP 404 NotFound");
    }
    if (QueryParam(p.query, "watch") != "true") {
      return InvalidArgumentError("kube watch " + path + ": no watch=true");
    }
    auto in_scope = [&](const std::string& id, const json& o) {
      return id == p.id && (!p.namespaced || o["metadata"].value("namespace", "") == p.ns);
    };
    const std::string rv = QueryParam(p.query, "resourceVersion");
    if (rv.empty() || rv == "0") {
      for (const auto& [key, o] : objects_) {
        if (in_scope(std::get<0>(key), o)) events.push_back({"ADDED", o.dump()});
      }
    } else if (std::stoll(rv) < compacted_) {
      events.push_back({"ERROR", StatusObject(410, "Expired",
                                              "too old resource version: " + rv + " (" +
                                                  std::to_string(compacted_) + ")")
                                     .dump()});
    } else {
      for (const Stored& s : history_) {
        if (s.rv > std::stoll(rv) && in_scope(s.collection, s.object)) {
          events.push_back({s.type, s.object.dump()});
        }
      }
    }
    auto queued = queued_events_.find(path.substr(0, path.find('?')));
    if (queued != queued_events_.end()) {
      for (auto& e : queued->second) events.push_back(std::move(e));
      queued_events_.erase(queued);
    }
    if (QueryParam(p.query, "allowWatchBookmarks") == "true" &&
        (events.empty() || events.back().type != "ERROR")) {
      events.push_back({"BOOKMARK", json{{"kind", p.resource->kind},
                                         {"apiVersion", ApiVersion(*p.resource)},
                                         {"metadata", {{"resourceVersion", std::to_string(rv_)}}}}
                                        .dump()});
    }
  }
  for (const WatchEvent& e : events) {
    if (!on_event(e)) break;
  }
  return Status::Ok();
}

json FakeKubeClient::Seed(const json& object) {
  const std::string api = object.value("apiVersion", "");
  const std::string kind = object.value("kind", "");
  const json md = object.value("metadata", json::object());
  const std::string ns = md.value("namespace", "default");
  std::string plural;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Resource& r : resources_) {
      if (ApiVersion(r) == api && r.kind == kind) plural = r.plural;
    }
  }
  if (plural.empty()) throw std::runtime_error("FakeKubeClient does not serve " + api + " " + kind);
  const std::string collection = (api.find('/') == std::string::npos ? "/api/" : "/apis/") + api +
                                 "/namespaces/" + ns + "/" + plural;
  int code = 0;
  json created = Call("POST", collection, object, &code);
  if (code != 201) throw std::runtime_error("seed " + collection + ": " + created.dump());
  if (object.contains("status") && plural != "deployments") {
    std::lock_guard<std::mutex> lock(mu_);
    Parsed p;
    ParsePath(collection, &p);
    const std::string name = created["metadata"].value("name", "");
    json next = objects_.at({p.id, ns, name});
    next["status"] = object["status"];
    Put(p, name, next, "MODIFIED");
    created = next;
  }
  std::lock_guard<std::mutex> lock(mu_);
  writes_.pop_back();  // Seeding is setup, not a write under test.
  return created;
}

json FakeKubeClient::Get(const std::string& path) {
  int code = 0;
  json j = Call("GET", path, nullptr, &code);
  return code == 200 ? j : json();
}

json FakeKubeClient::Call(const std::string& method, const std::string& path, const json& body,
                          int* code) {
  auto r = Request(method, path, body.is_null() ? "" : body.dump());
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  if (code != nullptr) *code = r->status_code;
  return json::parse(r->body);
}

void FakeKubeClient::Script(ScriptedResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  scripted_.push_back(std::move(response));
}

void FakeKubeClient::Race(const std::string& path, int count) {
  std::lock_guard<std::mutex> lock(mu_);
  races_[path] = count;
}

void FakeKubeClient::Compact() {
  std::lock_guard<std::mutex> lock(mu_);
  compacted_ = ++rv_;
  history_.clear();
}

void FakeKubeClient::QueueWatchEvent(const std::string& collection_path, WatchEvent event) {
  std::lock_guard<std::mutex> lock(mu_);
  queued_events_[collection_path].push_back(std::move(event));
}

void FakeKubeClient::SetPodReady(const std::string& ns, const std::string& name, bool ready) {
  std::lock_guard<std::mutex> lock(mu_);
  Parsed p;
  ParsePath("/api/v1/namespaces/" + ns + "/pods", &p);
  json pod = objects_.at({p.id, ns, name});
  pod["status"]["conditions"] = {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}};
  Put(p, name, pod, "MODIFIED");
  SyncDeployments(ns);
}

void FakeKubeClient::set_simulate_pods(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  simulate_pods_ = on;
}

void FakeKubeClient::SetExternalMetric(const std::string& ns, const std::string& metric,
                                       json items) {
  std::lock_guard<std::mutex> lock(mu_);
  metrics_[{ns, metric}] = {{"items", std::move(items)}};
}

void FakeKubeClient::SetExternalMetricError(const std::string& ns, const std::string& metric,
                                            int code, const std::string& reason,
                                            const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  metrics_[{ns, metric}] = {{"error", {{"code", code}, {"reason", reason}, {"message", message}}}};
}

std::vector<FakeKubeClient::Write> FakeKubeClient::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

std::vector<FakeKubeClient::Write> FakeKubeClient::WritesTo(const std::string& needle,
                                                            const std::string& method) const {
  std::vector<Write> out;
  for (const Write& w : writes()) {
    if (w.path.find(needle) != std::string::npos && (method.empty() || w.method == method)) {
      out.push_back(w);
    }
  }
  return out;
}

int FakeKubeClient::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::string FakeKubeClient::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::to_string(rv_);
}

}  // namespace oomcast::testing
