#include "protocol/replies.h"

#include <cmath>

#include "facekit/image.h"

namespace facekit::server {

using Json = nlohmann::json;

namespace {

Json round2(float v) { return std::round(static_cast<double>(v) * 100.0) / 100.0; }
Json round1(float v) { return std::round(static_cast<double>(v) * 10.0) / 10.0; }

Json with_code(WireCode code) { return {{"error_message", wire_text(code)}}; }

Json landmark_json(const Landmarks5& l) {
  Json x = Json::array(), y = Json::array();
  for (const auto& p : l) {
    x.push_back(round1(p.x));
    y.push_back(round1(p.y));
  }
  return {{"x", x}, {"y", y}};
}

Json box_json(const Box& b) {
  return {{"left", static_cast<int>(std::lround(b.left))},
          {"top", static_cast<int>(std::lround(b.top))},
          {"width", static_cast<int>(std::lround(b.width))},
          {"height", static_cast<int>(std::lround(b.height))}};
}

Json face_json(const Face& f) {
  Json j = box_json(f.box);
  j["landmark"] = landmark_json(f.landmarks);
  j["score"] = f.score;
  j["sideFace"] = f.quality.side_face ? 1 : 0;
  j["quality"] = f.quality.good ? 1 : 0;
  j["pitch"] = round2(f.quality.pitch);
  j["yaw"] = round2(f.quality.yaw);
  j["roll"] = round2(f.quality.roll);
  j["blur"] = round2(f.quality.blur);
  j["illu"] = round2(f.quality.illu);
  j["glasses"] = f.glasses ? 1 : 0;
  // Extension: which glasses (docs/PROTOCOL.md).
  if (f.glasses) j["glasses_kind"] = f.glasses_kind == GlassesKind::kSunglasses ? "sunglasses" : "eyeglasses";
  return j;
}

void add_versions(const std::optional<std::map<std::string, int64_t>>& versions, Json& reply) {
  if (!versions) return;
  if (versions->size() == 1) reply["version"] = versions->begin()->second;
  reply["versions"] = *versions;
}

}  // namespace

Json to_json(const RegisterReply& r) {
  Json reply = with_code(r.failed.empty() ? kRegistered : kRegisteredPartly);
  add_versions(r.versions, reply);
  if (r.failed.empty()) return reply;
  Json ids = Json::array(), groups = Json::array(), codes = Json::array();
  for (const auto& f : r.failed) {
    ids.push_back(f.face_id);
    groups.push_back(f.group_id);
    codes.push_back(wire_text(f.code));
  }
  reply["failed_face_id"] = std::move(ids);
  reply["failed_group_id"] = std::move(groups);
  reply["failed_message"] = std::move(codes);
  return reply;
}

Json to_json(const SearchReply& r) {
  Json reply = with_code(r.hits.empty() ? kNotFound : kFound);
  Json ids = Json::array(), scores = Json::array();
  for (const auto& h : r.hits) {
    ids.push_back(h.face_id);
    scores.push_back(round2(h.score));
  }
  reply["face_id"] = std::move(ids);
  reply["score"] = std::move(scores);
  return reply;
}

Json to_json(const DeleteReply& r) {
  Json reply = with_code(r.deleted > 0 ? kDeleted : kNothingDeleted);
  if (r.version) reply["version"] = *r.version;
  return reply;
}

Json to_json(const QueryReply& r) { return with_code(r.present ? kPresent : kAbsent); }

Json to_json(const CompareReply& r) {
  Json reply = with_code(r.same ? kSamePerson : kDifferentPeople);
  reply["score"] = round2(r.score);
  return reply;
}

Json to_json(const DetectReply& r) {
  Json list = Json::array();
  for (const auto& found : r.faces) {
    Json j = face_json(found.face);
    if (found.hair) j["hair"] = hair_style_name(*found.hair);
    if (const auto& a = found.face.attributes) {
      if (found.gender) {
        j["male"] = a->male;
        j["female"] = a->female;
      }
      if (found.age) {
        j["age"] = a->kid ? "kid" : "adult";
        j["age_years"] = round2(a->age_years);
      }
    }
    list.push_back(std::move(j));
  }
  Json reply = with_code(kDetected);
  reply["detect_nums"] = r.faces.size();
  reply["face_nums"] = r.faces.size();
  reply["detect"] = std::move(list);
  return reply;
}

Json to_json(const TrackReply& r) {
  Json list = Json::array();
  for (const auto& t : r.update.faces) {
    Json j = face_json(t.face);
    j["track_id"] = t.track_id;
    list.push_back(std::move(j));
  }
  Json ended = Json::array();
  for (const auto& t : r.update.ended) {
    Json j = face_json(t.best_face);
    for (const char* key : {"pitch", "yaw", "roll", "blur", "illu"}) j.erase(key);
    j["track_id"] = t.track_id;
    j["image_id"] = t.best_image_id;
    j["inTime"] = std::to_string(t.in_ms);
    j["bestTime"] = std::to_string(t.best_ms);
    j["outTime"] = std::to_string(t.out_ms);
    j["image_base64"] = encode_base64(t.best_jpeg);
    ended.push_back(std::move(j));
  }
  Json reply = with_code(kDetected);
  reply["image_id"] = r.image_id;
  reply["detect_nums"] = r.update.faces.size();
  reply["face_nums"] = r.update.faces.size();
  reply["detect"] = std::move(list);
  reply["track_nums"] = r.update.ended.size();
  reply["track"] = std::move(ended);
  return reply;
}

Json to_json(const FeaturesReply& r) {
  Json reply = with_code(kFeatures);
  reply["feature"] = r.features;
  reply["dimension"] = r.dimension;
  return reply;
}

Json to_json(const GenderReply& r) {
  Json out = Json::array();
  for (const auto& a : r.attributes) out.push_back({{"Female", a.female}, {"Male", a.male}});
  Json reply = with_code(kGenders);
  reply["gender"] = std::move(out);
  return reply;
}

Json to_json(const AgeReply& r) {
  Json out = Json::array(), years = Json::array();
  for (const auto& a : r.attributes) {
    out.push_back(a.kid ? "kid" : "adult");
    years.push_back(round1(a.age_years));
  }
  Json reply = with_code(kAges);
  reply["age"] = std::move(out);
  if (!years.empty()) reply["age_years"] = std::move(years);
  return reply;
}

Json to_json(const HairReply& r) {
  Json out = Json::array();
  for (const auto s : r.styles) out.push_back(hair_style_name(s));
  Json reply = with_code(kHairstyles);
  reply["hair"] = std::move(out);
  return reply;
}

Json to_json(const LivenessReply& r) {
  Json details = Json::array();
  bool all = true;
  for (const auto& c : r.checks) {
    all = all && c.passed;
    details.push_back({{"type", live_action_name(c.action)}, {"passed", c.passed}, {"reason", c.reason}});
  }
  Json reply = with_code(kLiveness);
  reply["lives"] = all ? "live" : "not live";
  reply["details"] = std::move(details);
  return reply;
}

Json to_json(const PedestrianReply& r) {
  Json result = Json::array();
  for (const auto& p : r.people) result.push_back(box_json(p.box));
  Json reply = with_code(kPedestrians);
  reply["person_nums"] = r.people.size();
  reply["result"] = std::move(result);
  return reply;
}

Json to_json(const CountsReply& r) {
  Json reply = with_code(kCounts);
  reply["reg_nums"] = r.faces;
  if (r.group_id) reply["group_id"] = *r.group_id;
  return reply;
}

}  // namespace facekit::server
