#include "analyze/quality.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

namespace facekit::analyze {

namespace {
constexpr int kCheekLeft = 234, kCheekRight = 454, kForehead = 10, kChin = 152;
constexpr double kDeg = 180.0 / CV_PI;
constexpr float kPitchOffset = 3.5f;

cv::Vec3d vec(const cv::Point3f& a, const cv::Point3f& b) { return {b.x - a.x, b.y - a.y, b.z - a.z}; }
}  // namespace

Pose head_pose(const Mesh& mesh) {
  const auto& p = mesh.points;
  cv::Vec3d x = cv::normalize(vec(p[kCheekLeft], p[kCheekRight]));
  cv::Vec3d y = vec(p[kForehead], p[kChin]);
  y = cv::normalize(y - x * x.dot(y));
  const cv::Vec3d z = x.cross(y);  // points away from the camera for a frontal face
  Pose pose;
  pose.yaw = static_cast<float>(std::atan2(z[0], z[2]) * kDeg);
  // Positive pitch = chin up (AFLW2000 convention). The forehead-chin line leans ~3 degrees
  // from the head's vertical axis: offset fitted on the AFLW2000 subset (docs/ACCURACY.md).
  pose.pitch = static_cast<float>(std::atan2(z[1], std::sqrt(z[0] * z[0] + z[2] * z[2])) * kDeg) + kPitchOffset;
  pose.roll = static_cast<float>(std::atan2(x[1], x[0]) * kDeg);
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
