#pragma once
// Typed access to request fields: a missing field or a wrong type is 10005, an image that is
// not valid base64 or not an image is 10007. Validation of the whole request happens before
// any image is decoded, so the spec's precedence holds.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facekit/engine.h"
#include "facekit/person.h"
#include "facekit/registry.h"
#include "facekit/tracker.h"
#include "protocol.h"

namespace facekit::server {

using Json = nlohmann::json;

[[noreturn]] inline void bad(const std::string& why) { throw ProtocolError{kBadParameter, why}; }

const Json& field(const Json& r, const char* name);              // required
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
/// Checks an image array holds only strings (10005).
void check_image_strings(const Json& images);
/// Decodes one base64 image (10007 on failure).
Image decode(const Json& image_b64, const DecodeOptions& options);

Json landmark_json(const Landmarks5& l);

/// What handlers use.
struct HandlerContext {
  const Engine& engine;
  Registry& registry;
  const ServerConfig& config;
  DecodeOptions decode;
  CameraTracks& cameras;  ///< track mode of interface 5
};

void add_pedestrian_handler(Protocol& protocol, const HandlerContext& ctx, const PersonDetector& people);
void add_face_handlers(Protocol& protocol, const HandlerContext& ctx, std::shared_ptr<RateLimiter> limited);
void add_liveness_handler(Protocol& protocol, const HandlerContext& ctx);
void add_registry_handlers(Protocol& protocol, const HandlerContext& ctx, std::shared_ptr<RateLimiter> limited,
                           std::shared_ptr<RateLimiter> register_limit);

}  // namespace facekit::server
