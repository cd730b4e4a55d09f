#pragma once
// Request bytes -> nlohmann::json, through simdjson. nlohmann's own parser spends ~180 us on a
// 1,024-number feature request (strtod per number); this reader ~22 us, conversion included
// (bench/server/bench_json.cpp). Handlers keep working on nlohmann::json values.
#include <string_view>

#include <nlohmann/json.hpp>

namespace facekit::server {

/// The JSON value in `bytes`, or a discarded value (`is_discarded()`) when they are not valid
/// JSON or nest deeper than 1,024 levels. Integers read as nlohmann's parser reads them
/// (non-negative ones unsigned); a duplicate key keeps its last value. Thread-safe.
nlohmann::json read_json(std::string_view bytes);

}  // namespace facekit::server
