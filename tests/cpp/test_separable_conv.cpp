// MobileFaceNet's separable convolutions as one pass each (models/separable_conv.h): the
// pointwise product with its PReLU or residual addition, and the depthwise convolution with
// its PReLU, compute what LibTorch's operators compute, at every shape the model has and at
// others, and the thread split changes no byte.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernel_isa_guard.h"
#include "common/cpu_features.h"
#include "models/separable_conv.h"

namespace {

using facekit::models::depthwise_conv;
using facekit::models::depthwise_conv_has_kernel;
using facekit::models::depthwise_conv_reference;
using facekit::models::depthwise_conv_takes;
using facekit::models::pointwise_conv;
using facekit::models::pointwise_conv_has_kernel;
using facekit::models::pointwise_conv_reference;

// Within 1e-5 of the output's scale: the kernels sum in another order than oneDNN.
void expect_close(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const float scale = std::max(1.f, want.abs().max().item<float>());
  EXPECT_LE((got - want).abs().max().item<float>(), 1e-5f * scale) << what;
  EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast)) << what;
}

// TensorFlow's "same" 3x3 at stride 2 as the converter writes it: 4x4, first row and column 0.
at::Tensor same_padding_weight(int64_t c) {
  at::Tensor w = at::randn({c, 1, 4, 4}) * 0.3;
  w.select(2, 0).zero_();
  w.select(3, 0).zero_();
  return w;
}

}  // namespace

TEST(SeparableConv, PointwiseMatchesLibTorchWithEachEnding) {
  c10::InferenceMode guard;
  at::manual_seed(11);
  // MobileFaceNet's channel pairs and map sizes, a single pixel, an odd map, two images;
  // BlazeFace's heads (96 -> 2, 6, 32, 96). Output channels that are not whole slices of 16
  // are made in a padded scratch, without a residual (that one LibTorch's operators add).
  const std::vector<std::pair<int64_t, int64_t>> channels = {{64, 64},   {64, 128},  {128, 64}, {128, 256},
                                                             {256, 128}, {512, 192}, {3, 32},   {64, 24},
                                                             {32, 48},   {96, 2},    {96, 6},   {96, 32}};
  const std::vector<std::array<int64_t, 3>> maps = {{1, 1, 1}, {1, 7, 7}, {1, 14, 14}, {2, 5, 3}, {1, 28, 28}};
  for (const auto& [cin, cout] : channels)
    for (const auto& [n, h, w] : maps)
      for (const int ending : {0, 1, 2, 3, 4}) {
        // none; PReLU per channel; PReLU with one slope; the residual; both, without a bias.
        const at::Tensor x = at::randn({n, cin, h, w}).contiguous(at::MemoryFormat::ChannelsLast);
        const at::Tensor weight = at::randn({cin, cout}) / std::sqrt(static_cast<double>(cin));
        const c10::optional<at::Tensor> bias = ending == 4 ? c10::nullopt : c10::optional<at::Tensor>(at::randn({cout}));
        c10::optional<at::Tensor> slope, residual;
        if (ending == 1 || ending == 4) slope = at::rand({cout}) * 0.5;
        if (ending == 2) slope = at::full({1}, 0.25f);
        if (ending >= 3) residual = at::randn({n, cout, h, w});
        const std::string what = std::to_string(cin) + "->" + std::to_string(cout) + " " + std::to_string(n) + "x" +
                                 std::to_string(h) + "x" + std::to_string(w) + " ending " + std::to_string(ending);
        // The kernel, not LibTorch's operators behind it.
        if (facekit::cpu::has_avx2_fma())
          EXPECT_EQ(pointwise_conv_has_kernel(x, weight, bias, slope, residual), cout % 16 == 0 || !residual) << what;
        const at::Tensor got = pointwise_conv(x, weight, bias, slope, residual);
        expect_close(got, pointwise_conv_reference(x, weight, bias, slope, residual), what);
        if (slope) EXPECT_GT((got < 0).sum().item<int64_t>(), 0) << what;  // negative outputs went through the slope
      }
}

TEST(SeparableConv, PointwiseThreadSplitChangesNoByte) {
  c10::InferenceMode guard;
  at::manual_seed(12);
  const at::Tensor x = at::randn({1, 128, 28, 28}).contiguous(at::MemoryFormat::ChannelsLast);
  const at::Tensor weight = at::randn({128, 64}) * 0.1, bias = at::randn({64}), slope = at::rand({64});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor one = pointwise_conv(x, weight, bias, slope, c10::nullopt);
  at::set_num_threads(2);
  const at::Tensor two = pointwise_conv(x, weight, bias, slope, c10::nullopt);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one, two));
}

TEST(SeparableConv, DepthwiseMatchesLibTorchAtBothStrides) {
  c10::InferenceMode guard;
  at::manual_seed(13);
  const std::vector<std::array<int64_t, 3>> maps = {{1, 1, 1}, {1, 2, 2}, {1, 3, 5}, {1, 7, 7}, {1, 14, 14},
                                                    {2, 28, 28}, {1, 56, 56}, {1, 6, 10}};
  for (const int64_t c : {8, 64, 128, 256, 512, 12})
    for (const auto& [n, h, w] : maps)
      for (const int64_t stride : {1, 2})
        for (const int ending : {0, 1, 2}) {
          if (stride == 2 && (h < 2 || w < 2)) continue;  // no output: LibTorch refuses it too
          // none; PReLU per channel with a bias; PReLU with one slope, without a bias. 12
          // channels and odd maps at stride 2 are not the kernel's (LibTorch's operators).
          const at::Tensor x = at::randn({n, c, h, w});
          const at::Tensor weight = stride == 1 ? at::randn({c, 1, 3, 3}) * 0.3 : same_padding_weight(c);
          const c10::optional<at::Tensor> bias = ending == 2 ? c10::nullopt : c10::optional<at::Tensor>(at::randn({c}));
          c10::optional<at::Tensor> slope;
          if (ending == 1) slope = at::rand({c}) * 0.5;
          if (ending == 2) slope = at::full({1}, 0.25f);
          const std::string what = std::to_string(c) + " " + std::to_string(n) + "x" + std::to_string(h) + "x" +
                                   std::to_string(w) + " stride " + std::to_string(stride) + " ending " +
                                   std::to_string(ending);
          if (facekit::cpu::has_avx2_fma())
            EXPECT_EQ(depthwise_conv_has_kernel(x, weight, bias, slope, {stride, stride}, {1, 1}),
                      c % 8 == 0 && (stride == 1 || (h % 2 == 0 && w % 2 == 0)))
                << what;
          expect_close(depthwise_conv(x, weight, bias, slope, {stride, stride}, {1, 1}),
                       depthwise_conv_reference(x, weight, bias, slope, {stride, stride}, {1, 1}), what);
        }
}

// A global depthwise convolution (padding 0, the kernel as big as the input: MobileFaceNet's
// 7x7 before its embedding) gives one output per channel; over a bigger input LibTorch's
// operators run it.
TEST(SeparableConv, GlobalDepthwiseMatchesLibTorch) {
  c10::InferenceMode guard;
  at::manual_seed(14);
  for (const int64_t c : {8, 512, 12})
    for (const int64_t side : {7, 3, 1})
      for (const int64_t extra : {0, 2})
        for (const int ending : {0, 1}) {
          const at::Tensor x = at::randn({2, c, side + extra, side + extra});
          const at::Tensor weight = at::randn({c, 1, side, side}) * 0.3;
          const c10::optional<at::Tensor> bias = ending == 1 ? c10::nullopt : c10::optional<at::Tensor>(at::randn({c}));
          const c10::optional<at::Tensor> slope = ending == 1 ? c10::optional<at::Tensor>(at::rand({c})) : c10::nullopt;
          const std::string what = std::to_string(c) + " channels, " + std::to_string(side) + "x" +
                                   std::to_string(side) + " kernel over " + std::to_string(side + extra) +
                                   " px, ending " + std::to_string(ending);
          if (facekit::cpu::has_avx2_fma())
            EXPECT_EQ(depthwise_conv_has_kernel(x, weight, bias, slope, {1, 1}, {0, 0}), c % 8 == 0 && extra == 0)
                << what;
          expect_close(depthwise_conv(x, weight, bias, slope, {1, 1}, {0, 0}),
                       depthwise_conv_reference(x, weight, bias, slope, {1, 1}, {0, 0}), what);
        }
}

TEST(SeparableConv, DepthwiseTakesOnlyItsShapes) {
  EXPECT_TRUE(depthwise_conv_takes(at::randn({16, 1, 3, 3}), {1, 1}, {1, 1}));
  EXPECT_TRUE(depthwise_conv_takes(same_padding_weight(16), {2, 2}, {1, 1}));
  at::Tensor full = same_padding_weight(16);
  full[3][0][0][2] = 0.5f;  // a tap in the first row: not TensorFlow's "same" 3x3
  EXPECT_FALSE(depthwise_conv_takes(full, {2, 2}, {1, 1}));
  EXPECT_TRUE(depthwise_conv_takes(at::randn({16, 1, 7, 7}), {1, 1}, {0, 0}));  // global
  EXPECT_FALSE(depthwise_conv_takes(at::randn({16, 1, 17, 17}), {1, 1}, {0, 0}));
  EXPECT_FALSE(depthwise_conv_takes(at::randn({16, 1, 3, 3}), {1, 1}, {2, 2}));
  EXPECT_FALSE(depthwise_conv_takes(at::randn({16, 1, 3, 3}), {2, 2}, {1, 1}));
  EXPECT_FALSE(depthwise_conv_takes(at::randn({16, 1, 5, 5}), {1, 1}, {1, 1}));
  EXPECT_FALSE(depthwise_conv_takes(at::randn({16, 2, 3, 3}), {1, 1}, {1, 1}));
}

// With AVX-512 the pointwise kernel runs 12 x 32 tiles (where the output channels are a
// multiple of 32; 48 stays on AVX2's 16-channel slices): the same products in the same order,
// the same floats as the AVX2 path.
TEST(SeparableConv, PointwiseAvx512PathGivesTheAvx2PathsFloats) {
  if (!facekit::models::cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  c10::InferenceMode guard;
  at::manual_seed(14);
  const KernelIsaGuard guard_isa;
  for (const auto& [cin, cout] : std::vector<std::pair<int64_t, int64_t>>{{64, 64}, {128, 256}, {512, 192}, {3, 32}, {32, 48}})
    for (const auto& [n, h, w] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {1, 7, 7}, {2, 5, 3}, {1, 28, 28}})
      for (const int ending : {0, 1, 3, 4}) {  // none; PReLU; the residual; both, without a bias
        const at::Tensor x = at::randn({n, cin, h, w}).contiguous(at::MemoryFormat::ChannelsLast);
        const at::Tensor weight = at::randn({cin, cout}) / std::sqrt(static_cast<double>(cin));
        const c10::optional<at::Tensor> bias = ending == 4 ? c10::nullopt : c10::optional<at::Tensor>(at::randn({cout}));
        c10::optional<at::Tensor> slope, residual;
        if (ending == 1 || ending == 4) slope = at::rand({cout}) * 0.5;
        if (ending >= 3) residual = at::randn({n, cout, h, w});
        at::Tensor got[2];
        for (const bool avx512 : {false, true}) {
          facekit::models::set_avx512_kernels_for_testing(avx512);
          got[avx512] = pointwise_conv(x, weight, bias, slope, residual);
        }
        EXPECT_TRUE(at::equal(got[0], got[1])) << cin << "->" << cout << " " << n << "x" << h << "x" << w << " ending "
                                               << ending;
      }
}
