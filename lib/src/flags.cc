#include "oomcast/flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "oomcast/units.h"

namespace oomcast {
namespace {

std::string Dashed(std::string_view flag) { return "--" + std::string(flag); }

bool IsBool(const FlagSpec& spec, std::string_view name) {
  return name == "help" || (spec.is_bool && spec.is_bool(name));
}

bool IsKnown(const FlagSpec& spec, std::string_view name) {
  return name == "help" || !spec.is_known || spec.is_known(name) || IsBool(spec, name);
}

}  // namespace

StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args, const FlagSpec& spec) {
  ParsedFlags out;
  auto add = [&out](std::string name, std::string value) {
    if (name == "help") {
      out.help = value != "false";
    } else {
      out.flags.emplace_back(std::move(name), std::move(value));
    }
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string name;
    std::string value;
    bool has_value = false;
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      name = a.substr(2);
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
        has_value = true;
      }
    } else if (a.size() > 1 && a[0] == '-' && a[1] != '-') {
      auto it = spec.short_names.find(std::string_view(a).substr(1));
      if (it == spec.short_names.end()) return InvalidArgumentError("unknown flag \"" + a + "\"");
      name = it->second;
    } else if (spec.allow_positional) {
      out.positional.push_back(a);
      continue;
    } else {
      return InvalidArgumentError("unexpected argument \"" + a + "\" (flags start with --)");
    }
    if (!IsKnown(spec, name)) return InvalidArgumentError("unknown flag " + Dashed(name));
    if (!has_value) {
      if (IsBool(spec, name)) {
        value = "true";
        if (i + 1 < args.size() && (args[i + 1] == "true" || args[i + 1] == "false")) {
          value = args[++i];
        }
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return InvalidArgumentError(Dashed(name) + ": missing value");
      }
    }
    add(std::move(name), std::move(value));
  }
  return out;
}

StatusOr<double> FlagDuration(std::string_view flag, std::string_view value) {
  auto d = ParseDurationSeconds(value);
  if (!d.ok()) return InvalidArgumentError(Dashed(flag) + ": " + d.status().message());
  return *d;
}

StatusOr<double> FlagPositiveDuration(std::string_view flag, std::string_view value) {
  auto d = FlagDuration(flag, value);
  if (d.ok() && !(*d > 0)) {
    return InvalidArgumentError(Dashed(flag) + ": must be a positive duration, got \"" +
                                std::string(value) + "\"");
  }
  return d;
}

StatusOr<int64_t> FlagInteger(std::string_view flag, std::string_view value, int64_t lo,
                              int64_t hi) {
  std::string v(value);
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE || n < lo || n > hi) {
    return InvalidArgumentError(Dashed(flag) + ": must be an integer in [" + std::to_string(lo) +
                                ", " + std::to_string(hi) + "], got \"" + v + "\"");
  }
  return static_cast<int64_t>(n);
}

StatusOr<double> FlagNumber(std::string_view flag, std::string_view value, double lo, double hi) {
  std::string v(value);
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(x >= lo && x <= hi)) {
    std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    if (lo == 0 && hi == 1) range = "[0, 1]";
    return InvalidArgumentError(Dashed(flag) + ": must be a number in " + range + ", got \"" + v +
                                "\"");
  }
  return x;
}

StatusOr<bool> FlagBool(std::string_view flag, std::string_view value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return InvalidArgumentError(Dashed(flag) + ": must be true or false, got \"" +
                              std::string(value) + "\"");
}

StatusOr<int64_t> FlagBytes(std::string_view flag, std::string_view value) {
  auto q = ParseQuantity(value);
  if (!q.ok()) return InvalidArgumentError(Dashed(flag) + ": " + q.status().message());
  if (!(*q >= 0) || *q > 9.2e18) {
    return InvalidArgumentError(Dashed(flag) +
                                ": must be a non-negative quantity of bytes, got \"" +
                                std::string(value) + "\"");
  }
  return static_cast<int64_t>(std::ceil(*q));
}

StatusOr<std::string> FlagChoice(std::string_view flag, std::string_view value,
                                 const std::vector<std::string>& choices) {
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == value) return choices[i];
    list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  }
  return InvalidArgumentError(Dashed(flag) + ": must be " + list + ", got \"" + std::string(value) +
                              "\"");
}

std::vector<std::string> FlagList(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    std::string_view part = value.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string FormatFlagHelp(const std::vector<FlagHelp>& flags) {
  constexpr size_t kColumn = 40;
  const std::string indent(kColumn, ' ');
  std::string out;
  for (const auto& f : flags) {
    std::string line = "  " + f.names;
    if (f.description.empty()) {
      out += line + "\n";
      continue;
    }
    if (line.size() + 1 > kColumn) {
      out += line + "\n" + indent;
    } else {
      out += line + std::string(kColumn - line.size(), ' ');
    }
    for (char c : f.description) {
      out += c;
      if (c == '\n') out += indent;
    }
    out += "\n";
  }
  return out;
}

}  // namespace oomcast
