#include "oomcast/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>

#include "oomcast/escape.h"
#include "oomcast/lookup_table.h"

namespace oomcast {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_mu;

// The first name of a level is the one written; both are read.
constexpr std::pair<LogLevel, std::string_view> kLevelNames[] = {{LogLevel::kDebug, "debug"},
                                                                 {LogLevel::kInfo, "info"},
                                                                 {LogLevel::kWarn, "warn"},
                                                                 {LogLevel::kWarn, "warning"},
                                                                 {LogLevel::kError, "error"}};

// Values are quoted when they hold a space, '"', '=', '\\' or any byte outside printable ASCII;
// inside quotes, control characters (C0, DEL) and bytes >= 0x80 are escaped (\n, \r, \t,
// \xHH), so a value from the network can neither forge a log line nor carry terminal escapes.
void AppendValue(std::string* out, std::string_view v) {
  bool quote = v.empty();
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '=' || c == '\\') quote = true;
  }
  if (!quote) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::string_view e = BackslashEscape(c); !e.empty()) {
      out->append(e);
      continue;
    }
    if (c < 0x20 || c >= 0x7F) {
      static const char* kHex = "0123456789abcdef";
      out->append("\\x");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
      continue;
    }
    out->push_back(ch);
  }
  out->push_back('"');
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  std::optional<LogLevel> level = ReverseLookup(kLevelNames, text);
  if (level) *out = *level;
  return level.has_value();
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  int ms = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  std::string line = "ts=";
  line += ts;
  line += " level=";
  line += Lookup(kLevelNames, level).value_or("info");
  line += " msg=";
  AppendValue(&line, msg);
  for (const auto& [k, v] : fields) {
    line.push_back(' ');
    line.append(k);
    line.push_back('=');
    AppendValue(&line, v);
  }
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace oomcast
