#pragma once
// FaceMesh (468 points) on a rotated crop around a detection, mapped back to the image.
#include <opencv2/core.hpp>

#include <array>
#include <vector>

#include "detect/blazeface.h"
#include "models/runtime_impl.h"

namespace facekit::analyze {

struct Mesh {
  std::vector<cv::Point3f> points;  ///< 468, x/y in image pixels, z in the same scale
  float face_probability = 0.f;
};

/// Crop side relative to the detector box, and its rotation source: the eye keypoints.
constexpr float kMeshCropScale = 1.7f;

/// Meshes for several detections of one image, run as one batch.
std::vector<Mesh> run_mesh(const ModelRuntime::Impl& models, const cv::Mat& bgr,
                           const std::vector<detect::Detection>& dets);

/// The spec's five points from the mesh: eye centres (image left first), nose tip, mouth corners.
std::array<cv::Point2f, 5> five_points(const Mesh& mesh);

/// Axis-aligned bounding box of the mesh.
cv::Rect2f mesh_box(const Mesh& mesh);

}  // namespace facekit::analyze
