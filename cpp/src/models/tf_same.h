#pragma once
// TensorFlow's "same" padding of a 3x3 stride-2 depthwise convolution, as the converted graphs
// hold it: a 4x4 kernel at padding 1 whose first row and column are zero.
#include <ATen/ATen.h>

namespace facekit::models {

/// Whether `dw_weight` ([C][1][4][4], float) is such a kernel. Read as stored, without ATen
/// operators: the kernels' checks ask it on every call.
inline bool is_tf_same_3x3(const at::Tensor& dw_weight) {
  const at::Tensor w = dw_weight.contiguous();
  const float* taps = w.data_ptr<float>();
  for (int64_t ch = 0; ch < w.size(0); ++ch)
    for (int i = 0; i < 4; ++i)
      if (taps[ch * 16 + i] != 0.f || taps[ch * 16 + i * 4] != 0.f) return false;
  return true;
}

}  // namespace facekit::models
