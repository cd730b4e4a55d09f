#pragma once
// Where in an image a face can be at all. A face, even at the detector's smallest size and a
// twentieth of its contrast, varies in grey level; a flat or nearly flat region (a blank
// canvas, clear sky, a smooth upscaled photo) cannot hold one. The detector skips a forward
// pass whose region has no texture, so a big flat photo costs its scan of texture only.
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

namespace facekit::detect {

/// Cells of kTextureCell x kTextureCell pixels whose grey std-dev is below kMinFaceTexture hold
/// no part of a face the detector finds. Measured by bench/accuracy/detection_texture.py on
/// 1,248 faces of shared/data scaled to a 20 px box (the detector's smallest): the textured
/// cells over a face reach a std-dev of 15 at least (median 35); with the contrast cut to 5 %
/// the detector still found 10 of 159 faces, the lowest at 1.45, and none at 3 %.
constexpr int kTextureCell = 8;
constexpr double kMinFaceTexture = 1.0;

/// Which cells of an image are textured, worked out a row of cells at a time as queries reach
/// it: a query ends at the first textured cell it meets, so on a photo with texture a query
/// costs a row of cells or two (the grey levels of a whole 1200x675 level cost more than the
/// query needs), and a flat image costs one scan of all of it, as before.
class TextureMap {
 public:
  /// `image`: 8-bit, 1 or 3 channels (any channel order: the grey level's weights differ a
  /// little). It is shared, not copied: it must not change while the map is queried.
  explicit TextureMap(const cv::Mat& image);
  /// True when some textured cell meets `region` (image pixels; clipped to the image).
  bool any_texture(const cv::Rect& region) const;

 private:
  /// The flags of cell row `cy` (grey levels, sums and spread of each of its cells).
  const uint8_t* cell_row(int cy) const;

  cv::Mat image_;
  int cols_ = 0, rows_ = 0;             ///< cells across and down
  mutable std::vector<uint8_t> flags_;  ///< per cell: 1 textured, 0 flat
  mutable std::vector<bool> done_;      ///< per cell row: flags worked out
};

}  // namespace facekit::detect
