#include "oomcast/flags.h"

#include <catch2/catch.hpp>

namespace oomcast {
namespace {

using Flag = std::pair<std::string, std::string>;

FlagSpec Spec() {
  FlagSpec spec;
  spec.is_bool = [](std::string_view n) { return n == "verbose"; };
  spec.is_known = [](std::string_view n) {
    return n == "timeout" || n == "name" || n == "size" || n == "output";
  };
  spec.short_names = {{"o", "output"}, {"h", "help"}};
  return spec;
}

TEST_CASE("--flag=value and --flag value give the same flag, in order") {
  auto p = ParseFlags({"--timeout=5s", "--name", "a", "--name=b", "-o", "json"}, Spec());
  REQUIRE(p.ok());
  CHECK(p->flags ==
        std::vector<Flag>{{"timeout", "5s"}, {"name", "a"}, {"name", "b"}, {"output", "json"}});
  CHECK_FALSE(p->help);
  // "=" inside the value stays in the value; an empty value is a value.
  p = ParseFlags({"--name=a=b", "--timeout="}, Spec());
  REQUIRE(p.ok());
  CHECK(p->flags == std::vector<Flag>{{"name", "a=b"}, {"timeout", ""}});
}

TEST_CASE("boolean flags: bare, =value, and a following true or false") {
  auto p = ParseFlags({"--verbose", "--name", "x"}, Spec());
  REQUIRE(p.ok());
  CHECK(p->flags == std::vector<Flag>{{"verbose", "true"}, {"name", "x"}});
  p = ParseFlags({"--verbose=false"}, Spec());
  REQUIRE(p.ok());
  CHECK(p->flags == std::vector<Flag>{{"verbose", "false"}});
  p = ParseFlags({"--verbose", "false", "--verbose", "true"}, Spec());
  REQUIRE(p.ok());
  CHECK(p->flags == std::vector<Flag>{{"verbose", "false"}, {"verbose", "true"}});
}

TEST_CASE("unknown flag is an error naming it, before any value is taken") {
  auto p = ParseFlags({"--timeout", "1s", "--bogus", "--name", "x"}, Spec());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == StatusCode::kInvalidArgument);
  CHECK(p.status().message() == "unknown flag --bogus");
  p = ParseFlags({"-x"}, Spec());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message() == "unknown flag \"-x\"");
  // Without is_known every name is accepted (the caller decides).
  CHECK(ParseFlags({"--anything", "v"}, FlagSpec{}).ok());
}

TEST_CASE("missing value is an error naming the flag") {
  auto p = ParseFlags({"--name", "x", "--timeout"}, Spec());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message() == "--timeout: missing value");
  p = ParseFlags({"-o"}, Spec());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message() == "--output: missing value");
}

TEST_CASE("positional arguments only where allowed") {
  auto p = ParseFlags({"--name", "x", "stray"}, Spec());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message() == "unexpected argument \"stray\" (flags start with --)");
  FlagSpec spec = Spec();
  spec.allow_positional = true;
  p = ParseFlags({"once", "--name", "x", "-", "file"}, spec);
  REQUIRE(p.ok());
  CHECK(p->positional == std::vector<std::string>{"once", "-", "file"});
  CHECK(p->flags == std::vector<Flag>{{"name", "x"}});
}

TEST_CASE("--help, -h and --help=true set help; --help=false does not") {
  for (const char* h : {"--help", "-h", "--help=true"}) {
    auto p = ParseFlags({"--name", "x", h}, Spec());
    REQUIRE(p.ok());
    CHECK(p->help);
    CHECK(p->flags == std::vector<Flag>{{"name", "x"}});  // Never among the flags.
  }
  auto p = ParseFlags({"--help=false"}, Spec());
  REQUIRE(p.ok());
  CHECK_FALSE(p->help);
}

TEST_CASE("durations") {
  CHECK(*FlagDuration("timeout", "1h30m") == 5400);
  CHECK(*FlagDuration("timeout", "90") == 90);
  CHECK(*FlagDuration("timeout", "0s") == 0);
  auto bad = FlagDuration("timeout", "fast");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message().rfind("--timeout: ", 0) == 0);
  CHECK_FALSE(FlagDuration("timeout", "-5s").ok());
  CHECK_FALSE(FlagDuration("timeout", "").ok());
  auto zero = FlagPositiveDuration("sync-period", "0s");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().message() == "--sync-period: must be a positive duration, got \"0s\"");
  CHECK(*FlagPositiveDuration("sync-period", "15s") == 15);
}

TEST_CASE("quantities of bytes") {
  CHECK(*FlagBytes("size", "512Mi") == 512LL << 20);
  CHECK(*FlagBytes("size", "1G") == 1000000000LL);
  CHECK(*FlagBytes("size", "100") == 100);
  auto bad = FlagBytes("size", "12 parsecs");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("--size: ", 0) == 0);
  auto negative = FlagBytes("size", "-1Mi");
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.status().message().rfind("--size: ", 0) == 0);
}

TEST_CASE("integers, numbers, booleans, choices and lists") {
  CHECK(*FlagInteger("port", "8443", 0, 65535) == 8443);
  auto out_of_range = FlagInteger("port", "70000", 0, 65535);
  REQUIRE_FALSE(out_of_range.ok());
  CHECK(out_of_range.status().message() ==
        "--port: must be an integer in [0, 65535], got \"70000\"");
  CHECK_FALSE(FlagInteger("port", "12x", 0, 65535).ok());
  CHECK_FALSE(FlagInteger("port", "", 0, 65535).ok());
  CHECK(*FlagNumber("alarm-risk", "0.25", 0, 1) == 0.25);
  auto risk = FlagNumber("alarm-risk", "1.5", 0, 1);
  REQUIRE_FALSE(risk.ok());
  CHECK(risk.status().message() == "--alarm-risk: must be a number in [0, 1], got \"1.5\"");
  CHECK_FALSE(FlagNumber("alarm-risk", "nan", 0, 1).ok());
  CHECK(*FlagBool("x", "true"));
  CHECK_FALSE(*FlagBool("x", "0"));
  CHECK(FlagBool("x", "yes").status().message() == "--x: must be true or false, got \"yes\"");
  CHECK(*FlagChoice("mode", "rss", {"rss", "workingSet"}) == "rss");
  CHECK(FlagChoice("mode", "x", {"a", "b", "c"}).status().message() ==
        "--mode: must be a, b or c, got \"x\"");
  CHECK(FlagList("a,,b,") == std::vector<std::string>{"a", "b"});
  CHECK(FlagList("").empty());
}

TEST_CASE("help output: names padded to one column, continuation lines indented") {
  std::string help = FormatFlagHelp({
      {"--timeout D", "per-request timeout (default 30s)"},
      {"--a-very-long-flag-name-indeed LONGVALUE", "on the next line"},
      {"-o, --output table|json", "the format\nsecond line"},
      {"--bare", ""},
  });
  const std::string col(40, ' ');
  CHECK(help == "  --timeout D" + std::string(40 - 13, ' ') +
                    "per-request timeout (default 30s)\n"
                    "  --a-very-long-flag-name-indeed LONGVALUE\n" +
                    col + "on the next line\n" + "  -o, --output table|json" +
                    std::string(40 - 25, ' ') + "the format\n" + col + "second line\n" +
                    "  --bare\n");
}

}  // namespace
}  // namespace oomcast
