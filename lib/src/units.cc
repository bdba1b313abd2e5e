#include "oomcast/units.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <utility>

#include "oomcast/lookup_table.h"

namespace oomcast {
namespace {

using Int128 = __int128;

std::string Int128ToString(Int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return neg ? "-" + s : s;
}

}  // namespace

namespace {

// Binary suffixes by power of 1024.
constexpr const char* kBinarySuffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

// Multipliers of the suffixes ParseQuantity reads besides exponents ("e3"): binary and SI.
constexpr std::pair<std::string_view, double> kQuantitySuffixes[] = {
    {"", 1},        {"Ki", 0x1p10}, {"Mi", 0x1p20}, {"Gi", 0x1p30}, {"Ti", 0x1p40}, {"Pi", 0x1p50},
    {"Ei", 0x1p60}, {"n", 1e-9},    {"u", 1e-6},    {"m", 1e-3},    {"k", 1e3},     {"M", 1e6},
    {"G", 1e9},     {"T", 1e12},    {"P", 1e15},    {"E", 1e18}};

// Seconds per unit of ParseDurationSeconds (Go's time units, and days and weeks).
constexpr std::pair<std::string_view, double> kDurationUnits[] = {
    {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1},
    {"m", 60},    {"h", 3600},  {"d", 86400}, {"w", 7 * 86400}};

// The exact decimal digits of a non-negative integral double (glibc prints doubles exactly).
std::string ExactInteger(double v) {
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

// |value| >= 2^62: every such double is a whole multiple of 1024 (its ulp is at least 2^10),
// so no nanos are involved and the binary rule below always applies: the largest binary
// suffix up to Ei that leaves an integer mantissa, printed with every digit (1e300 is a
// 261-digit number of Ei), as resource.Quantity writes any value it can hold.
std::string FormatLargeQuantity(double value) {
  const std::string sign = value < 0 ? "-" : "";
  int exp = 0;
  double m = std::fabs(value);
  while (exp < 6 && std::fmod(m, 1024.0) == 0) {
    m /= 1024.0;  // Exact: a power of two.
    ++exp;
  }
  return sign + ExactInteger(m) + kBinarySuffixes[exp];
}

}  // namespace

StatusOr<std::string> FormatQuantity(double value) {
  if (!std::isfinite(value)) {
    return InvalidArgumentError("quantity: cannot represent non-finite value " +
                                std::to_string(value));
  }
  bool negative = value < 0;
  if (std::fabs(value) >= 0x1p62) return FormatLargeQuantity(value);
  long double x = std::fabs(static_cast<long double>(value)) * 1e9L;  // Nano units.
  long double nearest = std::nearbyintl(x);
  // Binary doubles such as 0.1 are not exact: a value within the double's own rounding error
  // (a few ulps) of a whole number of nanos is that number; anything genuinely finer than 1n is
  // rounded up (away from zero), as resource.Quantity does.
  const long double ulps = 8.0L * std::numeric_limits<double>::epsilon() * std::max(1.0L, x);
  Int128 nano = static_cast<Int128>(std::fabs(x - nearest) <= ulps ? nearest : std::ceil(x));
  if (nano == 0) return std::string("0");
  const Int128 kNanoPerUnit = 1000000000;
  std::string sign = negative ? "-" : "";
  // Integers of magnitude >= 1024: binary suffix when a power of 1024 divides them.
  if (nano % kNanoPerUnit == 0) {
    Int128 units = nano / kNanoPerUnit;
    if (units >= 1024) {
      int exp = 0;
      Int128 m = units;
      while (m % 1024 == 0 && exp < 6) {
        m /= 1024;
        ++exp;
      }
      if (exp > 0) return sign + Int128ToString(m) + kBinarySuffixes[exp];
    }
  }
  // Decimal SI: the largest exponent (multiple of 3) that keeps the mantissa an integer.
  static const char* kDec[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  int idx = 0;  // Index into kDec; nano is the mantissa at exponent -9.
  Int128 m = nano;
  while (m % 1000 == 0 && idx < 9) {
    m /= 1000;
    ++idx;
  }
  return sign + Int128ToString(m) + kDec[idx];
}

StatusOr<double> ParseQuantity(std::string_view text) {
  std::string s(text);
  if (s.empty()) return InvalidArgumentError("quantity: empty string");
  size_t pos = 0;
  if (s[pos] == '+' || s[pos] == '-') ++pos;
  size_t digits_start = pos;
  while (pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '.'))
    ++pos;
  if (pos == digits_start) return InvalidArgumentError("quantity: no number in \"" + s + "\"");
  char* end = nullptr;
  std::string num = s.substr(0, pos);
  double v = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size()) {
    return InvalidArgumentError("quantity: bad number in \"" + s + "\"");
  }
  std::string suffix = s.substr(pos);
  if (std::optional<double> mult = Lookup(kQuantitySuffixes, suffix)) return v * *mult;
  if ((suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1) {
    char* e2 = nullptr;
    long exp = std::strtol(suffix.c_str() + 1, &e2, 10);
    if (*e2 != '\0') return InvalidArgumentError("quantity: bad exponent in \"" + s + "\"");
    return v * std::pow(10.0, static_cast<double>(exp));
  }
  return InvalidArgumentError("quantity: unknown suffix \"" + suffix + "\" in \"" + s + "\"");
}

StatusOr<double> ParseDurationSeconds(std::string_view text) {
  std::string s(text);
  if (s.empty()) return InvalidArgumentError("duration: empty string");
  char* end = nullptr;
  double plain = std::strtod(s.c_str(), &end);
  if (end == s.c_str() + s.size()) {
    if (!std::isfinite(plain) || plain < 0) {
      return InvalidArgumentError("duration: must be a non-negative number: \"" + s + "\"");
    }
    return plain;
  }
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return InvalidArgumentError("duration: expected a number in \"" + s + "\"");
    double n = std::strtod(s.substr(start, i - start).c_str(), nullptr);
    size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = s.substr(ustart, i - ustart);
    std::optional<double> mult = Lookup(kDurationUnits, unit);
    if (!mult) {
      return InvalidArgumentError("duration: unknown unit \"" + unit + "\" in \"" + s +
                                  "\" (use ms, s, m, h, d, w)");
    }
    total += n * *mult;
  }
  return total;
}

std::string FormatDurationHuman(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  char buf[64];
  bool neg = seconds < 0;
  long long s = std::llround(std::fabs(seconds));
  const char* sign = neg ? "-" : "";
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%s%llds", sign, s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%s%lldm%02llds", sign, s / 60, s % 60);
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%s%lldh%02lldm", sign, s / 3600, (s % 3600) / 60);
  else
    std::snprintf(buf, sizeof buf, "%s%lldd%02lldh", sign, s / 86400, (s % 86400) / 3600);
  return buf;
}

std::string FormatBytesHuman(double bytes) {
  if (!std::isfinite(bytes)) return "-";
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double a = std::fabs(bytes);
  int u = 0;
  while (a >= 1024 && u < 5) {
    a /= 1024;
    ++u;
  }
  char buf[64];
  const char* sign = bytes < 0 ? "-" : "";
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%s%.0f%s", sign, a, kUnits[u]);
  else if (a < 10)
    std::snprintf(buf, sizeof buf, "%s%.2f%s", sign, a, kUnits[u]);
  else if (a < 100)
    std::snprintf(buf, sizeof buf, "%s%.1f%s", sign, a, kUnits[u]);
  else
    std::snprintf(buf, sizeof buf, "%s%.0f%s", sign, a, kUnits[u]);
  return buf;
}

std::string FormatRfc3339(double unix_seconds) {
  std::time_t secs = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

StatusOr<double> ParseTimestamp(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (!s.empty() && *end == '\0' && std::isfinite(v)) return v;
  int y, mo, d, h, mi;
  double sec;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &consumed) !=
      6) {
    return InvalidArgumentError("time \"" + s +
                                "\": want Unix seconds or RFC 3339 (2026-01-01T00:00:00Z)");
  }
  std::string zone = s.substr(consumed);
  double offset = 0;
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    offset = (std::stoi(zone.substr(1, 2)) * 3600 + std::stoi(zone.substr(4, 2)) * 60) *
             (zone[0] == '-' ? -1 : 1);
  } else {
    return InvalidArgumentError("time \"" + s + "\": missing or bad zone (Z or +hh:mm)");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return static_cast<double>(timegm(&tm)) + sec - offset;
}

}  // namespace oomcast
