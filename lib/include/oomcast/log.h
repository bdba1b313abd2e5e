// Minimal structured logging in logfmt to stderr:
//   ts=2026-01-01T00:00:00.000Z level=warn msg="query failed" backend=http://... err="..."
// Thread-safe. The level is process-wide (SetLogLevel); messages below it are dropped.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace oomcast {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn", "error"; returns false (and leaves *out) on anything else.
bool ParseLogLevel(std::string_view text, LogLevel* out);
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

using LogField = std::pair<std::string_view, std::string>;

// Writes one line if `level` is enabled. Values are quoted when they contain spaces or quotes.
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

inline void LogDebug(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kDebug, m, f);
}
inline void LogInfo(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kInfo, m, f);
}
inline void LogWarn(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kWarn, m, f);
}
inline void LogError(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kError, m, f);
}

}  // namespace oomcast
