#pragma once
// face-api's age / gender net (tiny Xception, 112 px) on face-api's own crop, read off the
// FaceMesh points; fused with faceres's gender head (docs/ACCURACY.md, Age and gender).
#include <opencv2/core.hpp>

#include <vector>

#include "models/runtime_impl.h"

namespace facekit::analyze {

struct AgeGender {
  float age_years = 0.f;
  float male = 0.f;  ///< P(male)
};

/// True when the model set holds face-api's age_gender net.
bool has_age_gender(const ModelRuntime::Impl& models);

/// One batch for the faces of `bgr`, each given by its 468 mesh points (x, y in image pixels).
std::vector<AgeGender> run_age_gender(const ModelRuntime::Impl& models, const cv::Mat& bgr,
                                      const std::vector<std::vector<cv::Point2f>>& meshes);

}  // namespace facekit::analyze
