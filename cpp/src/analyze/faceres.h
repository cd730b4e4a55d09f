#pragma once
// HSE FaceRes on aligned crops: identity descriptor (1024-d), gender and age in one pass.
#include <opencv2/core.hpp>

#include <array>
#include <vector>

#include "analyze/face_ref.h"
#include "facekit/types.h"
#include "models/runtime_impl.h"

namespace facekit::analyze {

constexpr int kFaceresSide = 224;  ///< ArcFace template x2 (faceres is insensitive to the crop, provenance §2.3)

struct FaceresResult {
  std::vector<float> descriptor;  ///< L2-normalised
  FaceAttributes attributes;
};

/// One batch through faceres for faces of any number of images.
std::vector<FaceresResult> run_faceres(const ModelRuntime::Impl& models, const std::vector<FaceRef>& faces);

/// One batch through faceres for all `faces` (5 landmarks each) of `bgr`.
std::vector<FaceresResult> run_faceres(const ModelRuntime::Impl& models, const cv::Mat& bgr,
                                       const std::vector<std::array<cv::Point2f, 5>>& faces);

/// HSE's age decode: expectation over the two most probable classes (class i = age i + 1).
float decode_age(const float* probs, int n);

}  // namespace facekit::analyze
