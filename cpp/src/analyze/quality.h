#pragma once
// Face quality: head pose from the mesh, blur and illumination from the aligned crop.
#include <opencv2/core.hpp>

#include "analyze/mesh.h"
#include "facekit/types.h"

namespace facekit::analyze {

struct Pose {
  float pitch = 0.f, yaw = 0.f, roll = 0.f;  ///< degrees
};

/// Pose from the mesh's image points: rotation of the scaled-orthographic projection of
/// MediaPipe's canonical face (pose_model.h) that best fits them, a yaw correction for the
/// mesh's flattening of turned faces, then Euler angles in AFLW2000's convention
/// (R = Rx(-pitch) Ry(-yaw) Rz(-roll)). The mesh's z is not used.
Pose head_pose(const Mesh& mesh);

/// Variance of the Laplacian of the 112x112 aligned grey crop, mapped to 0 (sharp) .. 1.
float blur_score(const cv::Mat& aligned_grey112);
constexpr double kBlurHalfVariance = 150.0;  ///< Laplacian variance that maps to blur 0.5

/// Rules for `quality` (docs/ENGINE.md).
struct QualityRules {
  float max_yaw = 30.f, max_pitch = 25.f, max_blur = 0.6f, min_illu = 40.f, max_illu = 220.f;
  float min_side = 40.f;  ///< face box side in pixels
};

FaceQuality assess(const Mesh& mesh, const cv::Mat& aligned_bgr112, float box_side, const QualityRules& rules = {});

}  // namespace facekit::analyze
