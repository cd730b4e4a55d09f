#pragma once
// One line per event on stderr: "time level message". Never logs keys or image bytes.
#include <string>

namespace facekit::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void set_log_level(const std::string& level);
void log_line(LogLevel level, const std::string& message);

}  // namespace facekit::server
