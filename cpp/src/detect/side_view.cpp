#include "detect/side_view.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace facekit::detect {

namespace {
constexpr const char* kModel = "face_detector_ssd";
constexpr int kSide = 512;  ///< the SSD's input side
}  // namespace

bool has_side_view_detector(const ModelRuntime::Impl& models) { return models.has(kModel); }

std::vector<Detection> detect_side_views(const ModelRuntime::Impl& models, const cv::Mat& bgr, float min_score,
                                         float iou) {
  if (bgr.empty()) return {};
  // Resizing before padding gives face-api's pad-then-resize geometry without a square copy
  // of a big photo; bilinear, as face-api resizes (its scores move by < 0.04 with OpenCV's).
  const int side = std::max(bgr.cols, bgr.rows);
  const double scale = static_cast<double>(kSide) / side;
  const cv::Size fitted(std::clamp(static_cast<int>(std::lround(bgr.cols * scale)), 1, kSide),
                        std::clamp(static_cast<int>(std::lround(bgr.rows * scale)), 1, kSide));
  cv::Mat resized;
  cv::resize(bgr, resized, fitted, 0, 0, cv::INTER_LINEAR);
  cv::cvtColor(resized, resized, cv::COLOR_BGR2RGB);
  auto input = at::zeros({1, kSide, kSide, 3}, at::kFloat);  // zero padding at the bottom / right
  cv::Mat canvas(kSide, kSide, CV_32FC3, input.data_ptr<float>());
  resized.convertTo(canvas(cv::Rect(0, 0, fitted.width, fitted.height)), CV_32FC3);
  const auto out = models.forward(kModel, input);
  const auto boxes = out[0].contiguous(), scores = out[1].contiguous();
  const float* b = boxes.data_ptr<float>();
  const float* s = scores.data_ptr<float>();
  // Box fractions are of the padded square, whose side is the photo's long side.
  const float to_px = static_cast<float>(side);
  std::vector<Detection> found;
  for (int64_t i = 0; i < scores.size(1); ++i) {
    if (!(s[i] >= min_score)) continue;
    const float* r = b + 4 * i;  // ymin, xmin, ymax, xmax
    Detection d;
    d.score = s[i];
    d.box = cv::Rect2f(r[1] * to_px, r[0] * to_px, (r[3] - r[1]) * to_px, (r[2] - r[0]) * to_px);
    if (d.box.width > 0 && d.box.height > 0) found.push_back(d);
  }
  return nms(std::move(found), iou);
}

}  // namespace facekit::detect
