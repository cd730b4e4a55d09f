#include "detect/texture.h"

#include <algorithm>
#include <cstdint>

#include <opencv2/imgproc.hpp>

namespace facekit::detect {

TextureMap::TextureMap(const cv::Mat& image)
    : image_(image),
      cols_((image.cols + kTextureCell - 1) / kTextureCell),
      rows_((image.rows + kTextureCell - 1) / kTextureCell),
      flags_(static_cast<size_t>(cols_) * rows_, 0),
      done_(rows_, false) {}

const uint8_t* TextureMap::cell_row(int cy) const {
  uint8_t* flags = flags_.data() + static_cast<size_t>(cy) * cols_;
  if (done_[cy]) return flags;
  done_[cy] = true;
  const int y0 = cy * kTextureCell, y1 = std::min(image_.rows, y0 + kTextureCell);
  cv::Mat grey;
  if (image_.channels() == 3)
    cv::cvtColor(image_.rowRange(y0, y1), grey, cv::COLOR_BGR2GRAY);
  else
    grey = image_.rowRange(y0, y1);
  // Per cell, sum and sum of squares of its grey levels (a border cell holds fewer pixels).
  std::vector<int64_t> sum(cols_, 0), sq(cols_, 0);
  for (int y = 0; y < grey.rows; ++y) {
    const uint8_t* row = grey.ptr<uint8_t>(y);
    for (int cx = 0; cx < cols_; ++cx) {
      const int x0 = cx * kTextureCell, x1 = std::min(grey.cols, x0 + kTextureCell);
      int32_t a = 0, b = 0;
      for (int x = x0; x < x1; ++x) {
        a += row[x];
        b += row[x] * row[x];
      }
      sum[cx] += a;
      sq[cx] += b;
    }
  }
  // n * var = sq - sum^2 / n; textured when var >= kMinFaceTexture^2, in integers:
  // n * sq - sum^2 >= (kMinFaceTexture * n)^2.
  for (int cx = 0; cx < cols_; ++cx) {
    const int64_t n = static_cast<int64_t>(std::min(image_.cols - cx * kTextureCell, kTextureCell)) * (y1 - y0);
    const double spread = static_cast<double>(n * sq[cx] - sum[cx] * sum[cx]);
    flags[cx] = spread >= kMinFaceTexture * kMinFaceTexture * static_cast<double>(n * n) ? 1 : 0;
  }
  return flags;
}

bool TextureMap::any_texture(const cv::Rect& region) const {
  const cv::Rect r = region & cv::Rect(0, 0, image_.cols, image_.rows);
  if (r.empty()) return false;
  const int x0 = r.x / kTextureCell, y0 = r.y / kTextureCell;
  const int x1 = (r.br().x + kTextureCell - 1) / kTextureCell, y1 = (r.br().y + kTextureCell - 1) / kTextureCell;
  for (int cy = y0; cy < y1; ++cy) {
    const uint8_t* flags = cell_row(cy);
    if (std::any_of(flags + x0, flags + x1, [](uint8_t f) { return f != 0; })) return true;
  }
  return false;
}

}  // namespace facekit::detect
