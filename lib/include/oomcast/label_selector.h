// Kubernetes label selectors with the full grammar of apimachinery's labels.Parse:
//   key=value, key==value, key!=value, key in (a,b), key notin (a,b), key, !key, key<N, key>N,
// requirements separated by commas. Keys may have a DNS prefix (example.com/name).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/status.h"

namespace oomcast {

struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist, kGreaterThan, kLessThan };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;  // Sorted; one value for =, !=, <, >; none for exists.
};

class LabelSelector {
 public:
  // Parses `text`; "" selects everything. kInvalidArgument names the position and problem.
  static StatusOr<LabelSelector> Parse(std::string_view text);

  // True when every requirement holds for `labels`.
  bool Matches(const std::map<std::string, std::string>& labels) const;

  bool empty() const { return requirements_.empty(); }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

  // Canonical string (requirements sorted by key), as labels.Selector.String() prints it.
  std::string ToString() const;

 private:
  std::vector<LabelRequirement> requirements_;
};

}  // namespace oomcast
