#include "analyze/spoof.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

namespace facekit::analyze {

namespace {
constexpr int kSide = 128;
// Square crop 1.2x the face box: human feeds the detector's crop, a little wider than the face.
constexpr float kCropScale = 1.2f;
}  // namespace

float real_face_score(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& box) {
  const ModelInfo& m = models.info("antispoof");
  const float cx = box.left + box.width / 2, cy = box.top + box.height / 2;
  const float scale = kSide / std::max(1.f, kCropScale * std::max(box.width, box.height));
  cv::Mat t = (cv::Mat_<double>(2, 3) << scale, 0, kSide / 2.0 - cx * scale, 0, scale, kSide / 2.0 - cy * scale);
  cv::Mat crop;
  cv::warpAffine(bgr, crop, t, cv::Size(kSide, kSide), cv::INTER_AREA, cv::BORDER_REPLICATE);
  cv::cvtColor(crop, crop, cv::COLOR_BGR2RGB);
  auto input = at::empty({1, kSide, kSide, 3}, at::kFloat);
  cv::Mat f(kSide, kSide, CV_32FC3, input.data_ptr<float>());
  crop.convertTo(f, CV_32FC3, m.scale, 0);
  return models.forward("antispoof", input)[0].reshape({-1})[0].item<float>();
}

}  // namespace facekit::analyze
