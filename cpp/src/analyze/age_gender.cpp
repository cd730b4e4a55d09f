#include "analyze/age_gender.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "analyze/model_input.h"

namespace facekit::analyze {

namespace {

constexpr const char* kModel = "age_gender";
constexpr int kSide = 112;
// FaceMesh stand-ins for the 68 iBUG points face-api's crop is made from (jaw, brows, nose,
// eyes, lips; bench/accuracy/dlib_fusion.py MESH68, checked on overlays).
constexpr int kMesh68[68] = {127, 234, 93,  132, 58,  136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,
                             70,  63,  105, 66,  107, 336, 296, 334, 293, 300, 168, 197, 5,   4,   75,  97,  2,
                             326, 305, 33,  160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380, 61,  39,  37,
                             0,   267, 269, 291, 405, 314, 17,  84,  181, 78,  82,  13,  312, 308, 317, 14,  87};
// face-api's alignedRect: the points' bounding box grown 10 % on each side.
constexpr float kGrow = 0.2f;

// face-api's crop: the box clipped to the image, zero-padded to a centred square, 112 px, RGB.
cv::Mat crop(const cv::Mat& bgr, const std::vector<cv::Point2f>& mesh) {
  float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
  for (int k : kMesh68) {
    x0 = std::min(x0, mesh[k].x), y0 = std::min(y0, mesh[k].y);
    x1 = std::max(x1, mesh[k].x), y1 = std::max(y1, mesh[k].y);
  }
  const float w = x1 - x0, h = y1 - y0;
  const cv::Rect2f grown(x0 - kGrow / 2 * w, y0 - kGrow / 2 * h, (1 + kGrow) * w, (1 + kGrow) * h);
  cv::Rect roi(cv::Point(static_cast<int>(std::floor(std::max(0.f, grown.x))),
                         static_cast<int>(std::floor(std::max(0.f, grown.y)))),
               cv::Point(static_cast<int>(std::floor(std::min<float>(bgr.cols, grown.br().x))),
                         static_cast<int>(std::floor(std::min<float>(bgr.rows, grown.br().y)))));
  roi &= cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (roi.width < 2 || roi.height < 2) return cv::Mat::zeros(kSide, kSide, CV_8UC3);
  cv::Mat face;
  const int diff = std::abs(roi.width - roi.height);
  const int after = static_cast<int>(std::lround(diff * 0.5)), before = diff - after;
  if (roi.width > roi.height)
    cv::copyMakeBorder(bgr(roi), face, before, after, 0, 0, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  else
    cv::copyMakeBorder(bgr(roi), face, 0, 0, before, after, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  cv::resize(face, face, cv::Size(kSide, kSide), 0, 0, cv::INTER_LINEAR);
  cv::cvtColor(face, face, cv::COLOR_BGR2RGB);
  return face;
}

}  // namespace

bool has_age_gender(const ModelRuntime::Impl& models) { return models.has(kModel); }

std::vector<AgeGender> run_age_gender(const ModelRuntime::Impl& models, const cv::Mat& bgr,
                                      const std::vector<std::vector<cv::Point2f>>& meshes) {
  if (meshes.empty()) return {};
  const ModelInfo& m = models.info(kModel);
  auto input = at::empty({static_cast<int64_t>(meshes.size()), kSide, kSide, 3}, at::kFloat);
  for (size_t i = 0; i < meshes.size(); ++i) {
    cv::Mat rgb = crop(bgr, meshes[i]);
    write_input(m, rgb, input[static_cast<int64_t>(i)]);
  }
  const auto out = models.forward(kModel, input);
  auto age = out[0].contiguous(), gender = out[1].contiguous();
  std::vector<AgeGender> r(meshes.size());
  for (size_t i = 0; i < meshes.size(); ++i) {
    r[i].age_years = std::max(0.f, age[static_cast<int64_t>(i)][0].item<float>());
    r[i].male = gender[static_cast<int64_t>(i)][0].item<float>();
  }
  return r;
}

}  // namespace facekit::analyze
