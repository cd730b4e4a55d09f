#include "analyze/quality.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "analyze/pose_model.h"

namespace facekit::analyze {

namespace {
constexpr double kDeg = 180.0 / CV_PI;
// Yaw correction for the mesh's flattening of turned faces (docs/ACCURACY.md, Head pose):
// a turn about the camera's vertical axis by kYawGain * min(|yaw| / 60, 1)^kYawPower degrees,
// outwards. Both fitted on the dev half of the AFLW2000 subset (mean geodesic error).
constexpr double kYawGain = 21.0, kYawPower = 6.0, kYawRef = 60.0;

// Rotation r (model -> camera; its columns are the head's x, y, z axes in a camera frame with
// x right, y up, z towards the camera) of the scaled-orthographic projection of the canonical face that best fits the
// mesh's image points: least-squares 2x3 affine map of the centred model onto the centred
// points, then the nearest pair of orthonormal rows (SVD), completed by their cross product.
cv::Matx33d fit_rotation(const Mesh& mesh) {
  const auto& p = mesh.points;
  cv::Vec3d vm(0, 0, 0);
  cv::Vec2d xm(0, 0);
  for (int i = 0; i < kCanonicalFacePoints; ++i) {
    vm += cv::Vec3d(kCanonicalFace[i][0], kCanonicalFace[i][1], kCanonicalFace[i][2]);
    xm += cv::Vec2d(p[i].x, -p[i].y);  // image y points down
  }
  vm *= 1.0 / kCanonicalFacePoints;
  xm *= 1.0 / kCanonicalFacePoints;
  cv::Matx33d a = cv::Matx33d::zeros();
  cv::Matx32d b = cv::Matx32d::zeros();
  for (int i = 0; i < kCanonicalFacePoints; ++i) {
    const cv::Vec3d v = cv::Vec3d(kCanonicalFace[i][0], kCanonicalFace[i][1], kCanonicalFace[i][2]) - vm;
    const cv::Vec2d x = cv::Vec2d(p[i].x, -p[i].y) - xm;
    a += v * v.t();
    b += v * x.t();
  }
  const cv::Matx23d affine = (a.inv(cv::DECOMP_CHOLESKY) * b).t();
  cv::Mat w, u, vt;
  cv::SVD::compute(cv::Mat(affine), w, u, vt);
  const cv::Mat rows = u * vt;  // 2x3, orthonormal rows
  const cv::Vec3d r0(rows.at<double>(0, 0), rows.at<double>(0, 1), rows.at<double>(0, 2));
  const cv::Vec3d r1(rows.at<double>(1, 0), rows.at<double>(1, 1), rows.at<double>(1, 2));
  const cv::Vec3d r2 = r0.cross(r1);
  return {r0[0], r0[1], r0[2], r1[0], r1[1], r1[2], r2[0], r2[1], r2[2]};
}
}  // namespace

Pose head_pose(const Mesh& mesh) {
  if (mesh.points.size() < static_cast<size_t>(kCanonicalFacePoints)) return {};
  cv::Matx33d r = fit_rotation(mesh);
  // FaceMesh flattens strongly turned faces: turn further about the camera's vertical axis.
  // `turn`: the facing direction (head z axis) against the camera's, seen from above.
  const double turn = std::atan2(r(0, 2), r(2, 2)) * kDeg;
  const double extra =
      std::copysign(kYawGain * std::pow(std::min(std::abs(turn) / kYawRef, 1.0), kYawPower), turn) / kDeg;
  const cv::Matx33d ry(std::cos(extra), 0, std::sin(extra), 0, 1, 0, -std::sin(extra), 0, std::cos(extra));
  r = ry * r;
  // Euler angles in AFLW2000's convention, r = Rx(-pitch) Ry(-yaw) Rz(-roll): yaw > 0 = face
  // turned to image right, pitch > 0 = chin up, roll > 0 = image-right side of the face lower.
  Pose pose;
  pose.yaw = static_cast<float>(-std::asin(std::clamp(r(0, 2), -1.0, 1.0)) * kDeg);
  pose.pitch = static_cast<float>(-std::atan2(-r(1, 2), r(2, 2)) * kDeg);
  pose.roll = static_cast<float>(-std::atan2(-r(0, 1), r(0, 0)) * kDeg);
  return pose;
}

float blur_score(const cv::Mat& grey) {
  cv::Mat lap;
  cv::Laplacian(grey, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  const double var = stddev[0] * stddev[0];
  return static_cast<float>(kBlurHalfVariance / (kBlurHalfVariance + var));
}

FaceQuality assess(const Mesh& mesh, const cv::Mat& aligned_bgr112, float box_side, const QualityRules& rules) {
  FaceQuality q;
  const Pose pose = head_pose(mesh);
  q.pitch = pose.pitch;
  q.yaw = pose.yaw;
  q.roll = pose.roll;
  cv::Mat grey;
  cv::cvtColor(aligned_bgr112, grey, cv::COLOR_BGR2GRAY);
  // The centre of the template holds the face; the corners may be padding.
  const cv::Mat face = grey(cv::Rect(24, 24, 64, 80));
  q.blur = blur_score(face);
  q.illu = static_cast<float>(cv::mean(face)[0]);
  q.side_face = std::abs(q.yaw) > 30.f;
  q.good = std::abs(q.yaw) <= rules.max_yaw && std::abs(q.pitch) <= rules.max_pitch && q.blur <= rules.max_blur &&
           q.illu >= rules.min_illu && q.illu <= rules.max_illu && box_side >= rules.min_side;
  return q;
}

}  // namespace facekit::analyze
