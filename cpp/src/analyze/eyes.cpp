#include "analyze/eyes.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "facekit/error.h"

namespace facekit::analyze {

namespace {
constexpr int kSide = 64;
// The crop is the eye-corner segment enlarged 2.3x and squared (human src/face/iris.ts).
constexpr float kEyeCropScale = 2.3f;
// Mesh eye corners: image-left eye 33 -> 133, image-right eye 263 -> 362 (facemeshcoords.ts).
constexpr int kCorners[2][2] = {{33, 133}, {263, 362}};
// Iris model contour: 0-8 lower lid corner to corner, 9-15 upper lid above lower 1-7.
constexpr int kLowerFirst = 0, kLowerLast = 8, kUpperFirst = 9, kUpperCount = 7;
// Inner lips (13 upper, 14 lower) and inner mouth corners (78, 308).
constexpr int kLipUpper = 13, kLipLower = 14, kMouthA = 78, kMouthB = 308;

cv::Point2f xy(const std::vector<Point>& mesh, int k) { return {mesh[k].x, mesh[k].y}; }
}  // namespace

std::array<float, 2> eye_openness(const ModelRuntime::Impl& models, const cv::Mat& bgr, const std::vector<Point>& mesh) {
  if (mesh.size() < 468) throw Error(ErrorCode::kInvalidArgument, "eye openness needs the 468-point mesh");
  const ModelInfo& m = models.info("iris");
  auto input = at::empty({2, kSide, kSide, 3}, at::kFloat);
  for (int e = 0; e < 2; ++e) {
    const cv::Point2f a = xy(mesh, kCorners[e][0]), b = xy(mesh, kCorners[e][1]);
    const cv::Point2f c = (a + b) * 0.5f, d = b - a;
    double angle = std::atan2(d.y, d.x) * 180.0 / CV_PI;  // level the corner line
    if (angle > 90) angle -= 180;
    if (angle < -90) angle += 180;
    const double side = std::max(1.0, static_cast<double>(kEyeCropScale) * std::hypot(d.x, d.y));
    cv::Mat t = cv::getRotationMatrix2D(c, angle, kSide / side);
    t.at<double>(0, 2) += kSide / 2.0 - c.x;
    t.at<double>(1, 2) += kSide / 2.0 - c.y;
    cv::Mat crop;
    cv::warpAffine(bgr, crop, t, cv::Size(kSide, kSide), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    // The model sees one eye's shape; the image-right eye is mirrored (measured: unmirrored
    // it reads closed eyes as half open).
    if (e == 1) cv::flip(crop, crop, 1);
    cv::cvtColor(crop, crop, cv::COLOR_BGR2RGB);
    cv::Mat f(kSide, kSide, CV_32FC3, input[e].data_ptr<float>());
    crop.convertTo(f, CV_32FC3, m.scale, 0);
  }
  const at::Tensor out = models.forward("iris", input)[0].contiguous();
  std::array<float, 2> open{};
  for (int e = 0; e < 2; ++e) {
    const float* p = out[e].data_ptr<float>();
    auto pt = [&](int k) { return cv::Point2f(p[3 * k], p[3 * k + 1]); };
    const cv::Point2f w = pt(kLowerLast) - pt(kLowerFirst);
    const float width = std::hypot(w.x, w.y);
    float gap = 0.f;
    for (int j = 0; j < kUpperCount; ++j) gap += std::abs(pt(kUpperFirst + j).y - pt(kLowerFirst + 1 + j).y);
    open[e] = width > 0 ? gap / kUpperCount / width : 0.f;
  }
  return open;
}

float mouth_openness(const std::vector<Point>& mesh) {
  if (mesh.size() < 468) throw Error(ErrorCode::kInvalidArgument, "mouth openness needs the 468-point mesh");
  const cv::Point2f gap = xy(mesh, kLipUpper) - xy(mesh, kLipLower);
  const cv::Point2f width = xy(mesh, kMouthA) - xy(mesh, kMouthB);
  const float w = std::hypot(width.x, width.y);
  return w > 0 ? std::hypot(gap.x, gap.y) / w : 0.f;
}

}  // namespace facekit::analyze
