#pragma once
// Where in an image a face can be at all. A face, even at the detector's smallest size and a
// twentieth of its contrast, varies in grey level; a flat or nearly flat region (a blank
// canvas, clear sky, a smooth upscaled photo) cannot hold one. The detector skips a forward
// pass whose region has no texture, so a big flat photo costs its scan of texture only.
#include <opencv2/core.hpp>

namespace facekit::detect {

/// Cells of kTextureCell x kTextureCell pixels whose grey std-dev is below kMinFaceTexture hold
/// no part of a face the detector finds. Measured by bench/accuracy/detection_texture.py on
/// 1,248 faces of shared/data scaled to a 20 px box (the detector's smallest): the textured
/// cells over a face reach a std-dev of 15 at least (median 35); with the contrast cut to 5 %
/// the detector still found 10 of 159 faces, the lowest at 1.45, and none at 3 %.
constexpr int kTextureCell = 8;
constexpr double kMinFaceTexture = 1.0;

/// Which cells of an image are textured, for queries over rectangles in O(1).
class TextureMap {
 public:
  /// `image`: 8-bit, 1 or 3 channels (any channel order: the grey level's weights differ a little).
  explicit TextureMap(const cv::Mat& image);
  /// True when some textured cell meets `region` (image pixels; clipped to the image).
  bool any_texture(const cv::Rect& region) const;

 private:
  cv::Size size_;
  cv::Mat counts_;  ///< integral image (CV_32S) of the textured-cell flags, one flag per cell
};

}  // namespace facekit::detect
