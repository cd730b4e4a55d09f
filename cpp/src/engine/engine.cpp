// The engine: orchestration of detector -> mesh -> five points -> quality / alignment ->
// descriptor and attributes, batching the faces of one image through each model.
#include "facekit/engine.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "align/align.h"
#include "analyze/age_gender.h"
#include "analyze/dlib_descriptor.h"
#include "analyze/eyes.h"
#include "analyze/faceres.h"
#include "analyze/glasses.h"
#include "analyze/hair.h"
#include "analyze/mesh.h"
#include "analyze/mobilefacenet.h"
#include "analyze/quality.h"
#include "analyze/spoof.h"
#include "detect/blazeface.h"
#include "detect/pyramid.h"
#include "detect/side_view.h"
#include "facekit/error.h"
#include "image/cv_image.h"
#include "models/runtime_impl.h"

namespace facekit {

namespace {

// The score curve: piecewise linear through the cosines where the verification benchmark's
// pooled impostor pairs (ORL, faces-dev and the face-api group photos: 106,729 pairs) have a
// false-accept rate of 1e-1, 1e-2, 1e-3 and 1e-4, mapped onto 50, 60, 70 and 80
// (`bench/accuracy/verification.py --orl`, docs/ACCURACY.md), with -1 -> 0 and 1 -> 100.
struct ScoreCurve {
  std::array<float, 6> cosine, score;
};
// MobileFaceNet + dlib ("accurate") and MobileFaceNet alone ("fast"), 2026-12-01.
constexpr ScoreCurve kFusedCurve{{-1.f, 0.7767f, 0.8223f, 0.8515f, 0.8725f, 1.f}, {0.f, 50.f, 60.f, 70.f, 80.f, 100.f}};
constexpr ScoreCurve kMobileFaceNetCurve{{-1.f, 0.2701f, 0.4095f, 0.4995f, 0.5836f, 1.f},
                                         {0.f, 50.f, 60.f, 70.f, 80.f, 100.f}};
// The earlier descriptors' (faceres + dlib, faceres alone), from the same benchmark on 2026-11-30.
constexpr ScoreCurve kFaceresDlibCurve{{-1.f, 0.7582f, 0.7960f, 0.8238f, 0.8405f, 1.f},
                                       {0.f, 50.f, 60.f, 70.f, 80.f, 100.f}};
constexpr ScoreCurve kFaceresCurve{{-1.f, 0.4846f, 0.5646f, 0.6242f, 0.6650f, 1.f}, {0.f, 50.f, 60.f, 70.f, 80.f, 100.f}};

// Linear interpolation along a monotonic table.
float along(const std::array<float, 6>& from, const std::array<float, 6>& to, float x) {
  x = std::clamp(x, from.front(), from.back());
  size_t i = 1;
  while (i + 1 < from.size() && x > from[i]) ++i;
  return to[i - 1] + (to[i] - to[i - 1]) * (x - from[i - 1]) / (from[i] - from[i - 1]);
}
// Kept crops (registry migration): the ArcFace template at 224 px, 16 px margin, 256 px.
constexpr int kCropSide = 256, kCropTemplateScale = 2, kCropMargin = 16, kCropJpegQuality = 90;
// Mesh face flag below this: not a face (measured on the sample group photos: false
// detections 0.002-0.56, real faces, partial ones included, >= 0.98).
constexpr float kMinFaceProbability = 0.9f;
// The detector's box of a face whose mesh box is min_face: the mesh box side is 1.10x the
// detector's (median; 95th percentile 1.27x) on 50 faces of shared/data (faces-dev, UTK).
constexpr float kDetectorBoxOfMinFace = 0.8f;
// The detector looks a little below min_face: the final size comes from the mesh box.
int detector_min_face(int min_face) { return std::max(8, static_cast<int>(min_face * kDetectorBoxOfMinFace)); }
constexpr float kMeshBoxOfDetectorBox = 1.25f;
// Faces per descriptor model call at most: dlib's batch is twice that, and its first layer's
// output alone is 0.66 MB an image (a 1,000-face extract_batch would hold 1.3 GB at once).
// Past a few faces a bigger batch is no faster (the int8 net: 4.5-5 ms an image from 4 faces).
constexpr size_t kFacesPerDescriptorCall = 16;
// The descriptor's whole-image pass (Impl::big_faces_in_one_pass): 192 px kept verification
// as it was (faces-dev TAR @ FAR 1e-3 0.969, ORL 0.998, `verification.py --orl --one-call`)
// where 128 and 160 px lost one faces-dev pair (0.958); 640x480 extract 29.7 -> 24.8 ms with
// the descriptor lanes (docs/BENCHMARKS.md). Faces from a fifth of the long side (38 px at
// the pass's input): group photos' faces are smaller and take the pyramid.
constexpr int kWholePassSide = 192;
// Neighbouring size bands of the largest-face scan share this factor (Impl::scan_down).
constexpr float kBandOverlap = 1.25f;
constexpr float kWholePassMinShare = 0.2f;
// The side-view detector's score that makes a face of a photo where no face passed FaceMesh's
// flag: at 0.7 it found 4 of the 7 side views the engine had dropped (hair-dev braids,
// AFLW2000 yaw 62-103 degrees) and no non-face in OpenCV's 91 sample images; at 0.5 it found 6 and
// called a capacitor a face (0.69). docs/ACCURACY.md, Profile faces.
constexpr float kSideViewMinScore = 0.7f;
// "kid": an estimated age under 14 (shared/spec/interfaces.md, interface 8).
constexpr float kKidBelowYears = 14.f;

std::array<cv::Point2f, 5> to_cv(const Landmarks5& l) {
  std::array<cv::Point2f, 5> p;
  for (int i = 0; i < 5; ++i) p[i] = cv::Point2f(l[i].x, l[i].y);
  return p;
}

std::vector<Point> points_2d(const analyze::Mesh& mesh) {
  std::vector<Point> out;
  out.reserve(mesh.points.size());
  for (const auto& p : mesh.points) out.push_back({p.x, p.y});
  return out;
}

Landmarks5 from_cv(const std::array<cv::Point2f, 5>& p) {
  Landmarks5 l;
  for (int i = 0; i < 5; ++i) l[i] = {p[i].x, p[i].y};
  return l;
}

void check_image(const Image& image) {
  if (image.empty() || image.bgr.size() != static_cast<size_t>(image.width) * image.height * 3)
    throw Error(ErrorCode::kInvalidArgument, "image is empty or its pixel buffer does not match its size");
}

void check_landmarks(const Landmarks5& l, const Image& image) {
  for (const auto& p : l)
    if (!std::isfinite(p.x) || !std::isfinite(p.y) || p.x < -image.width || p.y < -image.height ||
        p.x > 2.f * image.width || p.y > 2.f * image.height)
      throw Error(ErrorCode::kInvalidArgument, "landmark outside the image");
  const float eye_dist = std::hypot(l[1].x - l[0].x, l[1].y - l[0].y);
  if (eye_dist < 2.f) throw Error(ErrorCode::kInvalidArgument, "landmarks are degenerate (eyes coincide)");
}

// Quality (pose, blur, light) and glasses of a face, read on its aligned 112 px crop.
void assess_face(Face& f, const cv::Mat& bgr, const analyze::Mesh& mesh, const std::array<cv::Point2f, 5>& five,
                 float side) {
  const cv::Mat aligned = align::aligned_crop(bgr, five, 112);
  f.quality = analyze::assess(mesh, aligned, side);
  f.glasses_kind = analyze::glasses_kind(aligned);
  f.glasses = f.glasses_kind != GlassesKind::kNone;
}

// Intersection over the smaller box: a face cut by a window edge lies inside the whole one.
float overlap_of_smaller(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float smaller = std::min(a.area(), b.area());
  return smaller > 0 ? (a & b).area() / smaller : 0.f;
}

}  // namespace

class Engine::Impl {
 public:
  explicit Impl(const EngineOptions& o)
      : options(o), runtime(o.runtime), detector(runtime.impl()) {
    const bool legacy = o.descriptor == Descriptor::kFaceresDlib || o.descriptor == Descriptor::kFaceres;
    identity_model = legacy ? "faceres" : analyze::kMobileFaceNet;
    fused = o.descriptor == Descriptor::kAccurate || o.descriptor == Descriptor::kFaceresDlib;
    if (!runtime.impl().has(identity_model))
      throw Error(ErrorCode::kModelUnavailable, std::string("the ") + descriptor_name(o.descriptor) +
                                                    " descriptor needs the " + identity_model + " model in " +
                                                    runtime.model_dir() + " (models/convert makes it)");
    const ModelInfo& f = runtime.info(identity_model);
    dimension = output_width(f);
    if (fused) {
      dlib_model = analyze::dlib_model(runtime.impl(), o.int8);
      if (dlib_model.empty())
        throw Error(ErrorCode::kModelUnavailable, std::string("the ") + descriptor_name(o.descriptor) +
                                                      " descriptor needs the face_recognition model in " +
                                                      runtime.model_dir() + " (or use descriptor \"fast\")");
      const ModelInfo& d = runtime.info(dlib_model);
      dlib_weight = legacy ? analyze::kDlibWeightWithFaceres : analyze::kDlibWeightWithMobileFaceNet;
      char weight[16];
      std::snprintf(weight, sizeof weight, "%.2f", dlib_weight);
      // ":flip": dlib's half is the mean of the crop's and its mirror's descriptors; ":int8":
      // it comes from the int8 model. Both are variants (registry::model_ids_compatible).
      feature_id = std::string(identity_model) + "+dlib:" + f.weights_id.substr(0, 16) + "+" +
                   d.weights_id.substr(0, 16) + ":w" + weight + ":flip" + (d.quantized_from.empty() ? "" : ":int8");
      dimension += output_width(d);
    } else {
      feature_id = std::string(identity_model) + ":" + f.weights_id.substr(0, 16);
    }
    curve = legacy ? (fused ? kFaceresDlibCurve : kFaceresCurve) : (fused ? kFusedCurve : kMobileFaceNetCurve);
    if (o.cosine_at_threshold > 0) {  // a caller's own threshold: two linear pieces through it
      const float t = std::clamp(o.cosine_at_threshold, -0.99f, 0.99f);
      const float a = (1.f - t) / 3;
      curve = {{-1.f, (t - 1.f) / 2, t, t + a, t + 2 * a, 1.f}, {0.f, 35.f, 70.f, 80.f, 90.f, 100.f}};
    }
  }

  // The width of a descriptor model's first output.
  int output_width(const ModelInfo& m) const {
    std::vector<int64_t> shape = m.input_shape;
    shape[0] = 1;
    return static_cast<int>(runtime.impl().forward(m.name, at::zeros(shape))[0].size(1));
  }

  // `assess`: quality and glasses of each face (skipped when only the landmarks are wanted).
  std::vector<Face> detect(const Image& image, const DetectOptions& opt, bool assess = true) const {
    check_image(image);
    const cv::Mat bgr = as_mat(image);
    int min_face = opt.min_face, max_face = opt.max_face;
    if (opt.portrait) {
      min_face = std::max(8, static_cast<int>(0.05 * std::min(image.width, image.height)));
      max_face = 2 * std::max(image.width, image.height);
    } else if (min_face <= 0 || max_face < 0 || (max_face > 0 && max_face <= min_face)) {
      throw Error(ErrorCode::kInvalidArgument, "need 0 < min_face < max_face (max_face 0: no maximum)");
    } else if (max_face == 0) {
      max_face = std::max(min_face + 1, 2 * std::max(image.width, image.height));
    }
    auto dets = detector.detect(bgr, detector_min_face(min_face), max_face,
                                options.detector_threshold, options.nms_iou);
    return faces_of(bgr, dets, opt, min_face, max_face, assess);
  }

  // The mesh of each detection (best score first, as NMS leaves them), but none for one lying
  // inside a bigger, better-scoring detection that FaceMesh accepts: a finer level's find of
  // part of that face (a headshot's mouth and chin, which FaceMesh also takes for a face and
  // the duplicate check of faces_of drops). Such parts get their mesh in a second call only
  // where no face holding them was accepted. Their mesh is left empty: not a face.
  std::vector<analyze::Mesh> meshes_of(const cv::Mat& bgr, const std::vector<detect::Detection>& dets) const {
    const auto holders = detect::holders_of(dets);
    std::vector<analyze::Mesh> meshes(dets.size());
    for (const bool parts : {false, true}) {
      std::vector<size_t> todo;
      for (size_t i = 0; i < dets.size(); ++i) {
        const bool held_by_face = std::any_of(holders[i].begin(), holders[i].end(), [&](size_t j) {
          return meshes[j].face_probability >= kMinFaceProbability;
        });
        if (holders[i].empty() != parts && !held_by_face) todo.push_back(i);
      }
      if (todo.empty()) continue;
      std::vector<detect::Detection> batch;
      for (size_t i : todo) batch.push_back(dets[i]);
      auto got = analyze::run_mesh(runtime.impl(), bgr, batch);
      for (size_t k = 0; k < todo.size(); ++k) meshes[todo[k]] = std::move(got[k]);
    }
    return meshes;
  }

  // Faces of detections: a mesh each, kept if it is a face (of min_face..max_face px unless
  // `opt.portrait`) and not a duplicate; best score first.
  std::vector<Face> faces_of(const cv::Mat& bgr, const std::vector<detect::Detection>& dets, const DetectOptions& opt,
                             int min_face, int max_face, bool assess) const {
    const ImageSize image{bgr.cols, bgr.rows};
    const auto meshes = meshes_of(bgr, dets);
    std::vector<Face> faces;
    std::vector<cv::Rect2f> boxes;
    for (size_t i = 0; i < dets.size(); ++i) {
      const auto& mesh = meshes[i];
      if (mesh.face_probability < kMinFaceProbability) continue;
      const cv::Rect2f box = analyze::mesh_box(mesh);
      const float side = std::max(box.width, box.height);
      if (!opt.portrait && (side < min_face || side > max_face)) continue;
      bool duplicate = false;  // the same face found in two windows
      for (const auto& b : boxes) duplicate |= overlap_of_smaller(b, box) > 0.5f;
      if (duplicate) continue;
      boxes.push_back(box);
      Face f;
      const cv::Rect2f clipped = box & cv::Rect2f(0, 0, static_cast<float>(image.width), static_cast<float>(image.height));
      f.box = {clipped.x, clipped.y, clipped.width, clipped.height};
      f.score = dets[i].score;
      const auto five = analyze::five_points(mesh);
      f.landmarks = from_cv(five);
      f.mesh = points_2d(mesh);
      if (assess) assess_face(f, bgr, mesh, five, side);
      faces.push_back(std::move(f));
    }
    if (opt.attributes && !faces.empty()) {
      const auto attributes = attributes_of(bgr, faces);
      for (size_t i = 0; i < faces.size(); ++i) faces[i].attributes = attributes[i];
    }
    std::stable_sort(faces.begin(), faces.end(), [](const Face& a, const Face& b) { return a.score > b.score; });
    return faces;
  }

  // For the 5 points alone, first one small pass over the whole image (its long side at
  // kWholePassSide px): a photo's face is usually big, and this pass costs about half of a
  // 256 px one. Its faces count only when the biggest is at least kWholePassMinShare of the
  // long side: smaller faces are near the pass's limit, where it may miss the biggest one.
  std::vector<Face> big_faces_in_one_pass(const Image& image) const {
    const cv::Mat bgr = as_mat(image);
    DetectOptions any;
    any.portrait = true;  // no size filter: the share below decides
    auto faces = faces_of(bgr, detector.detect_whole(bgr, kWholePassSide, options.detector_threshold, options.nms_iou),
                          any, 0, 0, /*assess=*/false);
    float biggest = 0;
    for (const auto& f : faces) biggest = std::max(biggest, std::max(f.box.width, f.box.height));
    if (biggest < kWholePassMinShare * std::max(image.width, image.height)) faces.clear();
    return faces;
  }

  // The best face of the side-view detector (face-api's SSD, trained on WIDER FACE, which holds
  // profiles) at kSideViewMinScore or more. BlazeFace finds such faces, but FaceMesh's face flag
  // reads 0.00-0.39 on them; its points still place the crops of the attribute models. The box
  // is the SSD's: the mesh of a face it does not accept need not cover the face.
  std::vector<Face> side_view(const Image& image) const {
    if (!has_side_view_detector) return {};
    const cv::Mat bgr = as_mat(image);
    const auto found = detect::detect_side_views(runtime.impl(), bgr, kSideViewMinScore);
    if (found.empty()) return {};
    detect::Detection d = found.front();
    const cv::Rect2f clipped = d.box & cv::Rect2f(0, 0, static_cast<float>(bgr.cols), static_cast<float>(bgr.rows));
    if (clipped.area() <= 0) return {};  // a box in the padding only
    // An upright crop: the eyes of a side view are not where a frontal box puts them.
    const float mid = d.box.y + d.box.height / 2;
    d.keypoints[0] = {d.box.x, mid};
    d.keypoints[1] = {d.box.x + d.box.width, mid};
    const auto mesh = analyze::run_mesh(runtime.impl(), bgr, {d})[0];
    const auto five = analyze::five_points(mesh);
    Face f;
    f.box = {clipped.x, clipped.y, clipped.width, clipped.height};
    f.score = d.score;
    f.landmarks = from_cv(five);
    f.mesh = points_2d(mesh);
    assess_face(f, bgr, mesh, five, std::max(d.box.width, d.box.height));
    // No pose from a mesh FaceMesh does not take for a face (AFLW2000's yaw -103 degree face
    // read -43): unknown, and not frontal.
    f.quality.pitch = f.quality.yaw = f.quality.roll = std::numeric_limits<float>::quiet_NaN();
    f.quality.side_face = true;
    f.quality.good = false;
    return {f};
  }

  // Faces from `from` down to `to` px, biggest first, a band of three sizes at a time (one
  // pyramid level): the first band that finds a face holds the largest one, so the finest
  // levels, which cost the most, run only when there is no bigger face. Bands overlap by
  // kBandOverlap, as a face's mesh box may fall either side of an edge.
  std::vector<Face> scan_down(const Image& image, int from, int to, bool assess) const {
    for (int hi = from; hi > to;) {
      DetectOptions band;
      band.min_face = std::max(to, hi / 3);
      band.max_face = static_cast<int>(hi * kBandOverlap) + 1;
      auto faces = detect(image, band, assess);
      if (!faces.empty()) return faces;
      hi = band.min_face;
    }
    return {};
  }

  Face largest(const Image& image, bool attributes, bool assess = true) const {
    check_image(image);
    // Coarse pass first (faces from ~12 % of the long side); only if it finds nothing, the full
    // scan down to whole_image_options' minimum and up to twice the long side (faces that
    // overfill the frame).
    DetectOptions coarse = Engine::whole_image_options(image);
    coarse.min_face = std::max(coarse.min_face, static_cast<int>(0.12f * std::max(image.width, image.height)));
    // For the 5 points alone, one pyramid level: up to the most one 256 px detector call holds
    // (about 7x min_face, past the short side of a 4:3 photo) instead of two levels in one
    // 512x288 call (13.4 -> 8.7 ms on 640x480). Same verification accuracy (faces-dev TAR @ FAR
    // 1e-3 0.938 vs 0.927, ORL 0.999 both), but the mesh of a face near the top of the level's
    // range reads head pose worse (AFLW2000 pitch error 4 -> 5.4 degrees): pose and quality
    // keep both levels.
    if (!assess)
      coarse.max_face = std::min(coarse.max_face, detect::one_level_max_face(detector_min_face(coarse.min_face)));
    coarse.max_face = std::max(coarse.max_face, coarse.min_face + 1);
    std::vector<Face> faces;
    if (!assess) faces = big_faces_in_one_pass(image);
    if (faces.empty()) faces = detect(image, coarse, assess);
    const DetectOptions whole = Engine::whole_image_options(image);
    if (faces.empty() && coarse.max_face < whole.max_face) {  // faces that overfill the frame
      DetectOptions bigger = whole;
      bigger.min_face = static_cast<int>(coarse.max_face / kBandOverlap);
      faces = detect(image, bigger, assess);
    }
    if (faces.empty()) faces = scan_down(image, coarse.min_face, whole.min_face, assess);
    // Attributes only: a descriptor of a side view would not match its frontal photos.
    if (faces.empty() && assess) faces = side_view(image);
    if (faces.empty()) throw Error(ErrorCode::kNoFace, "no face found");
    auto it = std::max_element(faces.begin(), faces.end(), [](const Face& a, const Face& b) {
      return a.box.width * a.box.height < b.box.width * b.box.height;
    });
    Face f = *it;
    if (attributes) f.attributes = attributes_of(as_mat(image), {f})[0];
    return f;
  }

  // Gender and age of faces with their mesh: faceres's heads, and face-api's age / gender net
  // where the model set has it: age from face-api alone, P(male) the mean of both (measured
  // on the UTK chips: docs/ACCURACY.md, Age and gender).
  std::vector<FaceAttributes> attributes_of(const cv::Mat& bgr, const std::vector<Face>& faces) const {
    std::vector<std::array<cv::Point2f, 5>> pts;
    for (const auto& f : faces) pts.push_back(to_cv(f.landmarks));
    const auto res = analyze::run_faceres(runtime.impl(), bgr, pts);
    std::vector<FaceAttributes> out;
    for (const auto& r : res) out.push_back(r.attributes);
    if (!analyze::has_age_gender(runtime.impl())) return out;
    std::vector<std::vector<cv::Point2f>> meshes;
    for (const auto& f : faces) {
      meshes.emplace_back();
      for (const auto& p : f.mesh) meshes.back().emplace_back(p.x, p.y);
    }
    const auto fa = analyze::run_age_gender(runtime.impl(), bgr, meshes);
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].age_years = fa[i].age_years;
      out[i].male = 0.5f * (out[i].male + fa[i].male);
      out[i].female = 1.f - out[i].male;
      out[i].kid = out[i].age_years < kKidBelowYears;
    }
    return out;
  }

  // A face's mesh from its 5 points alone (callers that skip detection): a first mesh on a
  // box around the points, then again on a crop centred on that mesh.
  Face face_from_landmarks(const cv::Mat& bgr, const Landmarks5& l) const {
    Face f;
    f.landmarks = l;
    const cv::Point2f eyes = (cv::Point2f(l[0].x, l[0].y) + cv::Point2f(l[1].x, l[1].y)) * 0.5f;
    const cv::Point2f mouth = (cv::Point2f(l[3].x, l[3].y) + cv::Point2f(l[4].x, l[4].y)) * 0.5f;
    const float eye_to_mouth = static_cast<float>(cv::norm(mouth - eyes));
    const cv::Point2f centre = (eyes + mouth) * 0.5f;
    detect::Detection d;
    const float side = 2.f * eye_to_mouth;  // the detector's box is about twice eye-to-mouth
    d.box = cv::Rect2f(centre.x - side / 2, centre.y - side / 2, side, side);
    d.keypoints[0] = {l[0].x, l[0].y};
    d.keypoints[1] = {l[1].x, l[1].y};
    f.mesh = points_2d(analyze::run_mesh(runtime.impl(), bgr, {d})[0]);
    f.mesh = points_2d(remesh(bgr, f.mesh, l));
    return f;
  }

  // FaceMesh again on a square crop centred on `mesh` (its box / kMeshBoxOfDetectorBox),
  // levelled on the eyes of `l`, as MediaPipe tracks a face: the points then no longer
  // follow the detector's box.
  analyze::Mesh remesh(const cv::Mat& bgr, const std::vector<Point>& mesh, const Landmarks5& l) const {
    float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
    for (const auto& p : mesh) {
      x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
    }
    const float side = std::max(x1 - x0, y1 - y0) / kMeshBoxOfDetectorBox;
    detect::Detection d;
    d.box = cv::Rect2f((x0 + x1 - side) / 2, (y0 + y1 - side) / 2, side, side);
    d.keypoints[0] = {l[0].x, l[0].y};
    d.keypoints[1] = {l[1].x, l[1].y};
    return analyze::run_mesh(runtime.impl(), bgr, {d})[0];
  }

  std::vector<Feature> run(const Image& image, const std::vector<Landmarks5>& faces) const {
    check_image(image);
    std::vector<analyze::FaceRef> refs;
    const cv::Mat bgr = as_mat(image);
    for (const auto& l : faces) {
      check_landmarks(l, image);
      refs.push_back({&bgr, to_cv(l)});
    }
    return describe(refs);
  }

  // Descriptors of faces of any images: the identity net's, fused with dlib's for the
  // accurate descriptor. The identity net beside dlib's one call (crops and mirrors in one
  // batch). Against the identity net beside dlib's crops, then the mirrors on every thread
  // (2026-12-02 06:40): five faces of a group photo 58.3 against 64.4 ms, one or two
  // faces the same (15.5 / 15.8, 28.2 / 28.5 ms; 40 calls each, alternating in one process).
  std::vector<Feature> describe(const std::vector<analyze::FaceRef>& refs) const {
    if (refs.size() > kFacesPerDescriptorCall) {  // in bounded parts, in order
      std::vector<Feature> out;
      out.reserve(refs.size());
      for (size_t i = 0; i < refs.size(); i += kFacesPerDescriptorCall) {
        const auto end = refs.begin() + static_cast<std::ptrdiff_t>(std::min(refs.size(), i + kFacesPerDescriptorCall));
        for (auto& f : describe({refs.begin() + static_cast<std::ptrdiff_t>(i), end})) out.push_back(std::move(f));
      }
      return out;
    }
    if (!fused) return identity(refs);
    std::vector<Feature> res;
    const auto dlib = analyze::run_dlib(runtime.impl(), dlib_model, refs, [&](const std::function<void()>& call) {
      runtime.impl().side_by_side([&] { res = identity(refs); }, call);
    });
    for (size_t i = 0; i < res.size(); ++i) res[i] = analyze::fuse(res[i], dlib[i], dlib_weight);
    return res;
  }

  // The identity net's unit descriptors: MobileFaceNet, or faceres for the earlier descriptors.
  std::vector<Feature> identity(const std::vector<analyze::FaceRef>& refs) const {
    if (identity_model == analyze::kMobileFaceNet) return analyze::run_mobilefacenet(runtime.impl(), refs);
    std::vector<Feature> out;
    for (auto& r : analyze::run_faceres(runtime.impl(), refs)) out.push_back(std::move(r.descriptor));
    return out;
  }

  EngineOptions options;
  ModelRuntime runtime;
  detect::FaceDetector detector;
  bool has_side_view_detector = detect::has_side_view_detector(runtime.impl());
  std::string feature_id;
  std::string identity_model;  ///< "mobilefacenet", or "faceres" for the earlier descriptors
  std::string dlib_model;      ///< the accurate descriptor's dlib net (analyze::dlib_model)
  float dlib_weight = 0.f;     ///< dlib's share of the fused cosine
  bool fused = false;
  ScoreCurve curve;
  int dimension = 0;
};

Engine::Engine(const EngineOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Engine::~Engine() = default;

std::vector<Face> Engine::detect(const Image& image, const DetectOptions& options) const {
  return impl_->detect(image, options);
}

Face Engine::largest_face(const Image& image, bool attributes) const { return impl_->largest(image, attributes); }

Face Engine::only_face(const Image& image) const {
  check_image(image);
  auto faces = impl_->detect(image, whole_image_options(image));
  if (faces.empty()) throw Error(ErrorCode::kNoFace, "no face found");
  if (faces.size() > 1) throw Error(ErrorCode::kMultipleFaces, std::to_string(faces.size()) + " faces, one required");
  return faces[0];
}

Feature Engine::extract(const Image& image, const Landmarks5& landmarks) const {
  return impl_->run(image, {landmarks})[0];
}

std::vector<Feature> Engine::extract(const Image& image, const std::vector<Landmarks5>& faces) const {
  return impl_->run(image, faces);
}

std::vector<Feature> Engine::extract_batch(const std::vector<Image>& images,
                                           const std::vector<Landmarks5>& landmarks) const {
  if (images.size() != landmarks.size()) throw Error(ErrorCode::kInvalidArgument, "one landmark set per image");
  std::vector<cv::Mat> mats;
  mats.reserve(images.size());  // FaceRef points into it: no reallocation
  std::vector<analyze::FaceRef> refs;
  for (size_t i = 0; i < images.size(); ++i) {
    check_image(images[i]);
    check_landmarks(landmarks[i], images[i]);
    mats.push_back(as_mat(images[i]));
    refs.push_back({&mats.back(), to_cv(landmarks[i])});
  }
  return impl_->describe(refs);
}

Landmarks5 Engine::largest_face_landmarks(const Image& image) const {
  return impl_->largest(image, false, /*assess=*/false).landmarks;
}

Feature Engine::extract(const Image& image) const {
  return extract(image, impl_->largest(image, false, /*assess=*/false).landmarks);
}

FaceCrop Engine::face_crop(const Image& image, const Landmarks5& landmarks) const {
  check_image(image);
  check_landmarks(landmarks, image);
  std::array<cv::Point2f, 5> dst;
  for (int i = 0; i < 5; ++i) dst[i] = align::kArcFace112[i] * static_cast<float>(kCropTemplateScale) +
                                       cv::Point2f(kCropMargin, kCropMargin);
  const auto src = to_cv(landmarks);
  const cv::Mat m = align::similarity_transform(src, dst);
  cv::Mat crop;
  cv::warpAffine(as_mat(image), crop, m, cv::Size(kCropSide, kCropSide), cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  FaceCrop out;
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", crop, jpeg, {cv::IMWRITE_JPEG_QUALITY, kCropJpegQuality});
  out.jpeg.assign(jpeg.begin(), jpeg.end());
  std::vector<cv::Point2f> in_crop;
  cv::transform(std::vector<cv::Point2f>(src.begin(), src.end()), in_crop, m);
  for (int i = 0; i < 5; ++i) out.landmarks[i] = {in_crop[i].x, in_crop[i].y};
  return out;
}

Feature Engine::extract(const FaceCrop& crop) const {
  const cv::Mat bytes(1, static_cast<int>(crop.jpeg.size()), CV_8U, const_cast<char*>(crop.jpeg.data()));
  const cv::Mat bgr = crop.jpeg.empty() ? cv::Mat() : cv::imdecode(bytes, cv::IMREAD_COLOR);
  if (bgr.empty() || bgr.cols != kCropSide || bgr.rows != kCropSide)
    throw Error(ErrorCode::kInvalidArgument, "a kept face crop is not a 256 px JPEG");
  Image image;
  image.width = bgr.cols;
  image.height = bgr.rows;
  image.bgr.assign(bgr.data, bgr.data + bgr.total() * 3);
  return extract(image, crop.landmarks);
}

LiveSignals Engine::live_signals(const Image& image) const {
  LiveSignals s;
  s.face = only_face(image);
  const cv::Mat bgr = as_mat(image);
  // The eye and lip readings from a mesh that no longer follows the detector's box (the
  // closed-eye reading of one photo moved 0.089-0.117 between detector plans).
  const auto again = impl_->remesh(bgr, s.face.mesh, s.face.landmarks);
  if (again.face_probability >= kMinFaceProbability) s.face.mesh = points_2d(again);
  const auto eyes = analyze::eye_openness(impl_->runtime.impl(), bgr, s.face.mesh);
  s.eye_open[0] = eyes[0];
  s.eye_open[1] = eyes[1];
  s.mouth_open = analyze::mouth_openness(s.face.mesh);
  s.real = analyze::real_face_score(impl_->runtime.impl(), bgr, s.face.box);
  return s;
}

HairStyle Engine::hair_style(const Image& image, const Face& face) const {
  check_image(image);
  return analyze::classify_hair(impl_->runtime.impl(), as_mat(image), face.box);
}

const char* hair_style_name(HairStyle style) {
  switch (style) {
    case HairStyle::kShort: return "shortHair";
    case HairStyle::kLong: return "longHair";
    case HairStyle::kHat: return "hat";
    case HairStyle::kBraids: return "braids";
  }
  return "?";
}

FaceAttributes Engine::attributes(const Image& image, const Landmarks5& landmarks) const {
  check_image(image);
  check_landmarks(landmarks, image);
  const cv::Mat bgr = as_mat(image);
  return impl_->attributes_of(bgr, {impl_->face_from_landmarks(bgr, landmarks)})[0];
}

const char* descriptor_name(Descriptor d) {
  switch (d) {
    case Descriptor::kAccurate: return "accurate";
    case Descriptor::kFast: return "fast";
    case Descriptor::kFaceresDlib: return "faceres+dlib";
    case Descriptor::kFaceres: return "faceres";
  }
  return "accurate";
}

Descriptor parse_descriptor(const std::string& name) {
  for (Descriptor d : {Descriptor::kAccurate, Descriptor::kFast, Descriptor::kFaceresDlib, Descriptor::kFaceres})
    if (name == descriptor_name(d)) return d;
  throw Error(ErrorCode::kInvalidArgument,
              "descriptor must be \"accurate\", \"fast\", \"faceres+dlib\" or \"faceres\", not \"" + name + "\"");
}

float Engine::cosine(const Feature& a, const Feature& b) {
  if (a.size() != b.size() || a.empty()) throw Error(ErrorCode::kInvalidArgument, "features differ in dimension");
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  if (na <= 0 || nb <= 0) return 0.f;
  return static_cast<float>(dot / std::sqrt(na * nb));
}

float Engine::score(float c) const { return along(impl_->curve.cosine, impl_->curve.score, c); }

float Engine::cosine_for_score(float s) const { return along(impl_->curve.score, impl_->curve.cosine, s); }

DetectOptions Engine::whole_image_options(const Image& image) {
  DetectOptions o;
  const int short_side = std::min(image.width, image.height), long_side = std::max(image.width, image.height);
  // A twelfth of the short side, but never over 80 px (the protocol's default minimum): a
  // 200 px face in a 12 MP phone photo (4032x3024) is worth a descriptor, and at a twelfth
  // (252 px) it was "no face" on every largest-face interface. The cost stays bounded: the
  // finest level is then at most (long side x 20 / 64)^2 pixels, 0.31x the image's side.
  o.min_face = std::clamp(short_side / 12, 20, 80);
  o.max_face = std::max(o.min_face + 1, 2 * long_side);
  return o;
}

int Engine::dimension() const { return impl_->dimension; }
const std::string& Engine::feature_model_id() const { return impl_->feature_id; }
const ModelRuntime& Engine::models() const { return impl_->runtime; }
const EngineOptions& Engine::options() const { return impl_->options; }

}  // namespace facekit
