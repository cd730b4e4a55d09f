#pragma once
// Eye openness from MediaPipe's iris model, and mouth openness from the face mesh: the
// signals of the blink and mouth liveness actions (docs/ACCURACY.md measures them).
#include <opencv2/core.hpp>

#include <array>
#include <vector>

#include "facekit/types.h"
#include "models/runtime_impl.h"

namespace facekit::analyze {

/// Lid gap / eye width for the image-left and image-right eye (open ~0.15-0.3, closed < 0.09).
/// Both eyes run as one batch of 64x64 crops around the mesh's eye corners.
std::array<float, 2> eye_openness(const ModelRuntime::Impl& models, const cv::Mat& bgr, const std::vector<Point>& mesh);

/// Inner-lip gap / inner mouth width from the mesh (closed < 0.1, wide open > 0.3).
float mouth_openness(const std::vector<Point>& mesh);

}  // namespace facekit::analyze
