#pragma once
// Request bytes -> nlohmann::json, through simdjson. nlohmann's own parser spends ~240 us on a
// 1,024-number feature (strtod per digit string), more than the 1:N search it feeds; simdjson
// parses the same request in ~10 us. Handlers keep working on nlohmann::json values.
#include <string_view>

#include <nlohmann/json.hpp>

namespace facekit::server {

/// The JSON value in `bytes`, or a discarded value (`is_discarded()`) when they are not valid
/// JSON or nest deeper than 1,024 levels. Integers read as nlohmann's parser reads them
/// (non-negative ones unsigned); a duplicate key keeps its last value. Thread-safe.
nlohmann::json read_json(std::string_view bytes);

}  // namespace facekit::server
