// Objects the controller tests seed, shared by the unit tests (in-process fake) and the
// integration tests (Python stand-in): the "web" Deployment in "shop", its MemoryScaler and HPA,
// plain MemoryScalers for the informer, and a Lease configuration.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "oomcast/controller/leader_election.h"

namespace oomcast::controller::testing {

inline constexpr double kMiBps = 1024.0 * 1024.0;
inline const std::string kNs = "shop";
inline const std::string kScalerPath =
    "/apis/oomcast.io/v1alpha1/namespaces/shop/memoryscalers/web";
inline const std::string kScalePath = "/apis/apps/v1/namespaces/shop/deployments/web/scale";
inline const std::string kHpaPath =
    "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/web-hpa";
inline const char* kLeasePath =
    "/apis/coordination.k8s.io/v1/namespaces/oomcast-system/leases/oomcast-controller";

// The MemoryScaler shop/web on Deployment web: 1..5 replicas, no scale-down window; the spec
// merge-patched with `spec_overrides`.
inline nlohmann::json Scaler(nlohmann::json spec_overrides = nlohmann::json::object()) {
  nlohmann::json spec = {
      {"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
      {"minReplicas", 1},
      {"maxReplicas", 5},
      {"behavior", {{"scaleDown", {{"stabilizationWindowSeconds", 0}}}}}};
  spec.merge_patch(spec_overrides);
  return {{"apiVersion", "oomcast.io/v1alpha1"},
          {"kind", "MemoryScaler"},
          {"metadata", {{"name", "web"}, {"namespace", kNs}}},
          {"spec", spec}};
}

// A minimal MemoryScaler ns/name (for the informer).
inline nlohmann::json NamedScaler(const std::string& ns, const std::string& name) {
  return {
      {"apiVersion", "oomcast.io/v1alpha1"},
      {"kind", "MemoryScaler"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"spec", {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", name}}}, {"maxReplicas", 3}}}};
}

// Deployment shop/web (pods labelled app=web).
inline nlohmann::json Deployment(int replicas) {
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "web"}, {"namespace", kNs}}},
      {"spec",
       {{"replicas", replicas},
        {"selector", {{"matchLabels", {{"app", "web"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", {{{"name", "app"}, {"image", "registry.local/app:1"}}}}}}}}}}};
}

// HPA shop/web-hpa on Deployment web, scaling on CPU.
inline nlohmann::json Hpa(int min, int max) {
  return {
      {"apiVersion", "autoscaling/v2"},
      {"kind", "HorizontalPodAutoscaler"},
      {"metadata", {{"name", "web-hpa"}, {"namespace", kNs}}},
      {"spec",
       {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
        {"minReplicas", min},
        {"maxReplicas", max},
        {"metrics",
         {{{"type", "Resource"},
           {"resource",
            {{"name", "cpu"},
             {"target", {{"type", "Utilization"}, {"averageUtilization", 70}}}}}}}}}}};
}

// The condition `type` of a scaler's status (null when absent).
inline nlohmann::json Condition(const nlohmann::json& scaler, const std::string& type) {
  for (const auto& c : scaler["status"]["conditions"]) {
    if (c["type"] == type) return c;
  }
  return nlohmann::json();
}

// Lease oomcast-system/oomcast-controller: 15 s lease, 10 s renew deadline, 2 s retry.
inline LeaderElectionConfig LeaseConfig(const std::string& identity) {
  LeaderElectionConfig c;
  c.namespace_name = "oomcast-system";
  c.lease_name = "oomcast-controller";
  c.identity = identity;
  c.lease_duration_seconds = 15;
  c.renew_deadline_seconds = 10;
  c.retry_period_seconds = 2;
  return c;
}

}  // namespace oomcast::controller::testing
