// A BGR image -> a model's input tensor, as its manifest entry says (resize, colour order,
// mean and scale, layout). Crops and alignment are the engine's; this is the last step.
#include <opencv2/imgproc.hpp>

#include "facekit/error.h"
#include "facekit/models.h"
#include "image/area_resize.h"

namespace facekit {

Tensor prepare_input(const ModelInfo& m, const uint8_t* bgr, int width, int height) {
  if (!bgr || width <= 0 || height <= 0) throw Error(ErrorCode::kInvalidArgument, "empty image");
  const bool nchw = m.layout == "NCHW";
  const int h = static_cast<int>(nchw ? m.input_shape[2] : m.input_shape[1]);
  const int w = static_cast<int>(nchw ? m.input_shape[3] : m.input_shape[2]);
  cv::Mat src(height, width, CV_8UC3, const_cast<uint8_t*>(bgr));
  cv::Mat resized;
  image::resize_area(src, resized, cv::Size(w, h));
  const bool rgb = m.colour == "RGB";
  Tensor t;
  t.shape = nchw ? std::vector<int64_t>{1, 3, h, w} : std::vector<int64_t>{1, h, w, 3};
  t.data.resize(static_cast<size_t>(3) * h * w);
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const int src_c = rgb ? 2 - c : c;  // channel c of the model's colour order
        const float v = (row[3 * x + src_c] - m.mean[c]) * m.scale;
        const size_t idx = nchw ? (static_cast<size_t>(c) * h + y) * w + x : (static_cast<size_t>(y) * w + x) * 3 + c;
        t.data[idx] = v;
      }
  }
  return t;
}

}  // namespace facekit
