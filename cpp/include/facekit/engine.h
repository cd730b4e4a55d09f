#pragma once
/// The face engine: detection, landmarks, quality, alignment, descriptors, attributes.
/// One Engine serves many threads; models are loaded once and shared.
#include <memory>
#include <string>
#include <vector>

#include "facekit/image.h"
#include "facekit/liveness.h"
#include "facekit/models.h"
#include "facekit/types.h"

namespace facekit {

/// Which descriptor the engine makes (docs/ACCURACY.md, Verification; docs/ENGINE.md).
enum class Descriptor {
  kAccurate,     ///< MobileFaceNet fused with dlib's ResNet (face-api): 320-d, the default
  kFast,         ///< MobileFaceNet alone: 192-d, about half the descriptor time
  kFaceresDlib,  ///< the accurate descriptor before 2026-12-01 (faceres + dlib, 1152-d), for registries it wrote
  kFaceres,      ///< the fast descriptor before 2026-12-01 (faceres, 1024-d), for registries it wrote
};
/// "accurate" / "fast" / "faceres+dlib" / "faceres".
const char* descriptor_name(Descriptor d);
/// Parses a descriptor_name; throws Error(kInvalidArgument) otherwise.
Descriptor parse_descriptor(const std::string& name);

struct EngineOptions {
  RuntimeOptions runtime;
  DecodeOptions decode;
  float detector_threshold = 0.6f;  ///< blazeface score to keep a detection
  float nms_iou = 0.3f;
  /// Cosine similarity that maps to score 70 (the FAR = 1e-3 point of docs/ACCURACY.md).
  float cosine_at_threshold = 0.0f;  ///< 0: the calibrated default of the descriptor
  Descriptor descriptor = Descriptor::kAccurate;
  /// dlib's half of the accurate descriptor from the int8 model where the models folder has
  /// it (face_recognition_int8: cosine >= 0.997 to the float model's on faces-dev chips,
  /// docs/ACCURACY.md); false: the float model.
  bool int8 = true;
};

class Engine {
 public:
  explicit Engine(const EngineOptions& options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Faces sorted by detector score (best first), with landmarks and quality.
  std::vector<Face> detect(const Image& image, const DetectOptions& options = {}) const;

  /// The largest face of the image (kNoFace if none).
  Face largest_face(const Image& image, bool attributes = false) const;
  /// The largest face's 5 points alone, for a descriptor (kNoFace if none): no quality, glasses
  /// or attributes, and a cheaper first detector pass than largest_face's, whose pose and
  /// quality readings need the finer one (docs/BENCHMARKS.md, detection budgets).
  Landmarks5 largest_face_landmarks(const Image& image) const;
  /// The image's only face: kNoFace if none, kMultipleFaces if more (registration's rule).
  Face only_face(const Image& image) const;

  /// Descriptor of the face at `landmarks` (no detection runs).
  Feature extract(const Image& image, const Landmarks5& landmarks) const;
  /// Descriptors of several faces of one image, run as one batch.
  std::vector<Feature> extract(const Image& image, const std::vector<Landmarks5>& faces) const;
  /// Descriptor of the largest face (kNoFace if none).
  Feature extract(const Image& image) const;
  /// Descriptors of one face per image (`landmarks[i]` in `images[i]`), run as one batch.
  std::vector<Feature> extract_batch(const std::vector<Image>& images, const std::vector<Landmarks5>& landmarks) const;

  /// The face at `landmarks` as a crop that extract() can describe again (with the crop's
  /// landmarks) when the descriptor model changes: 256 px aligned, JPEG quality 90.
  FaceCrop face_crop(const Image& image, const Landmarks5& landmarks) const;
  /// Descriptor of a kept crop (registry migration).
  Feature extract(const FaceCrop& crop) const;

  /// Liveness signals of the image's only face (kNoFace / kMultipleFaces otherwise): eye and
  /// mouth openness, pose, anti-spoofing score. facekit/liveness.h judges pairs of them.
  LiveSignals live_signals(const Image& image) const;

  /// Hairstyle of `face` (a face detected in `image`).
  HairStyle hair_style(const Image& image, const Face& face) const;

  /// Attributes (gender, age) of the face at `landmarks`.
  FaceAttributes attributes(const Image& image, const Landmarks5& landmarks) const;

  /// Cosine similarity of two descriptors.
  static float cosine(const Feature& a, const Feature& b);
  /// The calibrated 0-100 score of a cosine similarity (monotonic; 70 = FAR 1e-3 point).
  float score(float cosine) const;
  float score(const Feature& a, const Feature& b) const { return score(cosine(a, b)); }
  /// The cosine whose score is `score` (the inverse of score(), for thresholds).
  float cosine_for_score(float score) const;
  /// Options that find every face of an image worth a descriptor (registration, "largest face"):
  /// from a twelfth of the short side, at most 80 px, to twice the long side.
  static DetectOptions whole_image_options(const Image& image);

  int dimension() const;
  /// Identifies the descriptor model (name + sha256): registries refuse features of another.
  const std::string& feature_model_id() const;
  const ModelRuntime& models() const;
  const EngineOptions& options() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace facekit
