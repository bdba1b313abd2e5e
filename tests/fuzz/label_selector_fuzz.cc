// libFuzzer target: the label selector parser. Any input either fails with InvalidArgument or
// parses into a selector whose canonical string parses again to the same canonical string and
// matches the same label sets.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oomcast/label_selector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto s = oomcast::LabelSelector::Parse(text);
  if (!s.ok()) {
    if (s.status().code() != oomcast::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  std::string canonical = s->ToString();
  auto again = oomcast::LabelSelector::Parse(canonical);
  if (!again.ok() || again->ToString() != canonical) std::abort();
  std::map<std::string, std::string> labels;
  for (const auto& r : s->requirements()) {
    if (!r.values.empty()) labels[r.key] = r.values[0];
  }
  if (s->Matches(labels) != again->Matches(labels)) std::abort();
  if (s->Matches({}) != again->Matches({})) std::abort();
  return 0;
}
