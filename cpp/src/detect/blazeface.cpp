#include "detect/blazeface.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "detect/pyramid.h"
#include "facekit/error.h"

namespace facekit::detect {

namespace {

// BlazeFace's anchor layout at any input size (multiples of kStride): a grid at stride 16 with
// 2 anchors per cell, then one at stride 32 with 6; each anchor's box and keypoints are
// offsets in input pixels from its cell's centre.
constexpr int kAnchorLevels[2][2] = {{16, 2}, {32, 6}};

}  // namespace

std::vector<Detection> decode(const std::vector<at::Tensor>& out, int64_t b, int width, int height, float threshold) {
  std::vector<Detection> dets;
  const float logit_min = std::log(threshold / (1.f - threshold));
  for (int level = 0; level < 2; ++level) {
    const int stride = kAnchorLevels[level][0], per_cell = kAnchorLevels[level][1];
    const int gw = width / stride, gh = height / stride;
    auto scores = out[level][b].contiguous();     // [n, 1]
    auto reg = out[level + 2][b].contiguous();    // [n, 16]
    const float* s = scores.data_ptr<float>();
    const float* r = reg.data_ptr<float>();
    const int64_t n = scores.size(0);
    if (n != static_cast<int64_t>(gw) * gh * per_cell)
      throw Error(ErrorCode::kInternal, "detector output does not match its input size");
    for (int64_t i = 0; i < n; ++i) {
      if (s[i] < logit_min) continue;
      const int64_t cell = i / per_cell;
      const cv::Point2f a((cell % gw + 0.5f) * stride, (cell / gw + 0.5f) * stride);
      const float* ri = r + i * 16;
      Detection d;
      d.score = 1.f / (1.f + std::exp(-s[i]));
      const float cx = a.x + ri[0], cy = a.y + ri[1], w = ri[2], h = ri[3];
      d.box = cv::Rect2f(cx - w / 2, cy - h / 2, w, h);
      for (int k = 0; k < 6; ++k) d.keypoints[k] = cv::Point2f(a.x + ri[4 + 2 * k], a.y + ri[5 + 2 * k]);
      dets.push_back(d);
    }
  }
  return dets;
}

std::vector<Detection> nms(std::vector<Detection> dets, float iou) {
  std::sort(dets.begin(), dets.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const auto& d : dets) {
    bool keep = true;
    for (const auto& k : kept) {
      const float inter = (d.box & k.box).area();
      const float uni = d.box.area() + k.box.area() - inter;
      if (uni > 0 && inter / uni > iou) {
        keep = false;
        break;
      }
    }
    if (keep) kept.push_back(d);
  }
  return kept;
}

std::vector<Detection> FaceDetector::detect(const cv::Mat& bgr, int min_face, int max_face, float threshold,
                                            float iou) const {
  const ModelInfo& m = models_.info("blazeface-back");
  std::vector<Detection> all;
  cv::Mat scaled;
  double scaled_by = 0;
  for (const Pass& p : plan_passes(bgr.cols, bgr.rows, min_face, max_face)) {
    if (p.scale != scaled_by) {  // one resize per level, shared by its blocks
      const cv::Size size(std::max(1, static_cast<int>(std::lround(bgr.cols * p.scale))),
                          std::max(1, static_cast<int>(std::lround(bgr.rows * p.scale))));
      cv::resize(bgr, scaled, size, 0, 0, p.scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
      cv::cvtColor(scaled, scaled, cv::COLOR_BGR2RGB);
      scaled_by = p.scale;
    }
    // The input: padding is black, as in the 256 px windows the model was converted with.
    auto input = at::empty({1, p.height, p.width, 3}, at::kFloat);
    cv::Mat f(p.height, p.width, CV_32FC3, input.data_ptr<float>());
    f.setTo(cv::Scalar::all(-m.mean[0] * m.scale));
    const cv::Rect in_input = cv::Rect(p.x, p.y, scaled.cols, scaled.rows) & cv::Rect(0, 0, p.width, p.height);
    scaled(in_input - cv::Point(p.x, p.y)).convertTo(f(in_input), CV_32FC3, m.scale, -m.mean[0] * m.scale);
    const auto out = models_.forward("blazeface-back", input);
    const float inv = static_cast<float>(1.0 / p.scale);
    for (auto d : decode(out, 0, p.width, p.height, threshold)) {
      // A block's inner edge cuts faces that the next block holds whole (the seams overlap
      // by the level's biggest face): drop what touches an inner edge.
      const bool cut = (p.x < 0 && d.box.x < 1) || (p.y < 0 && d.box.y < 1) ||
                       (p.x + scaled.cols > p.width && d.box.br().x > p.width - 1) ||
                       (p.y + scaled.rows > p.height && d.box.br().y > p.height - 1);
      if (cut) continue;
      d.box = cv::Rect2f((d.box.x - p.x) * inv, (d.box.y - p.y) * inv, d.box.width * inv, d.box.height * inv);
      for (auto& k : d.keypoints) k = cv::Point2f((k.x - p.x) * inv, (k.y - p.y) * inv);
      all.push_back(d);
    }
  }
  return nms(std::move(all), iou);
}

}  // namespace facekit::detect
