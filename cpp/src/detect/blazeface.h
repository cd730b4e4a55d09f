#pragma once
// BlazeFace (back / full-range) run fully convolutionally over an image pyramid: decoding, NMS.
#include <opencv2/core.hpp>

#include <array>
#include <vector>

#include "detect/pyramid.h"
#include "models/runtime_impl.h"

namespace facekit::detect {

struct Detection {
  cv::Rect2f box;                    ///< in image pixels
  float score = 0.f;
  std::array<cv::Point2f, 6> keypoints;  ///< right eye (image left), left eye, nose, mouth, ear, ear
};

/// Decodes the raw outputs (scores16, scores32, regress16, regress32) of batch item b of a
/// width x height input; boxes and keypoints in input pixels.
std::vector<Detection> decode(const std::vector<at::Tensor>& outputs, int64_t b, int width, int height, float threshold);

/// Greedy NMS, best first; keeps a detection unless IoU with a kept one exceeds `iou`.
std::vector<Detection> nms(std::vector<Detection> dets, float iou);

/// For each detection of `dets` (best score first, as nms leaves them), the earlier ones that
/// hold it: bigger, and holding more than half of its box. A finer pyramid level finds parts
/// of a big face (a headshot's mouth and chin) that way.
std::vector<std::vector<size_t>> holders_of(const std::vector<Detection>& dets);

/// Sets every pixel of `f` (CV_32FC3) outside the disjoint rectangles `filled` to `value`: a
/// forward pass's padding, around the parts its passes fill.
void fill_outside(cv::Mat& f, const std::vector<cv::Rect>& filled, float value);

class FaceDetector {
 public:
  explicit FaceDetector(const ModelRuntime::Impl& models) : models_(models) {}
  /// All faces in `bgr`, boxes in image pixels, before min/max filtering.
  std::vector<Detection> detect(const cv::Mat& bgr, int min_face, int max_face, float threshold, float iou) const;
  /// Faces in one small pass over the whole image, its long side scaled to `side` (never up),
  /// padded to multiples of the model's stride: the big faces of a photo at a fraction of
  /// a 256 px pass's cost.
  std::vector<Detection> detect_whole(const cv::Mat& bgr, int side, float threshold, float iou) const;

 private:
  /// The detections of `passes` (finest level first), in image pixels, before NMS; each
  /// forward pass at least min_side on both sides.
  std::vector<Detection> run_passes(const cv::Mat& bgr, const std::vector<Pass>& passes, float threshold,
                                    int min_side) const;
  /// The same for passes grouped into forward passes (finest level first).
  std::vector<Detection> run_packs(const cv::Mat& bgr, const std::vector<Pack>& packs, float threshold) const;
  const ModelRuntime::Impl& models_;
};

}  // namespace facekit::detect
