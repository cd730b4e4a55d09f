#pragma once
// facekit::Image <-> cv::Mat (internal).
#include <opencv2/core.hpp>

#include "facekit/types.h"

namespace facekit {

/// A view of the image's pixels (no copy); valid while `image` lives.
inline cv::Mat as_mat(const Image& image) {
  return cv::Mat(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.bgr.data()));
}

inline Image from_mat(const cv::Mat& bgr) {
  Image img;
  img.width = bgr.cols;
  img.height = bgr.rows;
  cv::Mat packed = bgr.isContinuous() ? bgr : bgr.clone();
  img.bgr.assign(packed.data, packed.data + packed.total() * 3);
  return img;
}

}  // namespace facekit
