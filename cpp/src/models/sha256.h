#pragma once
#include <string>

namespace facekit::models {
/// Lower-case hex SHA-256 of a file's bytes; throws Error(kModelUnavailable) if unreadable.
std::string sha256_file(const std::string& path);
/// Lower-case hex SHA-256 of a string's bytes.
std::string sha256_text(const std::string& text);
}  // namespace facekit::models
