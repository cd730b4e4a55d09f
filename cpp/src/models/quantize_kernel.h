#pragma once
// Float -> quint8 quantisation for the int8 dlib ResNet's activations, vectorised.
//
// Debian's LibTorch is built without FBGEMM, so aten::quantize_per_tensor takes its scalar
// fallback: a fifth of the int8 descriptor net's time (3.8 of 18.4 ms at batch 2, one thread,
// torch profiler). This does the same arithmetic eight values at a time, giving the same bytes.
#include <ATen/ATen.h>

namespace facekit::models {

/// aten::quantize_per_tensor(x, scale, zero_point, dtype) with the scale and zero point given
/// as one-element tensors (as the traced int8 graph holds them): for a float32 input,
/// contiguous in its memory format, and quint8 on a CPU with AVX2, the vectorised kernel;
/// otherwise ATen's. The same bytes either way: round half to even of x * (1 / scale), plus
/// the zero point, clamped to 0..255.
at::Tensor quantize_per_tensor(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                               at::ScalarType dtype);

/// The TorchScript operator the graph rewrite calls: "facekit::quantize_per_tensor".
const char* quantize_per_tensor_op();

}  // namespace facekit::models
