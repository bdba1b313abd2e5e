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

// Kubernetes' validation of label keys (qualified names: optional DNS-1123 subdomain prefix of
// at most 253 characters, "/", a name of at most 63 characters [A-Za-z0-9][-A-Za-z0-9_.]*
// ending alphanumeric) and label values (at most 63 characters, empty allowed, same charset).
// OK, or kInvalidArgument saying what is wrong.
Status ValidateLabelKey(std::string_view key);
Status ValidateLabelValue(std::string_view value);

struct LabelRequirement {
  enum class Op {
    kEquals,
    kNotEquals,
    kIn,
    kNotIn,
    kExists,
    kDoesNotExist,
    kGreaterThan,
    kLessThan
  };
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

  // As Matches, with labels read through `lookup(std::string_view key)`, which returns a
  // `const std::string*` (nullptr when the label is absent). Lets callers match a union of
  // label sets without merging them.
  template <typename Lookup>
  bool MatchesLookup(Lookup&& lookup) const {
    for (const LabelRequirement& r : requirements_) {
      if (!RequirementMatches(r, lookup(std::string_view(r.key)))) return false;
    }
    return true;
  }

  // Whether `r` holds for a label whose value is `*value` (nullptr: label absent). For < and >
  // both sides are parsed as base-10 int64; a label that is not an integer does not match.
  static bool RequirementMatches(const LabelRequirement& r, const std::string* value);

  bool empty() const { return requirements_.empty(); }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

  // Canonical string (requirements sorted by key), as labels.Selector.String() prints it.
  std::string ToString() const;

  // Builds a selector from requirements (validated as Parse does). Used by callers that strip
  // reserved keys from a parsed selector.
  static StatusOr<LabelSelector> FromRequirements(std::vector<LabelRequirement> requirements);

 private:
  std::vector<LabelRequirement> requirements_;
};

}  // namespace oomcast
