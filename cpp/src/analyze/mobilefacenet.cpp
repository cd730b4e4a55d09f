#include "analyze/mobilefacenet.h"

#include <opencv2/imgproc.hpp>

#include "align/align.h"
#include "analyze/model_input.h"

namespace facekit::analyze {

std::vector<std::vector<float>> run_mobilefacenet(const ModelRuntime::Impl& models, const std::vector<FaceRef>& faces) {
  if (faces.empty()) return {};
  const ModelInfo& m = models.info(kMobileFaceNet);
  constexpr int S = kMobileFaceNetSide;
  auto input = at::empty({static_cast<int64_t>(faces.size()), S, S, 3}, at::kFloat);
  for (size_t i = 0; i < faces.size(); ++i) {
    cv::Mat rgb;
    cv::cvtColor(align::aligned_crop(*faces[i].bgr, faces[i].landmarks, S), rgb, cv::COLOR_BGR2RGB);
    write_input(m, rgb, input[static_cast<int64_t>(i)]);
  }
  // Not mirrored too: averaging the mirror's descriptor measured no better for this net
  // (docs/ACCURACY.md, MobileFaceNet) at twice the cost.
  return unit_rows(models.forward(kMobileFaceNet, input)[0]);
}

}  // namespace facekit::analyze
