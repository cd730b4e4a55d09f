#pragma once
// Float <-> quint8 (de)quantisation for the int8 dlib ResNet's activations, vectorised.
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

/// aten::dequantize(x) for a per-tensor quint8 x, contiguous in its memory format, on a CPU
/// with AVX2: the same floats as ATen, (float(q) - zero_point) * scale in float, eight at a
/// time. Anything else runs ATen's. The int8 net dequantises its 150x150 input before its
/// float first layer, where ATen took 0.30 ms an image at one thread.
at::Tensor dequantize(const at::Tensor& x);

/// The TorchScript operators the graph rewrite calls: "facekit::quantize_per_tensor",
/// "facekit::dequantize".
const char* quantize_per_tensor_op();
const char* dequantize_op();

}  // namespace facekit::models
