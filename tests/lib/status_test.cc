#include "oomcast/status.h"

#include <catch2/catch.hpp>

namespace oomcast {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

Status Chain(int x) {
  OOMCAST_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST_CASE("Status carries code, message and context") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.ToString() == "ok");
  Status s = UnavailableError("connection refused").WithContext("backend prom");
  CHECK_FALSE(s.ok());
  CHECK(s.retryable());
  CHECK(s.ToString() == "unavailable: backend prom: connection refused");
  CHECK_FALSE(InvalidArgumentError("x").retryable());
  CHECK(DeadlineExceededError("x").retryable());
  CHECK(StatusCodeName(StatusCode::kDataLoss) == "data_loss");
}

TEST_CASE("StatusOr holds a value or an error") {
  auto a = Half(4);
  REQUIRE(a.ok());
  CHECK(*a == 2);
  auto b = Half(3);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == StatusCode::kInvalidArgument);
  CHECK(b.status().message() == "odd: 3");
  CHECK(Chain(4).ok());
  CHECK(Chain(5).code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace oomcast
