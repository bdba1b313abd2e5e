// Command-line flags, shared by every binary: one tokenizer and one set of value conversions,
// so that "--name=value", "--name value", bare boolean flags and the error messages are the
// same everywhere. Each binary keeps its own flag names and applies the values to its options.
//
//   FlagSpec spec;
//   spec.is_bool = [](std::string_view n) { return n == "verbose"; };
//   spec.is_known = [](std::string_view n) { return n == "verbose" || n == "timeout"; };
//   auto parsed = ParseFlags(args, spec);
//   if (!parsed.ok()) return parsed.status();
//   for (const auto& [name, value] : parsed->flags) {
//     if (name == "timeout") {
//       auto d = FlagDuration(name, value);
//       if (!d.ok()) return d.status();
//       timeout_s = *d;
//     }
//   }
//
// Thread-safe (no state). Every error is kInvalidArgument and names the flag as the user wrote
// it ("--timeout: ..."), so a binary can print it and exit 2.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oomcast/status.h"

namespace oomcast {

// What a binary accepts. Names are without leading dashes.
struct FlagSpec {
  // Flags that take no value: "--name" means "--name=true". "--name=false" and a following
  // separate "true" or "false" ("--name false") also set the value. Null: none.
  std::function<bool(std::string_view)> is_bool;
  // Names the binary knows; an unknown "--name" is an error ("unknown flag --name") before any
  // value is consumed. Null: every name is accepted (the caller checks).
  std::function<bool(std::string_view)> is_known;
  // Single-dash short names and the long name each stands for ({"o", "output"}, {"h", "help"});
  // a short name always takes the next argument unless its long name is boolean.
  std::map<std::string, std::string, std::less<>> short_names;
  // Arguments that are not flags ("once", "FILE", "-"): collected in order when true, else an
  // error ("unexpected argument \"x\"").
  bool allow_positional = false;
};

struct ParsedFlags {
  std::vector<std::string> positional;
  // Every flag in the order given (a repeated flag appears as often as it was given), by long
  // name; boolean flags given bare have the value "true".
  std::vector<std::pair<std::string, std::string>> flags;
  // "--help", "-h" or "--help=true" was given (never in `flags`).
  bool help = false;
};

// Splits `args` (argv without argv[0]). A lone "--" is not special. Errors: unknown flag,
// missing value (a value flag last), a single-dash argument that is not a short name (when
// positional arguments are allowed, "-" alone is positional).
StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args, const FlagSpec& spec);

// Value conversions. `flag` is the long name without dashes, used in the error message.
// A Go/Prometheus duration ("90s", "1h30m", "2d"; a bare number is seconds), in seconds.
StatusOr<double> FlagDuration(std::string_view flag, std::string_view value);
// Same, and > 0.
StatusOr<double> FlagPositiveDuration(std::string_view flag, std::string_view value);
// A whole decimal number in [lo, hi].
StatusOr<int64_t> FlagInteger(std::string_view flag, std::string_view value, int64_t lo,
                              int64_t hi);
// A decimal number in [lo, hi] (NaN rejected).
StatusOr<double> FlagNumber(std::string_view flag, std::string_view value, double lo, double hi);
// "true"/"1" or "false"/"0".
StatusOr<bool> FlagBool(std::string_view flag, std::string_view value);
// A Kubernetes quantity of bytes ("512Mi", "1G", "100"), >= 0.
StatusOr<int64_t> FlagBytes(std::string_view flag, std::string_view value);
// One of `choices` exactly; the error lists them.
StatusOr<std::string> FlagChoice(std::string_view flag, std::string_view value,
                                 const std::vector<std::string>& choices);
// Comma-separated values, empty items dropped ("a,,b" -> {"a", "b"}).
std::vector<std::string> FlagList(std::string_view value);

// One line of a help text: "  --name ARG" padded to a column, then the description, whose
// further lines (after '\n') are indented to that column.
struct FlagHelp {
  std::string names;        // "--timeout D" or "-o, --output table|json"
  std::string description;  // May hold '\n' for continuation lines.
};
// The lines of `flags`, each ending in '\n'; the description column is 40 (names longer than
// 37 characters get their description on the next line).
std::string FormatFlagHelp(const std::vector<FlagHelp>& flags);

}  // namespace oomcast
