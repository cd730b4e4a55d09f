#pragma once
// Rewrites of a converted model's TorchScript graph that keep its outputs bit for bit and
// save memory passes that LibTorch 1.13 cannot fuse into its convolutions.
#include <memory>

#include <torch/csrc/jit/api/module.h>

namespace facekit::models {

/// A residual addition whose one operand is a convolution's output used nowhere else runs in
/// place on that output, fused with a ReLU that follows it: conv -> add -> relu becomes
/// conv -> _add_relu_, conv -> add becomes conv -> add_ (alpha 1 only, either operand order).
/// One pass over the tensor instead of three, and no new tensor. BlazeFace at 704x1216 ran
/// 0.81-0.86x as long, FaceMesh 0.93-0.96x (docs/BENCHMARKS.md). Returns the rewrites made.
int fuse_residual_additions(std::shared_ptr<torch::jit::Graph>& graph);

/// The same on a module's forward method.
int fuse_residual_additions(torch::jit::Module& module);

/// After fuse_residual_additions: each residual block, depthwise 3x3 (stride 1, pad 1) ->
/// pointwise -> _add_relu_ of the block's input (BlazeFace), or add_ then prelu (FaceMesh),
/// becomes one facekit::blaze_block call (blaze_block.h): the same function to float
/// rounding, one pass over memory instead of three. Returns the blocks replaced. On a module,
/// only blocks whose weights the kernel takes (blaze_block_has_kernel).
int fuse_blaze_blocks(std::shared_ptr<torch::jit::Graph>& graph);
int fuse_blaze_blocks(torch::jit::Module& module);

/// After fuse_blaze_blocks: each run of facekit::blaze_block calls that feed only one another
/// (the output of one is the next one's input and used nowhere else), all ReLU or all PReLU,
/// becomes one facekit::blaze_blocks call: the blocks one row at a time, their intermediate
/// tensors never in memory (blaze_block.h). Bit for bit. Returns the runs replaced.
int chain_blaze_blocks(std::shared_ptr<torch::jit::Graph>& graph);
int chain_blaze_blocks(torch::jit::Module& module);

/// Each convolution whose kernel, bigger than 1x1, tiles its input (stride = kernel size, no
/// padding, dilation 1, one group; the weight a module attribute) becomes
/// facekit::whole_input_conv (whole_input_conv.h): matrix-vector products when, at run time,
/// the kernel covers the whole input (FaceMesh's three heads: 0.3 against 0.7-1.0 ms at one
/// thread), the same convolution otherwise. The same function to float rounding. Returns the
/// calls replaced.
int fuse_whole_input_convolutions(torch::jit::Module& module);

/// After fuse_residual_additions: BlazeFace's and FaceMesh's stride-2 blocks (a 4x4 depthwise
/// convolution at stride 2 whose first row and column are zero, a pointwise one, a 2x2 max-pool
/// of the same input, its channels padded with zeros, the addition and a ReLU or PReLU) become
/// facekit::blaze_block_s2 (blaze_block.h): one pass instead of four or five. The same function
/// to float rounding. Returns the blocks replaced.
int fuse_stride_two_blocks(torch::jit::Module& module);

/// The image's permutation to NCHW, a convolution of its three channels (16, 24 or 32 outputs,
/// symmetric stride and padding) and the ReLU after it become facekit::input_conv_relu
/// (input_conv.h): BlazeFace's first layer, its all-zero taps skipped and the ReLU applied as
/// the output is stored. The same function to float rounding. After chain_blaze_blocks, such a
/// convolution whose output only a chain of blocks reads joins it
/// (facekit::blaze_blocks_after_input_conv, blaze_block.h). Returns the convolutions replaced.
int fuse_input_convolutions(torch::jit::Module& module);

/// After fuse_residual_additions: MobileFaceNet's depthwise-separable convolutions and what
/// follows each (and, after the rewrites above, what the other graphs have left: BlazeFace's
/// heads, the iris and age/gender models' convolutions) become facekit::pointwise_conv and
/// facekit::depthwise_conv calls (separable_conv.h): a 1x1 convolution (one group) with the PReLU or
/// the in-place residual addition after it, or alone; a depthwise 3x3 (stride 1) or 4x4
/// TensorFlow-"same" (stride 2) convolution with its PReLU or alone, and a global depthwise one
/// (padding 0, the kernel as big as its input). Each pointwise weight is stored
/// once more, transposed to [C_in, C_out], as a module attribute ("<name>_in_out"). The same
/// function to float rounding. Returns the calls made.
int fuse_separable_convolutions(torch::jit::Module& module);

/// In an int8 graph: each aten::quantize_per_tensor with tensor scale and zero point becomes
/// facekit::quantize_per_tensor, and each aten::dequantize facekit::dequantize
/// (quantize_kernel.h): the same bytes, vectorised where ATen (built without FBGEMM)
/// (de)quantises value by value. Returns the calls replaced.
int vectorise_quantize(torch::jit::Module& module);

}  // namespace facekit::models
