#include "analyze/faceres.h"

#include "align/align.h"

namespace facekit::analyze {

float decode_age(const float* p, int n) {
  int a = 0, b = -1;
  for (int i = 1; i < n; ++i) {
    if (p[i] > p[a]) {
      b = a;
      a = i;
    } else if (b < 0 || p[i] > p[b]) {
      b = i;
    }
  }
  const float wa = p[a], wb = b >= 0 ? p[b] : 0.f;
  if (wa + wb <= 0.f) return static_cast<float>(a + 1);
  return 1.f + (a * wa + (b >= 0 ? b * wb : 0.f)) / (wa + wb);
}

std::vector<FaceresResult> run_faceres(const ModelRuntime::Impl& models, const cv::Mat& bgr,
                                       const std::vector<std::array<cv::Point2f, 5>>& faces) {
  std::vector<FaceRef> refs;
  for (const auto& f : faces) refs.push_back({&bgr, f});
  return run_faceres(models, refs);
}

std::vector<FaceresResult> run_faceres(const ModelRuntime::Impl& models, const std::vector<FaceRef>& faces) {
  if (faces.empty()) return {};
  const ModelInfo& m = models.info("faceres");
  constexpr int S = kFaceresSide;
  auto input = at::empty({static_cast<int64_t>(faces.size()), S, S, 3}, at::kFloat);
  for (size_t i = 0; i < faces.size(); ++i) {
    cv::Mat crop = align::aligned_crop(*faces[i].bgr, faces[i].landmarks, S);  // BGR, as faceres was trained
    cv::Mat f(S, S, CV_32FC3, input[static_cast<int64_t>(i)].data_ptr<float>());
    crop.convertTo(f, CV_32FC3, m.scale);
    f -= cv::Scalar(m.mean[0], m.mean[1], m.mean[2]);
  }
  const auto out = models.forward("faceres", input);
  auto descriptors = unit_rows(out[0]);
  auto male = out[1].contiguous(), age = out[2].contiguous();
  std::vector<FaceresResult> results(faces.size());
  for (size_t i = 0; i < faces.size(); ++i) {
    auto& r = results[i];
    r.descriptor = std::move(descriptors[i]);
    r.attributes.male = male[static_cast<int64_t>(i)][0].item<float>();
    r.attributes.female = 1.f - r.attributes.male;
    r.attributes.age_years = decode_age(age[static_cast<int64_t>(i)].data_ptr<float>(), static_cast<int>(age.size(1)));
    r.attributes.kid = r.attributes.age_years < 14.f;
  }
  return results;
}

}  // namespace facekit::analyze
