// libFuzzer target: the Kubernetes quantity formatter. For any finite double in range the
// result is a well-formed canonical quantity that parses back to (about) the same value.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "oomcast/units.h"

namespace {

bool WellFormed(const std::string& q) {
  size_t i = 0;
  if (i < q.size() && q[i] == '-') ++i;
  size_t digits = i;
  while (i < q.size() && q[i] >= '0' && q[i] <= '9') ++i;
  if (i == digits) return false;
  if (q[digits] == '0' && i - digits > 1) return false;  // No leading zeros.
  static const char* kSuffixes[] = {"",  "n", "u",  "m",  "k",  "M",  "G",  "T",
                                    "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  std::string suffix = q.substr(i);
  for (const char* s : kSuffixes) {
    if (suffix == s) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < sizeof(double)) return 0;
  double v;
  std::memcpy(&v, data, sizeof v);
  auto q = oomcast::FormatQuantity(v);
  if (!std::isfinite(v)) {
    if (q.ok()) std::abort();
    return 0;
  }
  if (!q.ok()) {
    if (std::fabs(v) < 9e18) std::abort();
    return 0;
  }
  if (!WellFormed(*q)) std::abort();
  if (*q == "-0") std::abort();
  auto back = oomcast::ParseQuantity(*q);
  if (!back.ok()) std::abort();
  // Rounding is to 1n (up, away from zero) plus binary float noise.
  double tolerance = 1e-9 + std::fabs(v) * 1e-5;
  if (std::fabs(*back - v) > tolerance) std::abort();
  return 0;
}
