#include "oomcast/controller/events.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "oomcast/units.h"

namespace oomcast::controller {

Status EventRecorder::Record(const InvolvedObject& object, const PlannedEvent& event) {
  const double now = clock_->NowUnixSeconds();
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "%llx",
                static_cast<unsigned long long>(now * 1e6) + (counter_++));
  const std::string ns = object.namespace_name.empty() ? "default" : object.namespace_name;
  nlohmann::json ev = {{"apiVersion", "v1"},
                       {"kind", "Event"},
                       {"metadata", {{"name", object.name + "." + suffix}, {"namespace", ns}}},
                       {"involvedObject",
                        {{"apiVersion", object.api_version},
                         {"kind", object.kind},
                         {"name", object.name},
                         {"namespace", ns},
                         {"uid", object.uid},
                         {"resourceVersion", object.resource_version}}},
                       {"reason", event.reason},
                       {"message", event.message},
                       {"type", event.type},
                       {"action", event.action},
                       {"source", {{"component", "oomcast-controller"}}},
                       {"reportingComponent", "oomcast.io/controller"},
                       {"reportingInstance", reporting_instance_},
                       {"firstTimestamp", FormatRfc3339(now)},
                       {"lastTimestamp", FormatRfc3339(now)},
                       {"count", 1}};
  auto r = kube_->Request("POST", "/api/v1/namespaces/" + ns + "/events", ev.dump());
  if (!r.ok()) return r.status().WithContext("create event " + event.reason);
  return KubeResponseStatus(*r, "create event " + event.reason);
}

}  // namespace oomcast::controller
