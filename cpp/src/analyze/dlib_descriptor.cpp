#include "analyze/dlib_descriptor.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "analyze/model_input.h"

namespace facekit::analyze {

namespace {
constexpr const char* kFloatModel = "face_recognition";
constexpr const char* kInt8Model = "face_recognition_int8";
// face-api's FaceLandmarks.alignDlib geometry.
constexpr float kEyeMouthToSide = 1.f / 0.45f, kLeftOfCentre = 0.5f, kAboveCentre = 0.43f;
}  // namespace

std::string dlib_model(const ModelRuntime::Impl& models, bool int8) {
  if (int8 && models.has(kInt8Model)) return kInt8Model;
  return models.has(kFloatModel) ? kFloatModel : "";
}

cv::Mat dlib_crop(const cv::Mat& bgr, const std::array<cv::Point2f, 5>& l) {
  const cv::Point2f le = l[0], re = l[1], mouth = (l[3] + l[4]) * 0.5f;
  const float side = 0.5f * static_cast<float>(cv::norm(mouth - le) + cv::norm(mouth - re)) * kEyeMouthToSide;
  const cv::Point2f centre = (le + re + mouth) / 3.f;
  // Axis-aligned, as face-api feeds it: levelling the eye line measured worse in the fusion
  // (faces-dev TAR @ FAR 1e-3 0.927 vs 0.958, ORL equal; bench/accuracy/dlib_fusion.py rot5).
  const double k = side / kDlibSide;
  const cv::Mat m = (cv::Mat_<double>(2, 3) << k, 0, centre.x - kLeftOfCentre * side,  //
                     0, k, centre.y - kAboveCentre * side);
  cv::Mat crop;
  cv::warpAffine(bgr, crop, m, cv::Size(kDlibSide, kDlibSide), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_CONSTANT, cv::Scalar::all(0));
  cv::cvtColor(crop, crop, cv::COLOR_BGR2RGB);
  return crop;
}

std::vector<std::vector<float>> run_dlib(const ModelRuntime::Impl& models, const std::string& model,
                                         const std::vector<FaceRef>& faces, const RunCall& run) {
  if (faces.empty()) return {};
  const ModelInfo& m = models.info(model);
  constexpr int S = kDlibSide;
  // Each face twice, as cropped and mirrored: the mean of the two descriptors (docs/ACCURACY.md:
  // faces-dev TAR @ FAR 1e-3 0.927 -> 0.958 fused, ORL 0.999 both). One batch, crops [0, n)
  // and mirrors [n, 2n): the int8 net costs less per image in a bigger batch.
  const int64_t n_faces = static_cast<int64_t>(faces.size());
  auto both = at::empty({2 * n_faces, S, S, 3}, at::kFloat);
  for (int64_t i = 0; i < n_faces; ++i) {
    const cv::Mat rgb = dlib_crop(*faces[static_cast<size_t>(i)].bgr, faces[static_cast<size_t>(i)].landmarks);
    cv::Mat mirrored;
    cv::flip(rgb, mirrored, 1);
    write_input(m, rgb, both[i]);
    write_input(m, mirrored, both[n_faces + i]);
  }
  at::Tensor out;
  const std::function<void()> call = [&] { out = models.forward(model, both)[0].contiguous(); };
  if (run) {
    run(call);
  } else {
    call();
  }
  const at::Tensor a = out.narrow(0, 0, n_faces), b = out.narrow(0, n_faces, n_faces);
  std::vector<std::vector<float>> result(faces.size());
  const int64_t n = a.size(1);
  for (int64_t i = 0; i < n_faces; ++i) {
    const float* pa = a[i].data_ptr<float>();
    const float* pb = b[i].data_ptr<float>();
    const float ia = inverse_norm(pa, n), ib = inverse_norm(pb, n);  // each of the pair counts equally
    auto& r = result[static_cast<size_t>(i)];
    r.resize(n);
    for (int64_t k = 0; k < n; ++k) r[k] = pa[k] * ia + pb[k] * ib;
    const float inv = inverse_norm(r.data(), n);
    for (float& v : r) v *= inv;
  }
  return result;
}

std::vector<float> fuse(const std::vector<float>& identity, const std::vector<float>& dlib, float dlib_weight) {
  const float a = std::sqrt(1.f - dlib_weight), b = std::sqrt(dlib_weight);
  std::vector<float> out;
  out.reserve(identity.size() + dlib.size());
  for (float v : identity) out.push_back(a * v);
  for (float v : dlib) out.push_back(b * v);
  return out;
}

}  // namespace facekit::analyze
