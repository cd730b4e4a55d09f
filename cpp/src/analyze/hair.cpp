#include "analyze/hair.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace facekit::analyze {

namespace {
constexpr int kSide = 256;  // selfie segmentation input
// Geometry in units of the face box side s, from the face centre / top / chin.
constexpr float kCropSide = 3.f, kCropAboveTop = 0.9f;
constexpr float kTopBand = 0.25f, kTopInset = 0.15f;          // above the forehead, inset from the face sides
constexpr float kSideInner = 0.35f, kSideOuter = 0.75f, kBelowChin = 0.5f;  // beside the neck
constexpr int kMinHairPixels = 10;
}  // namespace

float long_hair_fraction(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& face, const HairRule& rule) {
  const float s = std::max(face.width, face.height);
  if (s < 1.f) return 0.f;
  const float cx = face.left + face.width / 2, x0 = cx - kCropSide / 2 * s, y0 = face.top - kCropAboveTop * s;
  const double k = kSide / (kCropSide * s);
  const cv::Mat t = (cv::Mat_<double>(2, 3) << k, 0, -x0 * k, 0, k, -y0 * k);
  cv::Mat crop, valid;
  cv::warpAffine(bgr, crop, t, cv::Size(kSide, kSide), cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  cv::warpAffine(cv::Mat(bgr.size(), CV_8U, cv::Scalar(1)), valid, t, cv::Size(kSide, kSide), cv::INTER_NEAREST,
                 cv::BORDER_CONSTANT);

  const ModelInfo& m = models.info("selfie");
  auto input = at::empty({1, kSide, kSide, 3}, at::kFloat);
  cv::Mat rgb;
  cv::cvtColor(crop, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(cv::Mat(kSide, kSide, CV_32FC3, input.data_ptr<float>()), CV_32FC3, m.scale, 0);
  const at::Tensor mask_t = models.forward("selfie", input)[0].contiguous();
  const cv::Mat person(kSide, kSide, CV_32F, mask_t.data_ptr<float>());

  cv::Mat lab;
  cv::cvtColor(crop, lab, cv::COLOR_BGR2Lab);
  auto px = [&](double v) { return std::clamp(static_cast<int>(std::lround(v)), 0, kSide); };
  const int fx0 = px((cx - face.width / 2 - x0) * k), fx1 = px((cx + face.width / 2 - x0) * k);
  const int top = px((face.top - y0) * k), chin = px((face.top + face.height - y0) * k);
  const int inset = px(kTopInset * face.width * k);

  // The hair (or whatever covers the head) colour: median Lab of person pixels above the forehead.
  std::vector<float> ch[3];
  for (int y = px(top - kTopBand * s * k); y < top; ++y)
    for (int x = fx0 + inset; x < fx1 - inset; ++x)
      if (person.at<float>(y, x) > 0.5f) {
        const auto& p = lab.at<cv::Vec3b>(y, x);
        for (int c = 0; c < 3; ++c) ch[c].push_back(p[c]);
      }
  if (ch[0].size() < kMinHairPixels) return 0.f;
  cv::Vec3f hair;
  for (int c = 0; c < 3; ++c) {
    std::nth_element(ch[c].begin(), ch[c].begin() + ch[c].size() / 2, ch[c].end());
    hair[c] = ch[c][ch[c].size() / 2];
  }

  long total = 0, hits = 0;
  const int y_end = px(chin + kBelowChin * s * k);
  const int bands[2][2] = {{px((cx - kSideOuter * s - x0) * k), px((cx - kSideInner * s - x0) * k)},
                           {px((cx + kSideInner * s - x0) * k), px((cx + kSideOuter * s - x0) * k)}};
  for (const auto& b : bands)
    for (int y = chin; y < y_end; ++y)
      for (int x = b[0]; x < b[1]; ++x) {
        if (!valid.at<uint8_t>(y, x)) continue;
        ++total;
        const auto& p = lab.at<cv::Vec3b>(y, x);
        // 8-bit Lab: L scaled to 0..255; distances are in those units, as measured.
        const float d = std::sqrt((p[0] - hair[0]) * (p[0] - hair[0]) + (p[1] - hair[1]) * (p[1] - hair[1]) +
                                  (p[2] - hair[2]) * (p[2] - hair[2]));
        hits += person.at<float>(y, x) > 0.5f && d < rule.colour_distance;
      }
  return total ? static_cast<float>(hits) / total : 0.f;
}

HairStyle classify_hair(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& face, const HairRule& rule) {
  return long_hair_fraction(models, bgr, face, rule) >= rule.long_min_fraction ? HairStyle::kLong : HairStyle::kShort;
}

}  // namespace facekit::analyze
