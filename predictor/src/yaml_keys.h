// Key checks shared by the predictor's YAML readers (config.cc, canary_config.cc). Private to
// predictor/src.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

#include "oomcast/status.h"

namespace oomcast::predictor {

// kInvalidArgument "<path>: <msg>".
inline Status KeyError(const std::string& path, const std::string& msg) {
  return InvalidArgumentError(path + ": " + msg);
}

// OK when `node` is a mapping whose keys are all in `allowed`; otherwise kInvalidArgument naming
// `path` (or "<path>.<key>" and the known keys; just "<key>" when `path` is empty, the top level).
inline Status CheckKeys(const YAML::Node& node, const std::string& path,
                        const std::set<std::string>& allowed) {
  if (!node.IsMap()) return KeyError(path, "must be a mapping");
  for (const auto& kv : node) {
    const std::string k = kv.first.as<std::string>();
    if (allowed.count(k)) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return KeyError(path.empty() ? k : path + "." + k, "unknown key (known: " + list + ")");
  }
  return Status::Ok();
}

}  // namespace oomcast::predictor
