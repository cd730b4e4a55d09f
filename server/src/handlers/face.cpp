// Interfaces 4 (1:1 compare), 5 (detection, track mode), 6 (features), 7 (gender), 8 (age), 11 (hair).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <sstream>

#include "facekit/error.h"
#include "facekit/image.h"
#include "handlers/request.h"

namespace facekit::server {

namespace {

Json round2(float v) { return std::round(static_cast<double>(v) * 100.0) / 100.0; }

/// The images array of interfaces 6 / 7 / 8: non-empty, strings.
const Json& image_array(const Json& r) {
  const Json& images = array_field(r, "image_base64");
  if (images.empty()) throw ProtocolError{kEmptyArray, "image_base64 is empty"};
  check_image_strings(images);
  return images;
}

/// The largest face's landmarks, or the client's.
Landmarks5 face_of(const HandlerContext& ctx, const Image& img, const std::optional<Landmarks5>& given) {
  return given ? *given : ctx.engine.largest_face_landmarks(img);
}

Json face_json(const Face& f) {
  Json j = {{"left", static_cast<int>(std::lround(f.box.left))},
            {"top", static_cast<int>(std::lround(f.box.top))},
            {"width", static_cast<int>(std::lround(f.box.width))},
            {"height", static_cast<int>(std::lround(f.box.height))},
            {"landmark", landmark_json(f.landmarks)},
            {"score", f.score},
            {"sideFace", f.quality.side_face ? 1 : 0},
            {"quality", f.quality.good ? 1 : 0},
            {"pitch", round2(f.quality.pitch)},
            {"yaw", round2(f.quality.yaw)},
            {"roll", round2(f.quality.roll)},
            {"blur", round2(f.quality.blur)},
            {"illu", round2(f.quality.illu)},
            {"glasses", f.glasses ? 1 : 0}};
  // Extension: which glasses (docs/PROTOCOL.md).
  if (f.glasses) j["glasses_kind"] = f.glasses_kind == GlassesKind::kSunglasses ? "sunglasses" : "eyeglasses";
  return j;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Track mode: this frame's faces with their track ids, and the tracks that ended.
void detect_track(const HandlerContext& ctx, const Json& r, const DetectOptions& o, Json& reply) {
  static std::atomic<uint64_t> frames{0};
  const std::string camera = string_field(r, "camera_id");
  if (camera.empty()) bad("camera_id is empty");
  const int64_t now = now_ms();
  const std::string image_id =
      optional_string(r, "image_id").value_or(std::to_string(now) + "-" + std::to_string(++frames));
  const Image img = decode(field(r, "image_base64"), ctx.decode);
  const TrackUpdate u = ctx.cameras.update(camera, img, image_id, now, o);
  Json list = Json::array();
  for (const auto& t : u.faces) {
    Json j = face_json(t.face);
    j["track_id"] = t.track_id;
    list.push_back(std::move(j));
  }
  Json ended = Json::array();
  for (const auto& t : u.ended) {
    Json j = face_json(t.best_face);
    j.erase("pitch");
    j.erase("yaw");
    j.erase("roll");
    j.erase("blur");
    j.erase("illu");
    j["track_id"] = t.track_id;
    j["image_id"] = t.best_image_id;
    j["inTime"] = std::to_string(t.in_ms);
    j["bestTime"] = std::to_string(t.best_ms);
    j["outTime"] = std::to_string(t.out_ms);
    j["image_base64"] = encode_base64(t.best_jpeg);
    ended.push_back(std::move(j));
  }
  reply["error_message"] = "601";
  reply["image_id"] = image_id;
  reply["detect_nums"] = u.faces.size();
  reply["face_nums"] = u.faces.size();
  reply["detect"] = std::move(list);
  reply["track_nums"] = u.ended.size();
  reply["track"] = std::move(ended);
}

void compare(const HandlerContext& ctx, const Json& r, Json& reply) {
  const Json& images = array_field(r, "image_base64");
  if (images.size() != 2) bad("image_base64 must hold exactly 2 images");
  check_image_strings(images);
  const auto landmarks = optional_landmarks(r, 2);
  std::vector<Feature> feats;
  for (size_t i = 0; i < 2; ++i) {
    const Image img = decode(images[i], ctx.decode);
    feats.push_back(ctx.engine.extract(img, face_of(ctx, img, landmarks[i])));
  }
  const float score = ctx.engine.score(feats[0], feats[1]);
  reply["score"] = round2(score);
  reply["error_message"] = score >= ctx.config.compare_threshold ? "501" : "502";
}

void detect(const HandlerContext& ctx, const Json& r, Json& reply) {
  const std::string& image = string_field(r, "image_base64");
  const auto mode = optional_string(r, "field").value_or("");
  if (!mode.empty() && mode != "portrait" && mode != "track") bad("field must be portrait or track");
  DetectOptions o;
  o.min_face = optional_int(r, "minface_size", 1, 100000).value_or(80);
  o.max_face = optional_int(r, "maxface_size", 1, 100000).value_or(300);
  if (o.min_face >= o.max_face) bad("minface_size must be smaller than maxface_size");
  o.portrait = mode == "portrait";
  bool want_gender = false, want_age = false, want_hair = false;
  if (auto classify = optional_string(r, "classify")) {
    std::stringstream ss(*classify);
    std::string item;
    while (std::getline(ss, item, ',')) {
      item.erase(std::remove_if(item.begin(), item.end(), ::isspace), item.end());
      if (item == "gender") want_gender = true;
      else if (item == "age") want_age = true;
      else if (item == "hair") want_hair = true;
      else if (!item.empty()) bad("classify items are gender, age, hair");
    }
  }
  if (mode == "track") return detect_track(ctx, r, o, reply);  // classify is ignored in track mode
  o.attributes = want_gender || want_age;
  const Image img = decode(Json(image), ctx.decode);
  const auto faces = ctx.engine.detect(img, o);
  if (faces.empty()) throw ProtocolError{kNoFace, "no face"};
  Json list = Json::array();
  for (const auto& f : faces) {
    Json j = face_json(f);
    if (want_hair) j["hair"] = hair_style_name(ctx.engine.hair_style(img, f));
    if (f.attributes) {
      if (want_gender) {
        j["male"] = f.attributes->male;
        j["female"] = f.attributes->female;
      }
      if (want_age) {
        j["age"] = f.attributes->kid ? "kid" : "adult";
        j["age_years"] = round2(f.attributes->age_years);
      }
    }
    list.push_back(std::move(j));
  }
  reply["error_message"] = "601";
  reply["detect_nums"] = faces.size();
  reply["face_nums"] = faces.size();
  reply["detect"] = std::move(list);
}

void features(const HandlerContext& ctx, const Json& r, Json& reply) {
  const Json& images = image_array(r);
  const auto landmarks = optional_landmarks(r, images.size());
  std::vector<Image> decoded;
  std::vector<Landmarks5> faces;
  for (size_t i = 0; i < images.size(); ++i) {
    decoded.push_back(decode(images[i], ctx.decode));
    faces.push_back(face_of(ctx, decoded.back(), landmarks[i]));
  }
  Json out = Json::array();
  for (auto& f : ctx.engine.extract_batch(decoded, faces)) out.push_back(std::move(f));  // one descriptor batch
  reply["error_message"] = "701";
  reply["feature"] = std::move(out);
  reply["dimension"] = ctx.engine.dimension();
}

template <typename Fill>
void per_face_attributes(const HandlerContext& ctx, const Json& r, Json& reply, const char* code, const char* key,
                         Fill fill) {
  const Json& images = image_array(r);
  Json out = Json::array();
  Json years = Json::array();
  for (const auto& i : images) {
    const Image img = decode(i, ctx.decode);
    const auto a = ctx.engine.attributes(img, ctx.engine.largest_face(img).landmarks);
    fill(a, out, years);
  }
  reply["error_message"] = code;
  reply[key] = std::move(out);
  if (!years.empty()) reply["age_years"] = std::move(years);
}

}  // namespace

void add_face_handlers(Protocol& p, const HandlerContext& ctx, std::shared_ptr<RateLimiter> limited) {
  p.add_handler(4, [&ctx](const Json& r, Json& reply) { compare(ctx, r, reply); }, limited);
  p.add_handler(5, [&ctx](const Json& r, Json& reply) { detect(ctx, r, reply); }, limited);
  p.add_handler(6, [&ctx](const Json& r, Json& reply) { features(ctx, r, reply); });
  p.add_handler(7, [&ctx](const Json& r, Json& reply) {
    per_face_attributes(ctx, r, reply, "801", "gender", [](const FaceAttributes& a, Json& out, Json&) {
      out.push_back({{"Female", a.female}, {"Male", a.male}});
    });
  });
  p.add_handler(11, [&ctx](const Json& r, Json& reply) {
    const Json& images = image_array(r);
    Json out = Json::array();
    for (const auto& i : images) {
      const Image img = decode(i, ctx.decode);
      out.push_back(hair_style_name(ctx.engine.hair_style(img, ctx.engine.largest_face(img))));
    }
    reply["error_message"] = "1201";
    reply["hair"] = std::move(out);
  });
  p.add_handler(8, [&ctx](const Json& r, Json& reply) {
    per_face_attributes(ctx, r, reply, "901", "age", [](const FaceAttributes& a, Json& out, Json& years) {
      out.push_back(a.kid ? "kid" : "adult");
      years.push_back(std::round(static_cast<double>(a.age_years) * 10.0) / 10.0);
    });
  });
}

}  // namespace facekit::server
