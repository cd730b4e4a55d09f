#pragma once
// BlazeFace (back / full-range) detector over planned windows: anchors, decoding, NMS.
#include <opencv2/core.hpp>

#include <array>
#include <vector>

#include "models/runtime_impl.h"

namespace facekit::detect {

struct Detection {
  cv::Rect2f box;                    ///< in image pixels
  float score = 0.f;
  std::array<cv::Point2f, 6> keypoints;  ///< right eye (image left), left eye, nose, mouth, ear, ear
};

/// The 896 anchor centres (normalised 0..1) in the model's output order.
const std::vector<cv::Point2f>& anchors();

/// Decodes one window's raw outputs (scores16, scores32, regress16, regress32 for batch item b).
std::vector<Detection> decode(const std::vector<at::Tensor>& outputs, int64_t b, float threshold);

/// Greedy NMS, best first; keeps a detection unless IoU with a kept one exceeds `iou`.
std::vector<Detection> nms(std::vector<Detection> dets, float iou);

class FaceDetector {
 public:
  explicit FaceDetector(const ModelRuntime::Impl& models) : models_(models) {}
  /// All faces in `bgr`, boxes in image pixels, before min/max filtering.
  std::vector<Detection> detect(const cv::Mat& bgr, int min_face, int max_face, float threshold, float iou) const;

 private:
  const ModelRuntime::Impl& models_;
};

}  // namespace facekit::detect
