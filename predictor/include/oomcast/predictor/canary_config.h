// The predictor YAML's `canary:` section: a list of comparisons (canary.h). Keys, units and
// defaults: docs/canary.md. Called from config.cc's ParseConfigYaml.
#pragma once

#include <string>
#include <vector>

#include "oomcast/predictor/canary.h"
#include "oomcast/status.h"

namespace YAML {
class Node;
}

namespace oomcast::predictor {

// Parses the list at `node` (key path "canary") into `out`. Every key is checked: an unknown
// key or a bad value is InvalidArgument naming the key path ("canary[0].tolerances.alpha: ...");
// comparison names must be unique.
Status ParseCanaryYaml(const YAML::Node& node, std::vector<CanaryComparisonConfig>* out);

}  // namespace oomcast::predictor
