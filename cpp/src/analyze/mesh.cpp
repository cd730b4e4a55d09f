#include "analyze/mesh.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

namespace facekit::analyze {

namespace {
constexpr int kSide = 192;
// MediaPipe FaceMesh indices (human src/face/facemeshcoords.ts).
constexpr int kEyeA[2] = {33, 133}, kEyeB[2] = {362, 263};
constexpr int kNoseTip = 1, kMouthA = 61, kMouthB = 291;
}  // namespace

std::vector<Mesh> run_mesh(const ModelRuntime::Impl& models, const cv::Mat& bgr,
                           const std::vector<detect::Detection>& dets) {
  if (dets.empty()) return {};
  const ModelInfo& m = models.info("facemesh");
  auto input = at::empty({static_cast<int64_t>(dets.size()), kSide, kSide, 3}, at::kFloat);
  std::vector<cv::Mat> inverse(dets.size());
  for (size_t i = 0; i < dets.size(); ++i) {
    const auto& d = dets[i];
    const cv::Point2f c(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
    const float side = std::max(d.box.width, d.box.height) * kMeshCropScale;
    // Rotate so the eye line is level, as the mesh model was trained on upright faces.
    const cv::Point2f eyes = d.keypoints[1] - d.keypoints[0];
    const double angle = std::atan2(eyes.y, eyes.x) * 180.0 / CV_PI;
    cv::Mat a = cv::getRotationMatrix2D(c, angle, kSide / side);
    a.at<double>(0, 2) += kSide / 2.0 - c.x;
    a.at<double>(1, 2) += kSide / 2.0 - c.y;
    cv::Mat crop;
    cv::warpAffine(bgr, crop, a, cv::Size(kSide, kSide), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
    cv::cvtColor(crop, crop, cv::COLOR_BGR2RGB);  // on the 192 px crop, not the whole image
    cv::Mat f(kSide, kSide, CV_32FC3, input[static_cast<int64_t>(i)].data_ptr<float>());
    crop.convertTo(f, CV_32FC3, m.scale, 0);
    cv::invertAffineTransform(a, inverse[i]);
  }
  const auto out = models.forward("facemesh", input);
  auto mesh_t = out[0].contiguous();
  auto flag_t = out[1].contiguous();
  std::vector<Mesh> meshes(dets.size());
  for (size_t i = 0; i < dets.size(); ++i) {
    const float* p = mesh_t[static_cast<int64_t>(i)].data_ptr<float>();
    const cv::Mat& inv = inverse[i];
    const double zscale = std::sqrt(std::abs(cv::determinant(inv(cv::Rect(0, 0, 2, 2)))));
    Mesh& mesh = meshes[i];
    mesh.face_probability = flag_t[static_cast<int64_t>(i)][0].item<float>();
    mesh.points.reserve(468);
    for (int k = 0; k < 468; ++k) {
      const double x = p[3 * k], y = p[3 * k + 1], z = p[3 * k + 2];
      mesh.points.emplace_back(static_cast<float>(inv.at<double>(0, 0) * x + inv.at<double>(0, 1) * y + inv.at<double>(0, 2)),
                               static_cast<float>(inv.at<double>(1, 0) * x + inv.at<double>(1, 1) * y + inv.at<double>(1, 2)),
                               static_cast<float>(z * zscale));
    }
  }
  return meshes;
}

std::array<cv::Point2f, 5> five_points(const Mesh& mesh) {
  auto xy = [&](int k) { return cv::Point2f(mesh.points[k].x, mesh.points[k].y); };
  cv::Point2f eye_a = (xy(kEyeA[0]) + xy(kEyeA[1])) * 0.5f;
  cv::Point2f eye_b = (xy(kEyeB[0]) + xy(kEyeB[1])) * 0.5f;
  cv::Point2f mouth_a = xy(kMouthA), mouth_b = xy(kMouthB);
  // "Left" is image left: order each pair along the face's left-right axis.
  if (eye_a.x > eye_b.x) std::swap(eye_a, eye_b);
  if (mouth_a.x > mouth_b.x) std::swap(mouth_a, mouth_b);
  return {eye_a, eye_b, xy(kNoseTip), mouth_a, mouth_b};
}

cv::Rect2f mesh_box(const Mesh& mesh) {
  float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
  for (const auto& p : mesh.points) {
    x0 = std::min(x0, p.x);
    y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x);
    y1 = std::max(y1, p.y);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace facekit::analyze
