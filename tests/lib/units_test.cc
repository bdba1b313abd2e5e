#include "oomcast/units.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

namespace oomcast {
namespace {

std::string Q(double v) {
  auto s = FormatQuantity(v);
  REQUIRE(s.ok());
  return *s;
}

TEST_CASE("FormatQuantity produces canonical Kubernetes quantities") {
  CHECK(Q(0) == "0");
  CHECK(Q(-0.0) == "0");
  CHECK(Q(1) == "1");
  CHECK(Q(1.5) == "1500m");
  CHECK(Q(0.35) == "350m");
  CHECK(Q(0.1) == "100m");
  CHECK(Q(1500) == "1500");
  CHECK(Q(1000) == "1k");
  CHECK(Q(1024) == "1Ki");
  CHECK(Q(1536) == "1536");
  CHECK(Q(12.0 * 1024 * 1024) == "12Mi");
  CHECK(Q(-5.0 * 1024 * 1024) == "-5Mi");
  CHECK(Q(12e6) == "12M");
  CHECK(Q(8.0 * 1024 * 1024 * 1024) == "8Gi");
  CHECK(Q(0.000001) == "1u");
  CHECK(Q(1e-9) == "1n");
  CHECK(Q(1.5e-10) == "1n");    // Finer than 1n rounds up.
  CHECK(Q(-1.5e-10) == "-1n");  // Away from zero.
  CHECK(Q(123.456) == "123456m");
  CHECK(Q(1023) == "1023");
  CHECK(Q(17.0 / 60.0) == "283333334n");  // 0.28333...: finer than 1n, rounded up.
  CHECK(Q(-17.0 / 60.0) == "-283333334n");
  CHECK(Q(0.3) == "300m");  // 0.3 is 0.29999999999999998890 as a double: still 300m.
  CHECK(Q(1e-3) == "1m");
}

TEST_CASE("FormatQuantity rejects only values Kubernetes cannot carry (non-finite)") {
  CHECK_FALSE(FormatQuantity(std::numeric_limits<double>::quiet_NaN()).ok());
  CHECK_FALSE(FormatQuantity(std::numeric_limits<double>::infinity()).ok());
  CHECK_FALSE(FormatQuantity(-std::numeric_limits<double>::infinity()).ok());
}

TEST_CASE("FormatQuantity: large values are canonical and never lost") {
  CHECK(Q(std::ldexp(1.0, 64)) == "16Ei");
  CHECK(Q(-std::ldexp(3.0, 70)) == "-3072Ei");
  CHECK(Q(9.3e18) == "9082031250000000Ki");  // 93 * 10^17 = 9082031250000000 * 1024.
  CHECK(Q(std::ldexp(1.0, 62) + 2048 + 1024) == "4503599627370499Ki");
  CHECK(Q(1e300).size() > 200);  // 1e300 / 2^60, every digit, then "Ei".
  CHECK(Q(1e300).substr(Q(1e300).size() - 2) == "Ei");
  for (double v : {9.2e18, 1e19, 1.5e25, -3e25, 1e300, std::numeric_limits<double>::max(),
                   -std::numeric_limits<double>::max(), std::ldexp(1.0, 62),
                   std::nextafter(std::ldexp(1.0, 62), 0.0)}) {
    auto q = FormatQuantity(v);
    REQUIRE(q.ok());
    auto back = ParseQuantity(*q);
    REQUIRE(back.ok());
    CHECK(*back == Approx(v).epsilon(1e-12));
  }
}

TEST_CASE("ParseQuantity reads every suffix and round-trips FormatQuantity") {
  CHECK(*ParseQuantity("128Mi") == 128.0 * 1024 * 1024);
  CHECK(*ParseQuantity("1.5G") == 1.5e9);
  CHECK(*ParseQuantity("100m") == Approx(0.1));
  CHECK(*ParseQuantity("1e3") == 1000);
  CHECK(*ParseQuantity("-5Ki") == -5120);
  CHECK_FALSE(ParseQuantity("").ok());
  CHECK_FALSE(ParseQuantity("Mi").ok());
  CHECK_FALSE(ParseQuantity("12Xi").ok());
  for (double v : {0.35, 1.5, 12582912.0, 12e6, 123.456, -5242880.0, 7.0}) {
    CHECK(*ParseQuantity(Q(v)) == Approx(v));
  }
}

TEST_CASE("ParseDurationSeconds reads Go and Prometheus durations") {
  CHECK(*ParseDurationSeconds("15m") == 900);
  CHECK(*ParseDurationSeconds("1h30m") == 5400);
  CHECK(*ParseDurationSeconds("500ms") == Approx(0.5));
  CHECK(*ParseDurationSeconds("900") == 900);
  CHECK(*ParseDurationSeconds("2d") == 172800);
  CHECK_FALSE(ParseDurationSeconds("").ok());
  CHECK_FALSE(ParseDurationSeconds("-5").ok());
  CHECK_FALSE(ParseDurationSeconds("5x").ok());
  CHECK_FALSE(ParseDurationSeconds("m").ok());
}

TEST_CASE("Human formatting for tables") {
  CHECK(FormatDurationHuman(45) == "45s");
  CHECK(FormatDurationHuman(872) == "14m32s");
  CHECK(FormatDurationHuman(3 * 3600 + 5 * 60) == "3h05m");
  CHECK(FormatDurationHuman(std::numeric_limits<double>::infinity()) == "-");
  CHECK(FormatBytesHuman(512) == "512B");
  CHECK(FormatBytesHuman(1536) == "1.50KiB");
  CHECK(FormatBytesHuman(734.0 * 1024 * 1024) == "734MiB");
  CHECK(FormatBytesHuman(-12.0 * 1024 * 1024) == "-12.0MiB");
  CHECK(FormatRfc3339(1767225600) == "2026-01-01T00:00:00Z");
}

TEST_CASE("ParseTimestamp reads Unix seconds and RFC 3339") {
  CHECK(*ParseTimestamp("1767225600") == 1767225600);
  CHECK(*ParseTimestamp("1767225600.5") == 1767225600.5);
  CHECK(*ParseTimestamp("2026-01-01T00:00:00Z") == 1767225600);
  CHECK(*ParseTimestamp("2026-01-01T02:00:30+02:00") == 1767225630);
  CHECK(*ParseTimestamp("2026-01-01T00:00:00.250Z") == 1767225600.25);
  CHECK_FALSE(ParseTimestamp("yesterday").ok());
  CHECK_FALSE(ParseTimestamp("2026-01-01T00:00:00").ok());
}

}  // namespace
}  // namespace oomcast
