#include "log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace facekit::server {

namespace {
LogLevel g_level = LogLevel::kInfo;
std::mutex g_mutex;
const char* name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void set_log_level(const std::string& level) {
  if (level == "debug") g_level = LogLevel::kDebug;
  else if (level == "warn") g_level = LogLevel::kWarn;
  else if (level == "error") g_level = LogLevel::kError;
  else g_level = LogLevel::kInfo;
}

void log_line(LogLevel level, const std::string& message) {
  if (level < g_level) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "%s.%03dZ %s %s\n", stamp, ms, name(level), message.c_str());
  std::fflush(stderr);
}

}  // namespace facekit::server
