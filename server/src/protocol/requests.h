#pragma once
// Typed requests: one struct per interface, every field validated (types, ranges, lengths,
// precedence of the spec's codes), images still base64 so that nothing is decoded before the
// whole request is known to be valid. Handlers take these structs and never see JSON.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "facekit/liveness.h"
#include "facekit/types.h"
#include "protocol/wire_codes.h"

namespace facekit::server {

using OptionalLandmarks = std::optional<Landmarks5>;

/// Interface 0. A person whose own fields are wrong is not a request error: the spec answers
/// it per person (102), so it carries its code and is never registered.
struct RegisterRequest {
  struct Person {
    std::string face_id, group_id;  ///< as sent; a non-string value as its JSON text
    std::vector<std::string> images;
    std::vector<OptionalLandmarks> landmarks;  ///< one per image
    std::optional<WireCode> invalid;           ///< 10005: this person's fields are wrong
  };
  std::vector<Person> people;
};

/// Interface 1: by a feature, or by 1-3 images.
struct SearchRequest {
  std::string group_id;
  double score = 0;  ///< threshold, 0-100
  int topk = 1;
  int64_t min_version = 0;  ///< 0: no wait
  std::vector<float> feature;  ///< non-empty: search by this feature
  std::vector<std::string> images;
  std::vector<OptionalLandmarks> landmarks;
};

/// Interface 2.
struct DeleteRequest {
  std::string group_id, face_id;
  bool range = false;  ///< every face_id from 0 to face_id
};

/// Interface 3.
struct QueryRequest {
  std::string group_id, face_id;
};

/// Interface 4.
struct CompareRequest {
  std::string images[2];
  OptionalLandmarks landmarks[2];
};

/// Interface 5.
struct DetectRequest {
  enum class Mode { kDetect, kPortrait, kTrack };
  std::string image;
  Mode mode = Mode::kDetect;
  int min_face = 80, max_face = 300;
  bool gender = false, age = false, hair = false;  ///< classify
  std::string camera_id;                  ///< track mode
  std::optional<std::string> image_id;    ///< track mode
};

/// Interfaces 6, 7, 8 and 11 read images (6 also optional landmarks); which one is the
/// variant's alternative.
struct FeaturesRequest {
  std::vector<std::string> images;
  std::vector<OptionalLandmarks> landmarks;
};
struct GenderRequest {
  std::vector<std::string> images;
};
struct AgeRequest {
  std::vector<std::string> images;
};
struct HairRequest {
  std::vector<std::string> images;
};

/// Interface 9.
struct LivenessRequest {
  struct Pair {
    LiveAction action;
    std::string image1, image2;
  };
  std::vector<Pair> pairs;
};

/// Interface 10.
struct PedestrianRequest {
  std::string image;
};

/// Interface 12.
struct CountsRequest {
  std::optional<std::string> group_id;
};

using Request = std::variant<RegisterRequest, SearchRequest, DeleteRequest, QueryRequest, CompareRequest,
                             DetectRequest, FeaturesRequest, GenderRequest, AgeRequest, LivenessRequest,
                             PedestrianRequest, HairRequest, CountsRequest>;

/// What every request carries, read before the body: the interface (10005 if not "0".."12")
/// and the api_key (absent: nullopt; checking it is the protocol's).
struct Envelope {
  int interface_id = -1;
  std::optional<std::string> api_key;
  nlohmann::json document;  ///< the whole request, for the body's parser
};

struct ParseLimits {
  size_t max_request_bytes = 32u << 20;
  int feature_dimension = 0;  ///< interface 1's feature length; 0: any
};

/// Bytes -> envelope: 10005 when over `max_request_bytes`, 10006 when not a JSON object; the
/// interface is read but not checked (the key is checked first: the spec's precedence).
Envelope parse_envelope(std::string_view bytes, const ParseLimits& limits);
/// The interface as the envelope names it: 0-12, or throws 10005.
int interface_of(const Envelope& envelope);
/// Envelope -> the interface's typed request, or throws ProtocolError (10005, 10009). Moves
/// the images out of the envelope's document.
Request parse_body(Envelope& envelope, const ParseLimits& limits);

/// The whole parse, as one function of the bytes (tests, fuzzing): the typed request or the
/// wire error, never an exception.
std::variant<Request, ProtocolError> parse(std::string_view bytes, const ParseLimits& limits);

}  // namespace facekit::server
