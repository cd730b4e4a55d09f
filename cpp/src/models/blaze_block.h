#pragma once
// BlazeFace's and FaceMesh's residual block as one pass: relu(pointwise(depthwise3x3(x)) + x),
// or PReLU in place of the ReLU (FaceMesh).
//
// LibTorch runs the block as three operators, each a pass over a tensor that does not fit in
// cache at a group photo's size (24 channels at 352x608 is 20 MB): the depthwise and pointwise
// convolutions and the addition are memory-bound there. This kernel makes one pass, row by
// row: the depthwise row stays in L1/L2 for the pointwise product, the residual is read once
// and the output written once. graph_rewrite.h puts it in the detector's graph at load.
#include <ATen/ATen.h>

#include <ATen/core/List.h>
#include <c10/util/Optional.h>

namespace facekit::models {

/// relu(conv1x1(depthwise_conv3x3(x, pad 1) + dw_bias, pw) + pw_bias + x) for x [N, C, H, W]
/// float32 with dw_weight [C, 1, 3, 3] and pw_weight [C, C, 1, 1]; with `slope` ([C] or [1]),
/// PReLU instead of ReLU. The result is channels-last, as oneDNN's convolutions return it.
/// C of 16, 24, 32, 48, 64, 96 or 128 on a CPU with AVX2 and FMA runs the one-pass kernel (with
/// AVX-512 where the CPU has it and FACEKIT_AVX512 is not "0": the same floats,
/// blaze_block_avx512.h); anything else runs LibTorch's operators (the same function).
at::Tensor blaze_block(const at::Tensor& x, const at::Tensor& dw_weight, const c10::optional<at::Tensor>& dw_bias,
                       const at::Tensor& pw_weight, const c10::optional<at::Tensor>& pw_bias,
                       const c10::optional<at::Tensor>& slope);

/// blaze_block applied K times (block i's weights at index i), as one pass over the rows where
/// a block's tensor is bigger than the cache: each block's rows are made as the next block
/// needs them, in a ring of three rows, so the intermediate tensors never reach memory. The
/// same result as K blaze_block calls. All blocks ReLU or all PReLU.
at::Tensor blaze_blocks(const at::Tensor& x, at::TensorList dw_weights,
                        const c10::List<c10::optional<at::Tensor>>& dw_biases, at::TensorList pw_weights,
                        const c10::List<c10::optional<at::Tensor>>& pw_biases,
                        const c10::List<c10::optional<at::Tensor>>& slopes);

/// blaze_blocks(input_conv_relu(image, conv_weight, conv_bias, stride, padding), ...)
/// (input_conv.h): where the blocks run as a chain, the convolution's rows are made as the
/// first block reads them, so its output (20 MB at a 704x1216 detector input) never goes to
/// memory either. The same result as the two calls, bit for bit.
at::Tensor blaze_blocks_after_input_conv(const at::Tensor& image, const at::Tensor& conv_weight,
                                         const c10::optional<at::Tensor>& conv_bias, at::IntArrayRef stride,
                                         at::IntArrayRef padding, at::TensorList dw_weights,
                                         const c10::List<c10::optional<at::Tensor>>& dw_biases,
                                         at::TensorList pw_weights,
                                         const c10::List<c10::optional<at::Tensor>>& pw_biases,
                                         const c10::List<c10::optional<at::Tensor>>& slopes);

/// BlazeFace's and FaceMesh's stride-2 block as one pass: relu(conv1x1(depthwise(x)) +
/// pad(maxpool2x2(x))), or PReLU with `slope` ([C_out] or [1]) in place of the ReLU (FaceMesh);
/// the depthwise convolution [C_in, 1, 4, 4] at stride 2, padding 1, its first row and column
/// zero (TensorFlow's "same" 3x3 as the converter wrote it); the max-pooled input's channels
/// padded with zeros to the output's. LibTorch runs four or five operators and as many passes
/// over memory (the max-pool and the depthwise convolution each read the 20 MB input at a group
/// photo's size). Channels 24 -> 24, 24 -> 48, 48 -> 96, 96 -> 96 (BlazeFace) and 16 -> 32,
/// 32 -> 64, 64 -> 128, 128 -> 128 (FaceMesh) on a CPU with AVX2 and FMA run the kernel (the
/// same function to float rounding); anything else LibTorch's operators.
at::Tensor blaze_block_s2(const at::Tensor& x, const at::Tensor& dw_weight, const c10::optional<at::Tensor>& dw_bias,
                          const at::Tensor& pw_weight, const c10::optional<at::Tensor>& pw_bias,
                          const c10::optional<at::Tensor>& slope);
at::Tensor blaze_block_s2_reference(const at::Tensor& x, const at::Tensor& dw_weight,
                                    const c10::optional<at::Tensor>& dw_bias, const at::Tensor& pw_weight,
                                    const c10::optional<at::Tensor>& pw_bias, const c10::optional<at::Tensor>& slope);
bool blaze_block_s2_has_kernel(const at::Tensor& x, const at::Tensor& dw_weight, const at::Tensor& pw_weight,
                               const c10::optional<at::Tensor>& slope);

/// LibTorch's operators, the reference the kernel is tested against.
at::Tensor blaze_block_reference(const at::Tensor& x, const at::Tensor& dw_weight,
                                 const c10::optional<at::Tensor>& dw_bias, const at::Tensor& pw_weight,
                                 const c10::optional<at::Tensor>& pw_bias, const c10::optional<at::Tensor>& slope);

/// Whether blaze_block takes the one-pass kernel for these shapes on this CPU.
bool blaze_block_has_kernel(const at::Tensor& x, const at::Tensor& dw_weight, const at::Tensor& pw_weight,
                            const c10::optional<at::Tensor>& slope);

/// The TorchScript operator the graph rewrite calls: "facekit::blaze_block".
const char* blaze_block_op();
/// "facekit::blaze_blocks".
const char* blaze_blocks_op();
/// "facekit::blaze_blocks_after_input_conv".
const char* blaze_blocks_after_input_conv_op();
/// "facekit::blaze_block_s2".
const char* blaze_block_s2_op();

}  // namespace facekit::models
