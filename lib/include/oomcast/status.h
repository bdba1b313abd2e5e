// Errors as values: Status and StatusOr<T>, after leveldb's Status and abseil's StatusOr.
//
// A Status is either OK or carries a code and a message that names what failed (which backend,
// which query, which config key). Codes follow abseil/gRPC meanings; kUnavailable and
// kDeadlineExceeded mean "retry with back-off", every other non-OK code is final for the call.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace oomcast {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // The caller's input is malformed (bad selector, bad config value).
  kNotFound,            // The named thing does not exist (unknown metric, missing object).
  kAlreadyExists,       // A create raced with another create.
  kFailedPrecondition,  // The system is not in a state to do this (no data yet).
  kAborted,             // A write lost an optimistic-concurrency race (HTTP 409): re-read.
  kUnavailable,         // The backend could not be reached or answered 5xx: retry later.
  kDeadlineExceeded,    // The backend did not answer in time: retry later.
  kResourceExhausted,   // A size cap or rate limit was hit (response too large, HTTP 429).
  kUnauthenticated,     // No or bad credentials (HTTP 401).
  kPermissionDenied,    // Credentials are fine but not allowed (HTTP 403).
  kDataLoss,            // The peer sent a truncated or malformed response.
  kInternal,            // A bug or an unexpected state.
};

// Stable lowercase name of a code ("unavailable"); used as a metric label value.
std::string_view StatusCodeName(StatusCode code);

// [[nodiscard]]: a function returning a Status (or StatusOr) whose result is dropped is a
// compiler warning. Handle it, or drop it deliberately with IgnoreError() and a comment saying
// why nothing is lost.
class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True for codes a caller may retry with back-off (kUnavailable, kDeadlineExceeded).
  bool retryable() const;

  // Returns a copy whose message is "context: message"; OK stays OK.
  Status WithContext(std::string_view context) const;

  // "unavailable: prometheus http://...: connection refused"; "ok" when OK.
  std::string ToString() const;

  // Drops this status on purpose (say why where it is called).
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status AbortedError(std::string m) { return Status(StatusCode::kAborted, std::move(m)); }
inline Status UnavailableError(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status DeadlineExceededError(std::string m) {
  return Status(StatusCode::kDeadlineExceeded, std::move(m));
}
inline Status ResourceExhaustedError(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status UnauthenticatedError(std::string m) {
  return Status(StatusCode::kUnauthenticated, std::move(m));
}
inline Status PermissionDeniedError(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status DataLossError(std::string m) { return Status(StatusCode::kDataLoss, std::move(m)); }
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

// Holds either a T or a non-OK Status. Accessing value() of an error is a bug (asserts).
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : v_(value) {}        // NOLINT: implicit by design.
  StatusOr(T&& value) : v_(std::move(value)) {}  // NOLINT
  StatusOr(const Status& status) : v_(status) {  // NOLINT
    assert(!status.ok() && "StatusOr built from an OK Status");
  }
  StatusOr(Status&& status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // Drops this result on purpose (say why where it is called).
  void IgnoreError() const {}

 private:
  std::variant<Status, T> v_;
};

}  // namespace oomcast

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define OOMCAST_RETURN_IF_ERROR(expr) \
  do {                                \
    ::oomcast::Status _st = (expr);   \
    if (!_st.ok()) return _st;        \
  } while (0)
