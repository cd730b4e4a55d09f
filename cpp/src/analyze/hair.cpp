#include "analyze/hair.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "analyze/hair_weights.h"
#include "image/area_resize.h"

namespace facekit::analyze {

namespace {
constexpr int kSide = 224;  // faceres input
// Head crops: (side, top above the face box top), in face-box sides. Keep in step with
// bench/accuracy/hair.py CROPS: the weights were trained on exactly these.
constexpr float kCrops[3][2] = {{2.0f, 0.6f}, {2.6f, 0.8f}, {1.6f, 0.45f}};
constexpr float kGreyTarget = 150.f, kGreyFloor = 20.f;  // gain: face centre median grey -> 150
constexpr int kDescDims = 1024;
static_assert(hair_weights::kDims == 3 * kDescDims && hair_weights::kClasses == 4, "hair_weights.h mismatch");

// A square crop of side*s face sides (zero outside the image) resized to 224, its grey level scaled so
// the face centre has median kGreyTarget. Returns float BGR 0..255.
cv::Mat head_crop(const cv::Mat& bgr, const Box& face, float side, float above) {
  const float s = std::max(face.width, face.height);
  const int n = std::max(1, static_cast<int>(std::lround(side * s)));
  const int x0 = static_cast<int>(std::lround(face.left + face.width / 2 - side * s / 2));
  const int y0 = static_cast<int>(std::lround(face.top - above * s));
  cv::Mat canvas(n, n, CV_8UC3, cv::Scalar::all(0));
  const cv::Rect inside = cv::Rect(x0, y0, n, n) & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (inside.area() > 0) bgr(inside).copyTo(canvas(inside - cv::Point(x0, y0)));
  cv::Mat crop;
  if (n > kSide)
    image::resize_area(canvas, crop, cv::Size(kSide, kSide));
  else
    cv::resize(canvas, crop, cv::Size(kSide, kSide), 0, 0, cv::INTER_LINEAR);

  const int r0 = static_cast<int>(kSide * (above + 0.35f) / side), r1 = static_cast<int>(kSide * (above + 0.75f) / side);
  const int c0 = static_cast<int>(kSide * (0.5f - 0.2f / side)), c1 = static_cast<int>(kSide * (0.5f + 0.2f / side));
  cv::Mat grey;
  cv::cvtColor(crop(cv::Range(r0, r1), cv::Range(c0, c1)), grey, cv::COLOR_BGR2GRAY);
  std::vector<uint8_t> g(grey.begin<uint8_t>(), grey.end<uint8_t>());
  std::nth_element(g.begin(), g.begin() + g.size() / 2, g.end());
  const float gain = kGreyTarget / std::max(static_cast<float>(g[g.size() / 2]), kGreyFloor);
  cv::Mat out;
  crop.convertTo(out, CV_32FC3, gain);
  cv::min(out, 255.0, out);  // gain >= 0: only the top needs clipping
  return out;
}
}  // namespace

std::array<float, 4> hair_probabilities(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& face) {
  std::array<float, 4> p{0.f, 0.f, 0.f, 0.f};
  if (std::max(face.width, face.height) < 1.f || bgr.empty()) {
    p[0] = 1.f;
    return p;
  }
  const ModelInfo& m = models.info("faceres");
  constexpr int kCropCount = 3;
  auto input = at::empty({kCropCount, kSide, kSide, 3}, at::kFloat);
  for (int i = 0; i < kCropCount; ++i) {
    const cv::Mat crop = head_crop(bgr, face, kCrops[i][0], kCrops[i][1]);
    cv::Mat f(kSide, kSide, CV_32FC3, input[i].data_ptr<float>());
    crop.convertTo(f, CV_32FC3, m.scale);
    f -= cv::Scalar(m.mean[0], m.mean[1], m.mean[2]);
  }
  const at::Tensor desc = models.forward("faceres", input)[0].contiguous();
  double logits[4];
  for (int c = 0; c < 4; ++c) logits[c] = hair_weights::kBias[c];
  for (int i = 0; i < kCropCount; ++i) {
    const float* d = desc[i].data_ptr<float>();
    double norm = 0;
    for (int k = 0; k < kDescDims; ++k) norm += double(d[k]) * d[k];
    const double inv = norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
    for (int k = 0; k < kDescDims; ++k) {
      const float* w = hair_weights::kWeights + (i * kDescDims + k) * 4;
      const double v = d[k] * inv;
      for (int c = 0; c < 4; ++c) logits[c] += v * w[c];
    }
  }
  const double mx = *std::max_element(logits, logits + 4);
  double sum = 0;
  for (int c = 0; c < 4; ++c) sum += (logits[c] = std::exp(logits[c] - mx));
  for (int c = 0; c < 4; ++c) p[c] = static_cast<float>(logits[c] / sum);
  return p;
}

namespace {
// The photo's rows above the face box, in face sides, below which hat and braids are not
// answered. Every training photo had at least 0.21 (hair-dev medians 0.39-0.43); a face cut at
// the photo's top edge (UTK-style chips: 0.0) shows no hat or braids to see, and the
// classifier called 73 of 79 such chips "hat" (bench/accuracy/headwear_heldout.py). There,
// the answer is the likelier of short and long hair.
constexpr float kMinHeadroom = 0.15f;
}  // namespace

HairStyle classify_hair(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& face) {
  const auto p = hair_probabilities(models, bgr, face);
  const float side = std::max(face.width, face.height);
  const bool headroom = side > 0.f && face.top / side >= kMinHeadroom;
  const auto end = headroom ? p.end() : p.begin() + 2;  // kShort, kLong
  return static_cast<HairStyle>(std::max_element(p.begin(), end) - p.begin());
}

}  // namespace facekit::analyze
