#include "align/align.h"

#include <opencv2/imgproc.hpp>

namespace facekit::align {

const std::array<cv::Point2f, 5> kArcFace112 = {cv::Point2f(38.2946f, 51.6963f), cv::Point2f(73.5318f, 51.5014f),
                                                cv::Point2f(56.0252f, 71.7366f), cv::Point2f(41.5493f, 92.3655f),
                                                cv::Point2f(70.7299f, 92.2041f)};

cv::Mat similarity_transform(const std::array<cv::Point2f, 5>& src, const std::array<cv::Point2f, 5>& dst) {
  constexpr int n = 5;
  cv::Point2d ms(0, 0), md(0, 0);
  for (int i = 0; i < n; ++i) {
    ms += cv::Point2d(src[i]);
    md += cv::Point2d(dst[i]);
  }
  ms /= n;
  md /= n;
  // Covariance of centred points, and the variance of the source.
  double a = 0, b = 0, var = 0;  // a = sum(sx*dx + sy*dy), b = sum(sx*dy - sy*dx)
  for (int i = 0; i < n; ++i) {
    const cv::Point2d s = cv::Point2d(src[i]) - ms, d = cv::Point2d(dst[i]) - md;
    a += s.x * d.x + s.y * d.y;
    b += s.x * d.y - s.y * d.x;
    var += s.x * s.x + s.y * s.y;
  }
  if (var <= 1e-12) return (cv::Mat_<double>(2, 3) << 1, 0, md.x - ms.x, 0, 1, md.y - ms.y);
  // For 2-D similarity the Umeyama solution reduces to: scale*cos = a/var, scale*sin = b/var.
  const double c = a / var, s = b / var;
  const double tx = md.x - (c * ms.x - s * ms.y);
  const double ty = md.y - (s * ms.x + c * ms.y);
  return (cv::Mat_<double>(2, 3) << c, -s, tx, s, c, ty);
}

cv::Mat aligned_crop(const cv::Mat& bgr, const std::array<cv::Point2f, 5>& landmarks, int size) {
  std::array<cv::Point2f, 5> dst;
  const float k = size / 112.f;
  for (int i = 0; i < 5; ++i) dst[i] = kArcFace112[i] * k;
  cv::Mat m = similarity_transform(landmarks, dst);
  cv::Mat out;
  cv::warpAffine(bgr, out, m, cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
  return out;
}

}  // namespace facekit::align
