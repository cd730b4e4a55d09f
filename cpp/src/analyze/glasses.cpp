#include "analyze/glasses.h"

#include <opencv2/imgproc.hpp>

namespace facekit::analyze {

float bridge_gradient(const cv::Mat& aligned_bgr112) {
  cv::Mat grey, gy;
  cv::cvtColor(aligned_bgr112, grey, cv::COLOR_BGR2GRAY);
  grey.convertTo(grey, CV_32F);
  cv::Sobel(grey, gy, CV_32F, 0, 1, 3);
  // Rows 44-57, columns 50-61 of the ArcFace 112 template: between the eyes (y = 51.6).
  return static_cast<float>(cv::mean(cv::abs(gy(cv::Rect(50, 44, 12, 14))))[0]);
}

}  // namespace facekit::analyze
