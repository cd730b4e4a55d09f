#include "models/whole_input_conv.h"

#include <torch/library.h>

namespace facekit::models {

at::Tensor whole_input_conv(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                            at::IntArrayRef stride) {
  const bool has_bias = bias && bias->defined();
  const bool as_product = x.dim() == 4 && weight.dim() == 4 && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
                          weight.scalar_type() == at::kFloat && x.size(1) == weight.size(1) &&
                          x.size(2) == weight.size(2) && x.size(3) == weight.size(3) &&
                          (!has_bias || (bias->scalar_type() == at::kFloat && bias->numel() == weight.size(0)));
  if (!as_product) return at::conv2d(x, weight, bias, stride);
  const int64_t n = x.size(0), out = weight.size(0);
  // NCHW order on both sides: the weight's own layout, read in place. One matrix-vector
  // product per image: as a matrix product, OpenBLAS copies (packs) the whole weight first.
  const at::Tensor rows = x.contiguous().reshape({n, -1});
  const at::Tensor w = weight.contiguous().reshape({out, -1});
  at::Tensor y = at::empty({n, out}, x.options());
  for (int64_t i = 0; i < n; ++i) {
    at::Tensor yi = y[i];
    if (has_bias)
      at::addmv_out(yi, bias->reshape({out}), w, rows[i]);
    else
      at::mv_out(yi, w, rows[i]);
  }
  return y.reshape({n, out, 1, 1});
}

const char* whole_input_conv_op() { return "facekit::whole_input_conv"; }

TORCH_LIBRARY_FRAGMENT(facekit, m) {
  m.def("whole_input_conv(Tensor x, Tensor weight, Tensor? bias, int[] stride) -> Tensor", &whole_input_conv);
}

}  // namespace facekit::models
