// Formatting and parsing of the units oomcast shows people and Kubernetes.
#pragma once

#include <string>
#include <string_view>

#include "oomcast/status.h"

namespace oomcast {

// Canonical Kubernetes quantity of `value`, as apimachinery's resource.Quantity would
// serialize it: integers in the largest exact binary suffix when the value is a multiple of
// 1024 (12582912 -> "12Mi"), otherwise decimal SI with the smallest exact suffix ("1500m",
// "12M", "-5Mi", "0"). Fractions finer than 1n round up (away from zero) as Kubernetes does.
// NaN and infinities have no quantity: returns an InvalidArgument error.
StatusOr<std::string> FormatQuantity(double value);

// Parses a Kubernetes quantity ("128Mi", "1.5G", "100m", "1e3"). InvalidArgument on bad input.
StatusOr<double> ParseQuantity(std::string_view text);

// Parses a duration: Go style ("15m", "1h30m", "90s", "500ms") or plain seconds ("900").
// Returns seconds. InvalidArgument on bad or negative input.
StatusOr<double> ParseDurationSeconds(std::string_view text);

// Human duration for tables: "45s", "14m32s", "3h05m", "2d04h"; "-" for +Inf or NaN.
std::string FormatDurationHuman(double seconds);

// Human IEC size for tables: "512B", "1.5KiB", "734.0MiB", "2.00GiB"; signed values keep sign.
std::string FormatBytesHuman(double bytes);

// Parses a point in time: Unix seconds ("1767225600", "1767225600.5") or RFC 3339
// ("2026-01-01T00:00:00Z", "2026-01-01T02:00:00+02:00"). Returns Unix seconds.
StatusOr<double> ParseTimestamp(std::string_view text);

// RFC 3339 UTC with seconds: "2026-01-01T00:00:00Z".
std::string FormatRfc3339(double unix_seconds);

}  // namespace oomcast
