#pragma once
// Reading one field of a request's JSON: a missing field or a wrong type is 10005. Used by
// the request parsers only; handlers see typed requests (requests.h).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facekit/types.h"
#include "protocol/wire_codes.h"

namespace facekit::server {

using Json = nlohmann::json;

[[noreturn]] inline void bad(const std::string& why) { throw ProtocolError{kBadParameter, why}; }

const Json& field(const Json& r, const char* name);  // required
const std::string& string_field(const Json& r, const char* name);
const Json& array_field(const Json& r, const char* name);
std::optional<std::string> optional_string(const Json& r, const char* name);
double number_field(const Json& r, const char* name, double lo, double hi);
int int_field(const Json& r, const char* name, int lo, int hi);
std::optional<int> optional_int(const Json& r, const char* name, int lo, int hi);

/// `{x:[5], y:[5]}` -> landmarks (10005 if malformed).
Landmarks5 parse_landmarks(const Json& j);
/// The optional `landmarks` array, one entry (or null) per image; empty if absent.
std::vector<std::optional<Landmarks5>> optional_landmarks(const Json& r, size_t images);
/// An image array's base64 strings, moved out of the request (10005 if one is not a string).
std::vector<std::string> take_image_strings(Json& images);

}  // namespace facekit::server
