#pragma once
// Eyeglasses by a measured rule: a frame's bridge is a horizontal bar between the eyes, so the
// vertical intensity gradient there is strong (docs/ACCURACY.md: leave-one-out accuracy on
// hand-labelled real faces).
#include <opencv2/core.hpp>

namespace facekit::analyze {

/// Mean |d/dy| (3x3 Sobel) of the grey aligned 112 crop over the nose bridge between the eyes.
float bridge_gradient(const cv::Mat& aligned_bgr112);
/// Bridge gradient above which a face wears glasses (fitted on tests/data/glasses_labels.json).
constexpr float kGlassesBridgeGradient = 65.f;

inline bool wears_glasses(const cv::Mat& aligned_bgr112) {
  return bridge_gradient(aligned_bgr112) > kGlassesBridgeGradient;
}

}  // namespace facekit::analyze
