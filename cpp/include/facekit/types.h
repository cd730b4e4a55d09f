#pragma once
/// Plain value types of the engine's public API (no third-party types).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace facekit {

/// An 8-bit BGR image, rows packed (stride = 3 * width).
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> bgr;
  bool empty() const { return width <= 0 || height <= 0; }
};

struct Point {
  float x = 0.f, y = 0.f;
};

struct Box {
  float left = 0.f, top = 0.f, width = 0.f, height = 0.f;
};

/// Left eye, right eye, nose tip, left mouth corner, right mouth corner ("left" = image left).
using Landmarks5 = std::array<Point, 5>;

/// Per-face quality measures (docs/ENGINE.md says how each is computed).
struct FaceQuality {
  /// Degrees; yaw > 0: face turned to image right. NaN for a side view that only the side-view
  /// detector found (Engine::largest_face; docs/ENGINE.md, Largest face): no mesh to read them from.
  float pitch = 0.f, yaw = 0.f, roll = 0.f;
  float blur = 0.f;                         ///< 0 sharp .. 1 blurred
  float illu = 0.f;                         ///< mean grey level of the face, 0..255
  bool side_face = false;                   ///< |yaw| > 30 degrees
  bool good = false;                        ///< frontal, sharp, lit and big enough
};

struct FaceAttributes {
  float male = 0.f, female = 0.f;  ///< probabilities summing to 1
  float age_years = 0.f;
  bool kid = false;                ///< estimated age under 14
};

/// The protocol's hairstyles (interface 11). facekit predicts short / long only (docs/ACCURACY.md).
enum class HairStyle { kShort, kLong, kHat, kBraids };
/// "shortHair", "longHair", "hat", "braids".
const char* hair_style_name(HairStyle style);

/// What a face wears over its eyes (docs/ACCURACY.md, Glasses).
enum class GlassesKind : uint8_t { kNone = 0, kEyeglasses = 1, kSunglasses = 2 };

struct Face {
  Box box;
  float score = 0.f;  ///< detector confidence 0..1
  Landmarks5 landmarks{};
  std::vector<Point> mesh;  ///< 468 dense landmarks in image pixels (empty if not computed)
  FaceQuality quality;
  bool glasses = false;  ///< eyeglasses or sunglasses (docs/ACCURACY.md, Glasses)
  GlassesKind glasses_kind = GlassesKind::kNone;
  std::optional<FaceAttributes> attributes;
};

struct DetectOptions {
  // Every face a person would see by default; the wire protocol keeps its own 80-300 default.
  int min_face = 20;      ///< pixels of the original image (the face box's longer side)
  int max_face = 0;       ///< 0: no maximum
  bool portrait = false;  ///< ID-photo mode: any face down to 5% of the short side, min/max ignored
  bool attributes = false;
};

/// An L2-normalised face descriptor.
using Feature = std::vector<float>;

/// A face kept for later re-extraction (registry `keep_face_crops`): a JPEG of the face
/// aligned to a fixed template, and the face's 5 landmarks in that crop.
struct FaceCrop {
  std::string jpeg;
  Landmarks5 landmarks{};
};

}  // namespace facekit
