// Private to the controller library: ReadMemoryScaler from an already parsed JSON object, so a
// reconcile parses the scaler once and keeps the object for the status write.
#pragma once

#include <nlohmann/json.hpp>

#include "oomcast/controller/memory_scaler.h"

namespace oomcast::controller {

// As ReadMemoryScaler (memory_scaler.h), from `object`.
StatusOr<MemoryScalerObject> ReadMemoryScalerJson(const nlohmann::json& object);

// The status as a JSON object (MemoryScalerStatusJson without the text step).
nlohmann::json MemoryScalerStatusObject(const MemoryScalerStatus& status);

}  // namespace oomcast::controller
