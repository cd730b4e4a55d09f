// Interfaces 4 (1:1 compare), 5 (detection, track mode), 6 (features), 7 (gender), 8 (age), 11 (hair).
#include <atomic>
#include <chrono>

#include "handlers/handlers.h"

namespace facekit::server {

namespace {

/// The largest face's landmarks, or the client's.
Landmarks5 face_of(const HandlerContext& ctx, const Image& img, const OptionalLandmarks& given) {
  return given ? *given : ctx.engine.largest_face_landmarks(img);
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

DetectOptions detect_options(const DetectRequest& r) {
  DetectOptions o;
  o.min_face = r.min_face;
  o.max_face = r.max_face;
  o.portrait = r.mode == DetectRequest::Mode::kPortrait;
  return o;
}

/// The largest face of each image, through `answer(image, face)`.
template <typename Answer>
void per_image(const HandlerContext& ctx, const std::vector<std::string>& images, Answer answer,
               bool attributes = false) {
  for (const auto& i : images) {
    const Image img = decode(i, ctx.decode);
    answer(img, ctx.engine.largest_face(img, attributes));
  }
}

/// Gender and age of the largest face of each image, read from that face's own mesh: the path
/// docs/ACCURACY.md measures. Re-meshing from its 5 points (Engine::attributes) cost two more
/// FaceMesh runs and read worse on the UTK chips (age MAE 4.55 vs 4.30, gender 0.887 vs 0.912).
std::vector<FaceAttributes> attributes_of_largest(const HandlerContext& ctx, const std::vector<std::string>& images) {
  std::vector<FaceAttributes> out;
  per_image(ctx, images, [&](const Image&, const Face& f) { out.push_back(*f.attributes); }, /*attributes=*/true);
  return out;
}

}  // namespace

TrackReply track(const HandlerContext& ctx, const DetectRequest& r) {
  static std::atomic<uint64_t> frames{0};
  const int64_t now = now_ms();
  TrackReply reply;
  reply.image_id = r.image_id.value_or(std::to_string(now) + "-" + std::to_string(++frames));
  const Image img = decode(r.image, ctx.decode);
  reply.update = ctx.cameras.update(r.camera_id, img, reply.image_id, now, detect_options(r));
  return reply;
}

CompareReply compare(const HandlerContext& ctx, const CompareRequest& r) {
  std::vector<Feature> feats;
  for (size_t i = 0; i < 2; ++i) {
    const Image img = decode(r.images[i], ctx.decode);
    feats.push_back(ctx.engine.extract(img, face_of(ctx, img, r.landmarks[i])));
  }
  CompareReply reply;
  reply.score = ctx.engine.score(feats[0], feats[1]);
  reply.same = reply.score >= ctx.config.compare_threshold;
  return reply;
}

DetectReply detect(const HandlerContext& ctx, const DetectRequest& r) {
  DetectOptions o = detect_options(r);
  o.attributes = r.gender || r.age;
  const Image img = decode(r.image, ctx.decode);
  const auto faces = ctx.engine.detect(img, o);
  if (faces.empty()) throw ProtocolError{kNoFace, "no face"};
  DetectReply reply;
  for (const auto& f : faces) {
    DetectReply::Found found{f, std::nullopt, r.gender, r.age};
    if (r.hair) found.hair = ctx.engine.hair_style(img, f);
    reply.faces.push_back(std::move(found));
  }
  return reply;
}

FeaturesReply features(const HandlerContext& ctx, const FeaturesRequest& r) {
  std::vector<Image> decoded;
  std::vector<Landmarks5> faces;
  for (size_t i = 0; i < r.images.size(); ++i) {
    decoded.push_back(decode(r.images[i], ctx.decode));
    faces.push_back(face_of(ctx, decoded.back(), r.landmarks[i]));
  }
  FeaturesReply reply;
  reply.features = ctx.engine.extract_batch(decoded, faces);  // one descriptor batch
  reply.dimension = ctx.engine.dimension();
  return reply;
}

GenderReply gender(const HandlerContext& ctx, const GenderRequest& r) {
  GenderReply reply;
  reply.attributes = attributes_of_largest(ctx, r.images);
  return reply;
}

AgeReply age(const HandlerContext& ctx, const AgeRequest& r) {
  AgeReply reply;
  reply.attributes = attributes_of_largest(ctx, r.images);
  return reply;
}

HairReply hair(const HandlerContext& ctx, const HairRequest& r) {
  HairReply reply;
  per_image(ctx, r.images, [&](const Image& img, const Face& f) { reply.styles.push_back(ctx.engine.hair_style(img, f)); });
  return reply;
}

}  // namespace facekit::server
