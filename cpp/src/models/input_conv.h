#pragma once
// A detector's first convolution, on the image as the engine hands it over (NHWC, three
// channels), with the ReLU after it, as one pass.
//
// BlazeFace's converted graph permutes its NHWC input to NCHW, convolves it 3 -> 24 with a
// 6x6 stride-2 kernel whose first row and column are zero (TensorFlow's asymmetric "same"
// padding of a 5x5 kernel, made symmetric by the converter), then applies a ReLU as a separate
// pass over a 20 MB map at a group photo's 704x1216 input. Here the taps that are zero in every
// output channel are skipped (75 of 108), the input is read where it lies, and the ReLU is
// applied as each output is stored.
#include <memory>
#include <vector>

#include <ATen/ATen.h>

#include <c10/util/Optional.h>

#include "models/aligned_vector.h"

namespace facekit::models {

/// relu(conv2d(x.permute({0, 3, 1, 2}), weight, bias, stride, padding)) for x [N, H, W, 3]
/// float32. Symmetric stride and padding, dilation 1, one group. The result is channels-last
/// (as oneDNN's convolutions return it). With 16, 24 or 32 output channels, a 3-channel
/// weight and a CPU with AVX2 and FMA it runs the one-pass kernel: the same sums to float
/// rounding (the order of the additions differs). Anything else runs LibTorch's operators.
at::Tensor input_conv_relu(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                           at::IntArrayRef stride, at::IntArrayRef padding);

/// The kernel's weights, packed once, and one output row at a time: for an op that consumes
/// the rows as they are made (blaze_blocks_after_input_conv, blaze_block.h). Only for shapes
/// input_conv_has_kernel takes.
class InputConvRows {
 public:
  InputConvRows(const at::Tensor& weight, const c10::optional<at::Tensor>& bias, int64_t stride, int64_t padding);
  int64_t channels() const { return channels_; }
  /// The output's side for an input side.
  int64_t out_side(int64_t in) const;
  /// Output row `oy` (relu applied; out_side(width) x channels() floats) of an image of
  /// height x width x 3 floats.
  void row(const float* image, int height, int width, int oy, float* out) const;
  /// Whether planar_row takes these weights on this CPU: 24 channels at stride 2, AVX-512 (the
  /// planar chain's path; blaze_block.cpp).
  bool makes_planar_rows() const;
  /// Output row `oy` as block_row_planar24 reads it (blaze_block_avx512.h), the same floats as
  /// row(); `planes`: planar_row_scratch_floats(width) floats.
  void planar_row(const float* image, int height, int width, int oy, float* planar, float* planes) const;
  static int planar_row_scratch_floats(int width);
  /// The whole output (channels-last) for images [N, H, W, 3], rows split over the threads.
  at::Tensor run(const at::Tensor& image) const;

 private:
  int64_t channels_ = 0, kernel_ = 0;
  int stride_ = 1, pad_ = 0;
  int ky0_ = 0, ky1_ = 0, kx0_ = 0, kx1_ = 0;  // the box of kernel taps not zero in every channel
  AlignedVector<float> w_, bias_;              // [row][column][input channel][output channel]
};

/// InputConvRows of these weights, made once per model (models/weight_cache.h).
std::shared_ptr<const InputConvRows> input_conv_rows(const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                                                     int64_t stride, int64_t padding);

/// LibTorch's operators, the reference the kernel is tested against.
at::Tensor input_conv_relu_reference(const at::Tensor& x, const at::Tensor& weight,
                                     const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                                     at::IntArrayRef padding);

/// Whether input_conv_relu takes the one-pass kernel for these shapes on this CPU.
bool input_conv_has_kernel(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                           at::IntArrayRef stride, at::IntArrayRef padding);

/// The TorchScript operator the graph rewrite calls: "facekit::input_conv_relu".
const char* input_conv_relu_op();

}  // namespace facekit::models
