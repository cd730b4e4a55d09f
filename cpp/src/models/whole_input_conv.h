#pragma once
// A convolution whose kernel covers its whole input (FaceMesh's heads: 1404 and 266 outputs
// from a 32 x 3 x 3 map) is a matrix product. LibTorch hands it to oneDNN, which reorders the
// weights (1.6 MB for the mesh head) into its own layout on every call: the three heads took
// 0.73-1.03 ms a mesh call at one thread, 0.29 ms as matrix-vector products on the weights as
// they are stored (docs/BENCHMARKS.md).
#include <ATen/ATen.h>

#include <c10/util/Optional.h>

namespace facekit::models {

/// conv2d(x, weight, bias, stride) with no padding, dilation 1, one group. When x's spatial
/// size equals the kernel's (a 1x1 output, whatever the stride) and everything is float32 on
/// the CPU, computed per image as bias + weight.flatten(1) @ x[i].flatten() (the same sums to
/// float rounding); otherwise by at::conv2d.
at::Tensor whole_input_conv(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                            at::IntArrayRef stride);

/// The TorchScript operator the graph rewrite calls: "facekit::whole_input_conv".
const char* whole_input_conv_op();

}  // namespace facekit::models
