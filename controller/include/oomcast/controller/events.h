// core/v1 Events about the controller's objects (a MemoryScaler, a MemoryCanary, ...): what to
// say as a value (PlannedEvent, returned by a pure plan), and the recorder that posts it.
#pragma once

#include <cstdint>
#include <string>

#include "oomcast/clock.h"
#include "oomcast/kube_client.h"
#include "oomcast/status.h"

namespace oomcast::controller {

struct PlannedEvent {
  std::string type;    // Normal or Warning.
  std::string reason;  // CamelCase, e.g. ScaledUp.
  std::string action;  // What was done or tried, e.g. Scale, Evict.
  std::string message;
  bool operator==(const PlannedEvent&) const = default;
};

// The object an Event is about (involvedObject).
struct InvolvedObject {
  std::string api_version;  // "oomcast.io/v1alpha1"
  std::string kind;         // "MemoryScaler"
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string resource_version;
};

// Posts Events (source oomcast-controller, reportingComponent oomcast.io/controller,
// reportingInstance `reporting_instance`, first/last timestamps from `clock`), each with a
// unique name "<object>.<hex>". Thread-compatible; pointers must outlive the recorder.
class EventRecorder {
 public:
  EventRecorder(KubeClient* kube, Clock* clock, std::string reporting_instance)
      : kube_(kube), clock_(clock), reporting_instance_(std::move(reporting_instance)) {}
  // OK when the API created the Event; otherwise the transport or API error.
  Status Record(const InvolvedObject& object, const PlannedEvent& event);

 private:
  KubeClient* kube_;
  Clock* clock_;
  std::string reporting_instance_;
  uint64_t counter_ = 0;
};

}  // namespace oomcast::controller
