#include "detect/blazeface.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>
#include <opencv2/imgproc.hpp>

#include "common/claimed_chunks.h"
#include "common/env_switch.h"
#include "common/thread_buffer.h"
#include "detect/occlusion.h"
#include "detect/pyramid.h"
#include "detect/texture.h"
#include "facekit/error.h"
#include "image/area_resize.h"

namespace facekit::detect {

namespace {

// BlazeFace's anchor layout at any input size (multiples of kStride): a grid at stride 16 with
// 2 anchors per cell, then one at stride 32 with 6; each anchor's box and keypoints are
// offsets in input pixels from its cell's centre.
constexpr int kAnchorLevels[2][2] = {{16, 2}, {32, 6}};

// FACEKIT_OCCLUSION=0: the finest level scans all of the photo, as before (for A/B runs).
bool occlusion_enabled() {
  static const bool on = env_switch_on("FACEKIT_OCCLUSION");
  return on;
}

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

std::vector<std::vector<size_t>> holders_of(const std::vector<Detection>& dets) {
  std::vector<std::vector<size_t>> out(dets.size());
  for (size_t i = 0; i < dets.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const float area = dets[i].box.area();
      if (dets[j].box.area() > area && area > 0 && (dets[j].box & dets[i].box).area() > 0.5f * area) out[i].push_back(j);
    }
  return out;
}

namespace {

// The image shrunk to `size` by area averaging. At a ratio that is not a whole number the
// general path (image::resize_area, OpenCV's bytes) reads every source pixel; a whole-number
// reduction first (~0.1 ms at 2x, 0.5 ms at 3x from 1920x1080; also OpenCV's bytes) leaves it
// a source 4x or more smaller. In a
// photo over kMaxScanPixels the factor is the largest whole number under the ratio that
// divides both sides (a 6000x6000 photo to 228 px: 25, not the general path from 36 MP);
// smaller photos keep the factor of the ratio alone, so their levels, and the readings
// measured on them, stay as they were.
int whole_factor(cv::Size src, cv::Size size) {
  const int ratio = std::min(src.width / size.width, src.height / size.height);
  if (static_cast<double>(src.width) * src.height <= kMaxScanPixels) return ratio;
  for (int k = ratio; k >= 2; --k)
    if (src.width % k == 0 && src.height % k == 0) return k;
  return 1;
}

void shrink(const cv::Mat& src, cv::Mat& dst, cv::Size size) {
  // Less than halved (a finest level between 1/2 and 1 of the photo): bilinear. INTER_AREA's
  // general path took 11.6 ms for 1920x1080 -> 1200x675 against 1.6 ms, and the group photo at
  // min_face 40 0.75-0.84x as long, with the same recall, precision, pose and blink readings
  // (docs/BENCHMARKS.md). Under a 2x reduction bilinear still reads nearly every source pixel.
  if (size.width * 2 > src.cols && size.height * 2 > src.rows) {
    cv::resize(src, dst, size, 0, 0, cv::INTER_LINEAR);
    return;
  }
  const int k = whole_factor(src.size(), size);
  if (k < 2 || src.cols % k != 0 || src.rows % k != 0) {
    image::resize_area(src, dst, size);
    return;
  }
  cv::Mat reduced;
  image::resize_area(src, reduced, {src.cols / k, src.rows / k});
  if (reduced.size() == size)
    dst = reduced;
  else
    image::resize_area(reduced, dst, size);
}

// Only the part a pass reads is converted (a headshot's finest level: the strips beside the
// head, not the photo), in bands of rows over the threads.
void to_model_input(const cv::Mat& bgr, cv::Mat& input, float scale, float shift) {
  constexpr int kChunkRows = 16;
  parallel_claimed(bgr.rows, kChunkRows, [&](ChunkLane& chunks) {
    struct Site;  // the chunk's RGB bytes in the thread's buffer (common/thread_buffer.h)
    uint8_t* bytes = thread_buffer<Site, uint8_t>(0, static_cast<size_t>(kChunkRows) * bgr.cols * 3);
    for (int64_t begin, end; chunks.claim(begin, end);) {
      cv::Mat rgb(static_cast<int>(end - begin), bgr.cols, CV_8UC3, bytes);
      cv::cvtColor(bgr.rowRange(static_cast<int>(begin), static_cast<int>(end)), rgb, cv::COLOR_BGR2RGB);
      cv::Mat to = input.rowRange(static_cast<int>(begin), static_cast<int>(end));
      rgb.convertTo(to, CV_32FC3, scale, shift);
    }
  });
}

}  // namespace

// The padding alone, not the whole input first (a 1920x1088 input is 25 MB: 1.7 ms to fill).
void fill_outside(cv::Mat& f, const std::vector<cv::Rect>& filled, float value) {
  std::vector<std::pair<int, int>> spans;
  for (int y = 0; y < f.rows; ++y) {
    spans.clear();
    for (const cv::Rect& r : filled)
      if (y >= r.y && y < r.br().y) spans.emplace_back(r.x, r.br().x);
    std::sort(spans.begin(), spans.end());
    float* row = f.ptr<float>(y);
    int x = 0;
    for (const auto& [from, to] : spans) {
      std::fill(row + 3 * x, row + 3 * std::max(x, from), value);
      x = std::max(x, to);
    }
    std::fill(row + 3 * x, row + 3 * f.cols, value);
  }
}

std::vector<Detection> FaceDetector::detect(const cv::Mat& bgr, int min_face, int max_face, float threshold,
                                            float iou) const {
  const std::vector<Pass> passes = plan_passes(bgr.cols, bgr.rows, min_face, max_face);
  // The finest level, where it runs alone (a small one shares a forward pass with the coarser
  // levels and costs little), goes last: the big faces the coarser levels find hide parts of
  // the photo from it (detect/occlusion.h).
  const auto coarser =
      std::find_if(passes.begin(), passes.end(), [&](const Pass& p) { return p.scale != passes[0].scale; });
  const bool alone = std::any_of(passes.begin(), coarser,
                                 [](const Pass& p) { return p.width > kPackMaxSide || p.height > kPackMaxSide; });
  if (!alone || coarser == passes.end() || !occlusion_enabled())
    return nms(run_passes(bgr, passes, threshold, kTrainedSide), iou);
  std::vector<Detection> all = run_passes(bgr, std::vector<Pass>(coarser, passes.end()), threshold, kTrainedSide);
  std::vector<cv::Rect2f> hidden;
  const std::vector<Pack> packs = finest_packs(bgr.size(), {passes.begin(), coarser}, nms(all, iou), hidden);
  for (const Detection& d : run_packs(bgr, packs, threshold))
    if (!inside_any(hidden, {d.box.x + d.box.width / 2, d.box.y + d.box.height / 2})) all.push_back(d);
  return nms(all, iou);
}

std::vector<Detection> FaceDetector::detect_whole(const cv::Mat& bgr, int side, float threshold, float iou) const {
  return nms(run_passes(bgr, {whole_image_pass(bgr.cols, bgr.rows, side)}, threshold, 0), iou);
}

std::vector<Detection> FaceDetector::run_passes(const cv::Mat& bgr, const std::vector<Pass>& passes,
                                                float threshold, int min_side) const {
  return run_packs(bgr, pack_passes(passes, min_side), threshold);
}

std::vector<Detection> FaceDetector::run_packs(const cv::Mat& bgr, const std::vector<Pack>& packs,
                                               float threshold) const {
  const ModelInfo& m = models_.info("blazeface-back");
  const float pad_value = -m.mean[0] * m.scale;
  std::vector<Detection> all;
  // The scaled copies of the image (BGR; the photo itself at scale 1) that a pack's passes
  // read, each with its texture: a level is made once for its blocks and for the small levels
  // sharing one forward pass.
  struct Level {
    cv::Mat bgr;
    TextureMap texture;
  };
  std::map<double, Level> levels;
  auto level = [&](double scale) -> const Level& {
    if (auto it = levels.find(scale); it != levels.end()) return it->second;
    // Each level from the photo itself. Made from the next finer level instead, the levels
    // came 3-5 ms cheaper but shifted detector boxes enough to move FaceMesh-based readings
    // (the closed-eye reading of shared/data/blink/both_blink.jpg 0.117 -> 0.119, over its
    // 0.118 threshold; docs/ACCURACY.md, Liveness).
    const cv::Size size = scaled_size(bgr.size(), scale);
    cv::Mat scaled = bgr;
    if (size != bgr.size()) shrink(bgr, scaled, size);
    TextureMap texture(scaled);
    return levels.emplace(scale, Level{std::move(scaled), std::move(texture)}).first->second;
  };
  for (const Pack& k : packs) {
    levels.erase(levels.upper_bound(k.passes.front().scale), levels.end());  // finer levels are done
    // A pass over a region without texture cannot find a face (detect/texture.h): it is
    // skipped, so a big flat photo costs no forward pass.
    std::vector<bool> skip(k.passes.size());
    for (size_t i = 0; i < k.passes.size(); ++i) {
      const Pass& p = k.passes[i];
      skip[i] = !level(p.scale).texture.any_texture({-p.x, -p.y, p.width, p.height});
    }
    if (std::all_of(skip.begin(), skip.end(), [](bool s) { return s; })) continue;
    // The input: padding is black, as in the 256 px windows the model was converted with.
    auto input = at::empty({1, k.height, k.width, 3}, at::kFloat);
    cv::Mat f(k.height, k.width, CV_32FC3, input.data_ptr<float>());
    std::vector<cv::Rect> filled;
    for (size_t i = 0; i < k.passes.size(); ++i) {
      if (skip[i]) continue;
      const Pass& p = k.passes[i];
      const cv::Mat& image = level(p.scale).bgr;
      const cv::Rect part = cv::Rect(p.x, p.y, image.cols, image.rows) & cv::Rect(0, 0, p.width, p.height);
      cv::Mat to = f(part + k.origin[i]);
      to_model_input(image(part - cv::Point(p.x, p.y)), to, static_cast<float>(m.scale), pad_value);
      filled.push_back(part + k.origin[i]);
    }
    fill_outside(f, filled, pad_value);
    const auto out = models_.forward("blazeface-back", input);
    for (auto d : decode(out, 0, k.width, k.height, threshold)) {
      // The pass a detection belongs to: the one its centre lies in (none: padding only).
      const cv::Point2f centre(d.box.x + d.box.width / 2, d.box.y + d.box.height / 2);
      size_t i = 0;
      while (i < k.passes.size() &&
             !cv::Rect2f(cv::Point2f(k.origin[i]), cv::Size2f(k.passes[i].width, k.passes[i].height)).contains(centre))
        ++i;
      if (i == k.passes.size() || skip[i]) continue;
      const Pass& p = k.passes[i];
      const cv::Point2f origin(static_cast<float>(k.origin[i].x + p.x), static_cast<float>(k.origin[i].y + p.y));
      const cv::Rect2f box(d.box.x - k.origin[i].x, d.box.y - k.origin[i].y, d.box.width, d.box.height);  // in the pass
      // A block's inner edge cuts faces that the next block holds whole (the seams overlap
      // by the level's biggest face): drop what touches an inner edge.
      const cv::Size image = scaled_size(bgr.size(), p.scale);
      const bool cut = (p.x < 0 && box.x < 1) || (p.y < 0 && box.y < 1) ||
                       (p.x + image.width > p.width && box.br().x > p.width - 1) ||
                       (p.y + image.height > p.height && box.br().y > p.height - 1);
      if (cut) continue;
      const float inv = static_cast<float>(1.0 / p.scale);
      d.box = cv::Rect2f((d.box.x - origin.x) * inv, (d.box.y - origin.y) * inv, d.box.width * inv, d.box.height * inv);
      for (auto& kp : d.keypoints) kp = cv::Point2f((kp.x - origin.x) * inv, (kp.y - origin.y) * inv);
      all.push_back(d);
    }
  }
  return all;
}

}  // namespace facekit::detect
