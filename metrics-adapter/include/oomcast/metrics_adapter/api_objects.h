// JSON encoding of the Kubernetes API objects the adapter answers with (metav1.Status,
// discovery lists). Hand-written for speed on the hot path; output is compact JSON.
#pragma once

#include <string>
#include <string_view>

#include "oomcast/escape.h"  // AppendJsonString, used with these objects

namespace oomcast::metrics_adapter {

inline constexpr std::string_view kGroup = "external.metrics.k8s.io";
inline constexpr std::string_view kVersion = "v1beta1";
inline constexpr std::string_view kGroupVersion = "external.metrics.k8s.io/v1beta1";

// A metav1.Status failure: {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
// "message":...,"reason":...,"code":...}. `reason` is a metav1.StatusReason such as "NotFound".
std::string StatusObjectJson(int code, std::string_view reason, std::string_view message);

// The metav1.StatusReason Kubernetes uses for an HTTP code (404 NotFound, 400 BadRequest,
// 401 Unauthorized, 403 Forbidden, 405 MethodNotAllowed, 503 ServiceUnavailable, ...).
std::string_view ReasonForCode(int code);

}  // namespace oomcast::metrics_adapter
