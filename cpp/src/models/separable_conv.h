#pragma once
// MobileFaceNet's depthwise-separable convolutions, each with what follows it (the PReLU, or
// the residual addition), as one pass over channels-last tensors.
//
// As oneDNN graphs (torch::jit::optimize_for_inference) the model's 33 PReLUs ran as separate
// operators, ~3 of its ~12 ms at one thread, and its depthwise convolutions left the oneDNN
// layout. Its maps are small (at most 64 x 56 x 56 floats, in L2), so what costs is the number
// of passes and operator calls, not memory traffic: here the pointwise product ends in the
// PReLU or the addition, and the depthwise one in its PReLU, as each output is stored.
// graph_rewrite.h puts them in MobileFaceNet's graph at load.
#include <ATen/ATen.h>

#include <c10/util/Optional.h>

namespace facekit::models {

/// act(conv1x1(x, weight) + bias + residual) for x [N, C_in, H, W] float32 (any layout), with
/// the weight stored as [C_in, C_out] (the 1x1 convolution's [C_out, C_in, 1, 1] transposed,
/// once, at load), bias [C_out] (optional), residual [N, C_out, H, W] (optional) and act the
/// PReLU of `slope` ([C_out] or [1]) or none. The result is channels-last. On a CPU with AVX2
/// and FMA it runs the kernel (C_out not a multiple of 16: without a residual): each output's
/// products summed in input-channel order, then the bias, the residual and the PReLU
/// (LibTorch's operators sum in another order: the same function to float rounding). Anything
/// else runs LibTorch's operators.
at::Tensor pointwise_conv(const at::Tensor& x, const at::Tensor& weight_in_out, const c10::optional<at::Tensor>& bias,
                          const c10::optional<at::Tensor>& slope, const c10::optional<at::Tensor>& residual);

/// Whether the pointwise kernel takes `c_out` output channels (any: it pads them to whole
/// slices of 16): the graph rewrite replaces only such convolutions.
bool pointwise_conv_takes(int64_t c_out);

/// Whether pointwise_conv runs its kernel on these arguments (else LibTorch's operators).
bool pointwise_conv_has_kernel(const at::Tensor& x, const at::Tensor& weight_in_out,
                               const c10::optional<at::Tensor>& bias, const c10::optional<at::Tensor>& slope,
                               const c10::optional<at::Tensor>& residual);

/// The same with LibTorch's operators: the reference the kernel is tested against.
at::Tensor pointwise_conv_reference(const at::Tensor& x, const at::Tensor& weight_in_out,
                                    const c10::optional<at::Tensor>& bias, const c10::optional<at::Tensor>& slope,
                                    const c10::optional<at::Tensor>& residual);

/// act(depthwise_conv(x, weight) + bias) for x [N, C, H, W] float32 (any layout), one of:
/// a [C, 1, 3, 3] weight at stride (1, 1), padding (1, 1); a [C, 1, 4, 4] weight at stride
/// (2, 2), padding (1, 1), whose first row and column are zero (TensorFlow's "same" 3x3 at
/// stride 2, as the converter wrote it); a square weight of side k <= 16 with padding (0, 0),
/// which the kernel runs where the input is k x k too (a global depthwise convolution, one
/// output per channel: MobileFaceNet's 7x7 before its embedding). act: the PReLU of `slope`
/// ([C] or [1]) or none. The result is channels-last. C a multiple of 8 on a CPU with AVX2 and
/// FMA runs the kernel (LibTorch's function to float rounding); anything else LibTorch's
/// operators.
at::Tensor depthwise_conv(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                          const c10::optional<at::Tensor>& slope, at::IntArrayRef stride, at::IntArrayRef padding);

/// Whether depthwise_conv runs its kernel on these arguments (else LibTorch's operators).
bool depthwise_conv_has_kernel(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                               const c10::optional<at::Tensor>& slope, at::IntArrayRef stride, at::IntArrayRef padding);

/// The same with LibTorch's operators.
at::Tensor depthwise_conv_reference(const at::Tensor& x, const at::Tensor& weight,
                                    const c10::optional<at::Tensor>& bias, const c10::optional<at::Tensor>& slope,
                                    at::IntArrayRef stride, at::IntArrayRef padding);

/// Whether depthwise_conv takes these arguments at all (the shapes above, channels a multiple
/// of 8): the graph rewrite replaces only such convolutions.
bool depthwise_conv_takes(const at::Tensor& weight, at::IntArrayRef stride, at::IntArrayRef padding);

/// The TorchScript operators the graph rewrite calls: "facekit::pointwise_conv" and
/// "facekit::depthwise_conv".
const char* pointwise_conv_op();
const char* depthwise_conv_op();

}  // namespace facekit::models
