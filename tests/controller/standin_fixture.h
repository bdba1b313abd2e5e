// Shared fixture of controller tests: the API stand-in (plain HTTP, loopback), a client, a
// FakeClock set to the real time (the stand-in stamps objects with it) and helpers to seed
// objects, script forecasts and read back what was written.
#pragma once

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "oomcast/kube_client.h"
#include "support/fake_clock.h"
#include "support/kube_standin/standin_process.h"

namespace oomcast::testing {

class StandinFixture {
 public:
  StandinFixture() : standin_({"--http"}), clock_(static_cast<double>(std::time(nullptr))) {
    KubeRestConfig config;
    config.server = "http://127.0.0.1:" + std::to_string(standin_.port());
    config.timeout_seconds = 10;
    client_ = std::move(NewKubeClient(config)).value();
  }

  KubeClient* client() { return client_.get(); }
  FakeClock* clock() { return &clock_; }

  nlohmann::json Call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr, int* code = nullptr) {
    auto r = client_->Request(method, path, body.is_null() ? "" : body.dump());
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    if (code != nullptr) *code = r->status_code;
    return nlohmann::json::parse(r->body);
  }
  nlohmann::json Seed(const nlohmann::json& obj) { return Call("POST", "/_standin/objects", obj); }
  nlohmann::json Get(const std::string& path) { return Call("GET", path); }
  nlohmann::json Writes() { return Call("GET", "/_standin/writes"); }

  void SeedDeployment(const std::string& ns, const std::string& name, int replicas) {
    Seed({{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec",
               {{"containers", {{{"name", "app"}, {"image", "registry.local/app:1"}}}}}}}}}}});
  }

  // Scripts the three forecast metrics for every pod of the deployment `app` in `ns`: the same
  // growth (bytes/s) and risk for every pod; `eta_by_pod` overrides the ETA of some pods (others
  // have none). `age_seconds` makes the samples older than the fake now.
  void Forecast(const std::string& ns, const std::string& app, double growth_bps, double risk = 0,
                const std::map<std::string, double>& eta_by_pod = {}, double age_seconds = 0) {
    auto pods = Get("/api/v1/namespaces/" + ns + "/pods?labelSelector=app%3D" + app)["items"];
    nlohmann::json growth = nlohmann::json::array(), eta = nlohmann::json::array(),
                   risks = nlohmann::json::array();
    double ts = clock_.NowUnixSeconds() - age_seconds;
    for (const auto& p : pods) {
      std::string pod = p["metadata"]["name"];
      nlohmann::json labels = {{"namespace", ns}, {"pod", pod}, {"container", "app"}, {"app", app}};
      growth.push_back({{"labels", labels}, {"value", growth_bps}, {"timestamp", ts}});
      risks.push_back({{"labels", labels}, {"value", risk}, {"timestamp", ts}});
      if (eta_by_pod.count(pod)) {
        eta.push_back({{"labels", labels}, {"value", eta_by_pod.at(pod)}, {"timestamp", ts}});
      }
    }
    Call("POST", "/_standin/metrics",
         {{"namespace", ns}, {"metric", "memory_growth_rate_bytes_per_second"}, {"items", growth}});
    Call("POST", "/_standin/metrics",
         {{"namespace", ns}, {"metric", "memory_oom_eta_seconds"}, {"items", eta}});
    Call("POST", "/_standin/metrics",
         {{"namespace", ns}, {"metric", "memory_oom_risk"}, {"items", risks}});
  }

  void ForecastError(const std::string& ns, int code, const std::string& reason,
                     const std::string& message) {
    for (const char* m :
         {"memory_growth_rate_bytes_per_second", "memory_oom_eta_seconds", "memory_oom_risk"}) {
      Call("POST", "/_standin/metrics",
           {{"namespace", ns},
            {"metric", m},
            {"error", {{"code", code}, {"reason", reason}, {"message", message}}}});
    }
  }

  // Writes whose path contains `needle` (and method, when given).
  std::vector<nlohmann::json> WritesTo(const std::string& needle, const std::string& method = "") {
    std::vector<nlohmann::json> out;
    for (const auto& w : Writes()) {
      if (std::string(w["path"]).find(needle) != std::string::npos &&
          (method.empty() || w["method"] == method)) {
        out.push_back(w);
      }
    }
    return out;
  }

  // Validates every write against the official schemas (validate.mjs). Returns "" when valid or
  // when node_modules are absent (then `*skipped` is set), else the validator's output.
  std::string ValidateWrites(bool* skipped) {
    *skipped = false;
    std::string dir = SourceDir() + "/tests/support/kube_standin";
    if (!std::filesystem::exists(dir + "/node_modules/kubernetes-models")) {
      *skipped = true;
      return "";
    }
    std::string file = standin_.dir() + "/writes.json";
    std::ofstream(file) << Writes().dump();
    std::string cmd = "node " + dir + "/validate.mjs --crd " + SourceDir() +
                      "/charts/oomcast/files/crds/memoryscaler.yaml --writes " + file + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    int rc = pclose(p);
    return rc == 0 ? "" : out;
  }

 private:
  StandinProcess standin_;
  FakeClock clock_;
  std::unique_ptr<KubeClient> client_;
};

}  // namespace oomcast::testing
