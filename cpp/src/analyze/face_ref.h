#pragma once
// What the descriptor nets take, and what they give back: faces to describe, unit vectors.
#include <opencv2/core.hpp>

#include <array>
#include <cmath>
#include <vector>

#include "models/runtime_impl.h"

namespace facekit::analyze {

/// A face to describe: an image and the face's 5 landmarks in it.
struct FaceRef {
  const cv::Mat* bgr;
  std::array<cv::Point2f, 5> landmarks;
};

/// 1 / the L2 norm of n floats (0 for a zero vector).
inline float inverse_norm(const float* v, int64_t n) {
  double norm = 0;
  for (int64_t i = 0; i < n; ++i) norm += double(v[i]) * v[i];
  return norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.f;
}

/// Each row of a [N, D] float tensor as a unit vector.
inline std::vector<std::vector<float>> unit_rows(const at::Tensor& rows) {
  const auto t = rows.contiguous();
  const int64_t n = t.size(1);
  std::vector<std::vector<float>> out(static_cast<size_t>(t.size(0)));
  for (int64_t i = 0; i < t.size(0); ++i) {
    const float* d = t[i].data_ptr<float>();
    const float inv = inverse_norm(d, n);
    auto& r = out[static_cast<size_t>(i)];
    r.resize(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) r[static_cast<size_t>(k)] = d[k] * inv;
  }
  return out;
}

}  // namespace facekit::analyze
