#pragma once
// Glasses and their kind from the ArcFace-aligned 112x112 crop: 36 grey-level measures of the
// eye band (darkness and texture of the lenses, under-eye and cheek regions, coherent edges
// where a frame's rims, bridge and temples lie) scored by a 3-class logistic regression whose
// weights bench/accuracy/glasses.py fits and writes to glasses_weights.h. Grey only, so a grey
// photo reads as its colour original. docs/ACCURACY.md: cross-validated figures; the weights
// were learned from research-use faces (CelebA-HQ glasses-dev, UTKFace sample, faces-dev).
#include <array>

#include <opencv2/core.hpp>

#include "facekit/types.h"

namespace facekit::analyze {

constexpr int kGlassesFeatures = 36;

/// Mean |d/dy| (3x3 Sobel) of the grey aligned 112 crop over the nose bridge between the eyes
/// (rows 44-57, columns 50-61): one of the classifier's measures.
float bridge_gradient(const cv::Mat& aligned_bgr112);

/// The classifier's measures (same order as NAMES in bench/accuracy/glasses.py).
std::array<float, kGlassesFeatures> glasses_features(const cv::Mat& aligned_bgr112);

/// Class scores (logits) of none, eyeglasses, sunglasses.
std::array<float, 3> glasses_scores(const cv::Mat& aligned_bgr112);

/// The highest-scoring kind. `aligned_bgr112`: 112x112 CV_8UC3 BGR (or CV_8UC1 grey).
GlassesKind glasses_kind(const cv::Mat& aligned_bgr112);

inline bool wears_glasses(const cv::Mat& aligned_bgr112) {
  return glasses_kind(aligned_bgr112) != GlassesKind::kNone;
}

}  // namespace facekit::analyze
