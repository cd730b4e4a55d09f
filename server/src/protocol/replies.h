#pragma once
// Typed replies: what each handler answers, and the one place each becomes the spec's JSON
// (field names, rounding, success codes).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facekit/liveness.h"
#include "facekit/person.h"
#include "facekit/tracker.h"
#include "facekit/types.h"
#include "protocol/wire_codes.h"

namespace facekit::server {

/// Interface 0. `versions`: on a shared registry, the group versions after the write.
struct RegisterReply {
  struct Failure {
    std::string face_id, group_id;
    WireCode code;
  };
  std::vector<Failure> failed;
  std::optional<std::map<std::string, int64_t>> versions;
};

struct SearchReply {
  struct Hit {
    std::string face_id;
    float score;
  };
  std::vector<Hit> hits;  ///< best first, all at or above the threshold
};

struct DeleteReply {
  size_t deleted = 0;
  std::optional<int64_t> version;
};

struct QueryReply {
  bool present = false;
};

struct CompareReply {
  float score = 0;
  bool same = false;
};

struct DetectReply {
  struct Found {
    Face face;
    std::optional<HairStyle> hair;
    bool gender = false, age = false;  ///< attributes asked for (face.attributes holds them)
  };
  std::vector<Found> faces;
};

struct TrackReply {
  std::string image_id;
  TrackUpdate update;
};

struct FeaturesReply {
  std::vector<Feature> features;
  int dimension = 0;
};

struct GenderReply {
  std::vector<FaceAttributes> attributes;
};
struct AgeReply {
  std::vector<FaceAttributes> attributes;
};
struct HairReply {
  std::vector<HairStyle> styles;
};

struct LivenessReply {
  std::vector<LiveCheck> checks;
};

struct PedestrianReply {
  std::vector<Person> people;
};

struct CountsReply {
  size_t faces = 0;
  std::optional<std::string> group_id;
};

nlohmann::json to_json(const RegisterReply& r);
nlohmann::json to_json(const SearchReply& r);
nlohmann::json to_json(const DeleteReply& r);
nlohmann::json to_json(const QueryReply& r);
nlohmann::json to_json(const CompareReply& r);
nlohmann::json to_json(const DetectReply& r);
nlohmann::json to_json(const TrackReply& r);
nlohmann::json to_json(const FeaturesReply& r);
nlohmann::json to_json(const GenderReply& r);
nlohmann::json to_json(const AgeReply& r);
nlohmann::json to_json(const HairReply& r);
nlohmann::json to_json(const LivenessReply& r);
nlohmann::json to_json(const PedestrianReply& r);
nlohmann::json to_json(const CountsReply& r);

}  // namespace facekit::server
