// NanoDet decoding (GFL head, as RangiLyu/nanodet's post-processing): per level, class
// scores (sigmoid in the graph) and, per side, a distribution over 11 distance bins whose
// expectation times the stride is the distance from the cell centre to that side.
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "detect/blazeface.h"
#include "facekit/error.h"
#include "facekit/person.h"
#include "image/area_resize.h"
#include "image/cv_image.h"
#include "models/runtime_impl.h"

namespace facekit {

namespace {
constexpr int kSide = 416;
constexpr int kBins = 11;
constexpr int kClasses = 80;
constexpr int kPersonClass = 0;
}  // namespace

PersonDetector::PersonDetector(const ModelRuntime& models) : models_(models) {}

std::vector<Person> PersonDetector::detect(const Image& image, const PersonOptions& opt) const {
  if (image.empty() || image.bgr.size() != static_cast<size_t>(image.width) * image.height * 3)
    throw Error(ErrorCode::kInvalidArgument, "image is empty or its pixel buffer does not match its size");
  const ModelInfo& m = models_.info("nanodet");
  // Letterbox: keep the aspect ratio, pad bottom/right with black.
  const double scale = static_cast<double>(kSide) / std::max(image.width, image.height);
  const int w = std::max(1, static_cast<int>(std::lround(image.width * scale)));
  const int h = std::max(1, static_cast<int>(std::lround(image.height * scale)));
  // Shrunk, then swapped to RGB: each channel is resampled on its own, so the order changes no
  // byte, and the swap touches 416 px instead of the photo.
  cv::Mat resized;
  if (scale < 1)
    image::resize_area(as_mat(image), resized, cv::Size(w, h));
  else
    cv::resize(as_mat(image), resized, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
  cv::cvtColor(resized, resized, cv::COLOR_BGR2RGB);
  cv::Mat canvas = cv::Mat::zeros(kSide, kSide, CV_8UC3);
  resized.copyTo(canvas(cv::Rect(0, 0, w, h)));
  auto input = at::empty({1, 3, kSide, kSide}, at::kFloat);
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c) planes.emplace_back(kSide, kSide, CV_32F, input[0][c].data_ptr<float>());
  cv::Mat f;
  canvas.convertTo(f, CV_32FC3, m.scale);
  cv::split(f, planes);
  const auto out = models_.impl().forward("nanodet", input);
  std::vector<detect::Detection> dets;
  for (size_t level = 0; level < out.size(); level += 2) {
    auto scores = out[level][0].contiguous(), boxes = out[level + 1][0].contiguous();
    const int64_t n = scores.size(0);
    const int grid = static_cast<int>(std::lround(std::sqrt(static_cast<double>(n))));
    const float stride = static_cast<float>(kSide) / grid;
    const float* s = scores.data_ptr<float>();
    const float* b = boxes.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      const float score = s[i * kClasses + kPersonClass];
      if (score < opt.threshold) continue;
      float dist[4];
      for (int side = 0; side < 4; ++side) {
        const float* bins = b + i * 4 * kBins + side * kBins;
        const float mx = *std::max_element(bins, bins + kBins);
        float sum = 0.f, expect = 0.f;
        for (int k = 0; k < kBins; ++k) {
          const float e = std::exp(bins[k] - mx);
          sum += e;
          expect += e * k;
        }
        dist[side] = expect / sum * stride;
      }
      const float cx = (i % grid + 0.5f) * stride, cy = (i / grid + 0.5f) * stride;
      detect::Detection d;
      d.score = score;
      d.box = cv::Rect2f(cx - dist[0], cy - dist[1], dist[0] + dist[2], dist[1] + dist[3]);
      dets.push_back(d);
    }
  }
  std::vector<Person> people;
  const cv::Rect2f frame(0, 0, static_cast<float>(image.width), static_cast<float>(image.height));
  for (const auto& d : detect::nms(std::move(dets), opt.nms_iou)) {
    const cv::Rect2f r(d.box.x / scale, d.box.y / scale, d.box.width / scale, d.box.height / scale);
    const cv::Rect2f c = r & frame;
    if (c.area() <= 0) continue;
    people.push_back({{c.x, c.y, c.width, c.height}, d.score});
  }
  return people;
}

}  // namespace facekit
