#include "detect/texture.h"

#include <algorithm>
#include <cstdint>

#include <opencv2/imgproc.hpp>

namespace facekit::detect {

TextureMap::TextureMap(const cv::Mat& image) : size_(image.size()) {
  cv::Mat grey;
  if (image.channels() == 3)
    cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
  else
    grey = image;
  const int cw = (grey.cols + kTextureCell - 1) / kTextureCell, ch = (grey.rows + kTextureCell - 1) / kTextureCell;
  // Per cell, sum and sum of squares of its grey levels (a border cell holds fewer pixels).
  std::vector<int64_t> sum(static_cast<size_t>(cw) * ch, 0), sq(sum.size(), 0);
  for (int y = 0; y < grey.rows; ++y) {
    const uint8_t* row = grey.ptr<uint8_t>(y);
    int64_t* s = sum.data() + static_cast<size_t>(y / kTextureCell) * cw;
    int64_t* q = sq.data() + static_cast<size_t>(y / kTextureCell) * cw;
    for (int cx = 0; cx < cw; ++cx) {
      const int x0 = cx * kTextureCell, x1 = std::min(grey.cols, x0 + kTextureCell);
      int32_t a = 0, b = 0;
      for (int x = x0; x < x1; ++x) {
        a += row[x];
        b += row[x] * row[x];
      }
      s[cx] += a;
      q[cx] += b;
    }
  }
  // n * var = sq - sum^2 / n; textured when var >= kMinFaceTexture^2, in integers:
  // n * sq - sum^2 >= (kMinFaceTexture * n)^2.
  cv::Mat flags(ch, cw, CV_8U);
  for (int cy = 0; cy < ch; ++cy)
    for (int cx = 0; cx < cw; ++cx) {
      const int64_t n = static_cast<int64_t>(std::min(grey.cols - cx * kTextureCell, kTextureCell)) *
                        std::min(grey.rows - cy * kTextureCell, kTextureCell);
      const size_t i = static_cast<size_t>(cy) * cw + cx;
      const double spread = static_cast<double>(n * sq[i] - sum[i] * sum[i]);
      flags.at<uint8_t>(cy, cx) = spread >= kMinFaceTexture * kMinFaceTexture * static_cast<double>(n * n) ? 1 : 0;
    }
  cv::integral(flags, counts_, CV_32S);
}

bool TextureMap::any_texture(const cv::Rect& region) const {
  const cv::Rect r = region & cv::Rect({0, 0}, size_);
  if (r.empty()) return false;
  const int x0 = r.x / kTextureCell, y0 = r.y / kTextureCell;
  const int x1 = (r.br().x + kTextureCell - 1) / kTextureCell, y1 = (r.br().y + kTextureCell - 1) / kTextureCell;
  return counts_.at<int32_t>(y1, x1) - counts_.at<int32_t>(y0, x1) - counts_.at<int32_t>(y1, x0) +
             counts_.at<int32_t>(y0, x0) > 0;
}

}  // namespace facekit::detect
