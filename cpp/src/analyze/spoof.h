#pragma once
// Passive anti-spoofing: human-models' `antispoof` (1 = real) on a square crop of the face.
#include <opencv2/core.hpp>

#include "facekit/types.h"
#include "models/runtime_impl.h"

namespace facekit::analyze {

/// The model's "real" probability for the face in `box` (0 fake .. 1 real).
float real_face_score(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& box);

}  // namespace facekit::analyze
