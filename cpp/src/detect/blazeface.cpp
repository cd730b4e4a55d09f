#include "detect/blazeface.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "detect/tiling.h"

namespace facekit::detect {

const std::vector<cv::Point2f>& anchors() {
  static const std::vector<cv::Point2f> a = [] {
    std::vector<cv::Point2f> v;
    // 16x16 grid with 2 anchors per cell (stride 16), then 8x8 with 6 (stride 32).
    for (auto [grid, per_cell] : {std::pair{16, 2}, std::pair{8, 6}})
      for (int y = 0; y < grid; ++y)
        for (int x = 0; x < grid; ++x)
          for (int k = 0; k < per_cell; ++k) v.emplace_back((x + 0.5f) / grid, (y + 0.5f) / grid);
    return v;
  }();
  return a;
}

std::vector<Detection> decode(const std::vector<at::Tensor>& out, int64_t b, float threshold) {
  std::vector<Detection> dets;
  const auto& anc = anchors();
  const float logit_min = std::log(threshold / (1.f - threshold));
  int64_t base = 0;
  for (int level = 0; level < 2; ++level) {
    auto scores = out[level][b].contiguous();     // [n, 1]
    auto reg = out[level + 2][b].contiguous();    // [n, 16]
    const float* s = scores.data_ptr<float>();
    const float* r = reg.data_ptr<float>();
    const int64_t n = scores.size(0);
    for (int64_t i = 0; i < n; ++i) {
      if (s[i] < logit_min) continue;
      const cv::Point2f a = anc[base + i] * static_cast<float>(kInputSide);
      const float* ri = r + i * 16;
      Detection d;
      d.score = 1.f / (1.f + std::exp(-s[i]));
      const float cx = a.x + ri[0], cy = a.y + ri[1], w = ri[2], h = ri[3];
      d.box = cv::Rect2f(cx - w / 2, cy - h / 2, w, h);
      for (int k = 0; k < 6; ++k) d.keypoints[k] = cv::Point2f(a.x + ri[4 + 2 * k], a.y + ri[5 + 2 * k]);
      dets.push_back(d);
    }
    base += n;
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
  const auto windows = plan_windows(bgr.cols, bgr.rows, min_face, max_face);
  const ModelInfo& m = models_.info("blazeface-back");
  constexpr int S = kInputSide;
  auto input = at::empty({static_cast<int64_t>(windows.size()), S, S, 3}, at::kFloat);
  for (size_t i = 0; i < windows.size(); ++i) {
    const Window& w = windows[i];
    // The window maps onto the 256 input by one scale; parts outside the image stay black.
    const double scale = static_cast<double>(S) / w.side;
    const cv::Rect roi = cv::Rect(w.x, w.y, w.side, w.side) & cv::Rect(0, 0, bgr.cols, bgr.rows);
    cv::Mat tile = cv::Mat::zeros(S, S, CV_8UC3);
    const int ox = static_cast<int>(std::lround((roi.x - w.x) * scale));
    const int oy = static_cast<int>(std::lround((roi.y - w.y) * scale));
    const int rw = std::clamp(static_cast<int>(std::lround(roi.width * scale)), 1, S - ox);
    const int rh = std::clamp(static_cast<int>(std::lround(roi.height * scale)), 1, S - oy);
    cv::resize(bgr(roi), tile(cv::Rect(ox, oy, rw, rh)), cv::Size(rw, rh), 0, 0,
               scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    cv::cvtColor(tile, tile, cv::COLOR_BGR2RGB);  // per 256 px tile, not the whole image
    cv::Mat f(S, S, CV_32FC3, input[i].data_ptr<float>());
    tile.convertTo(f, CV_32FC3, m.scale, -m.mean[0] * m.scale);
  }
  const auto out = models_.forward("blazeface-back", input);
  std::vector<Detection> all;
  for (size_t i = 0; i < windows.size(); ++i) {
    const Window& w = windows[i];
    const float inv = static_cast<float>(w.side) / S;
    for (auto d : decode(out, static_cast<int64_t>(i), threshold)) {
      d.box = cv::Rect2f(d.box.x * inv + w.x, d.box.y * inv + w.y, d.box.width * inv, d.box.height * inv);
      for (auto& k : d.keypoints) k = cv::Point2f(k.x * inv + w.x, k.y * inv + w.y);
      all.push_back(d);
    }
  }
  return nms(std::move(all), iou);
}

}  // namespace facekit::detect
