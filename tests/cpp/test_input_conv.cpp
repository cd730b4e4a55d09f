// A detector's first convolution on its NHWC input with the ReLU after it (models/input_conv.h)
// computes what LibTorch's permute, convolution and ReLU compute; fed row by row into a chain
// of blocks (blaze_blocks_after_input_conv) it gives the two calls' result to the bit.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "kernel_isa_guard.h"
#include "models/blaze_block.h"
#include "models/blaze_block_avx512.h"
#include "models/input_conv.h"

namespace {

using facekit::models::input_conv_has_kernel;
using facekit::models::input_conv_relu;
using facekit::models::input_conv_relu_reference;

// Within 1e-5 of the output's scale: the kernel sums in another order than oneDNN.
void expect_close(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const float scale = std::max(1.f, want.abs().max().item<float>());
  EXPECT_LE((got - want).abs().max().item<float>(), 1e-5f * scale) << what;
}

// BlazeFace's weight shape: a 6x6 kernel whose first row and column are zero.
at::Tensor blazeface_like_weight(int64_t c) {
  at::Tensor w = at::randn({c, 3, 6, 6}) * 0.2;
  w.select(2, 0).zero_();
  w.select(3, 0).zero_();
  return w;
}

}  // namespace

TEST(InputConv, MatchesLibTorchAtTheShapesItTakes) {
  c10::InferenceMode guard;
  at::manual_seed(5);
  for (int64_t c : {16, 24, 32}) {
    for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{6, 6}, {7, 9}, {32, 32}, {64, 96}, {65, 33}}) {
      for (const int variant : {0, 1, 2, 3}) {
        // BlazeFace's zero-edged 6x6 at stride 2, pad 2; a full 5x5 at stride 1, pad 2; a 3x3 at
        // stride 2, pad 1 without a bias; a 1x1.
        const int64_t k = variant == 0 ? 6 : variant == 1 ? 5 : variant == 2 ? 3 : 1;
        const int64_t stride = variant == 1 || variant == 3 ? 1 : 2, pad = k / 2;
        const at::Tensor weight = variant == 0 ? blazeface_like_weight(c) : at::randn({c, 3, k, k}) * 0.2;
        const c10::optional<at::Tensor> bias = variant == 2 ? c10::nullopt : c10::optional<at::Tensor>(at::randn({c}));
        const at::Tensor x = at::rand({2, h, w, 3}) * 2 - 1;
        const std::string what = std::to_string(c) + " " + std::to_string(h) + "x" + std::to_string(w) + " variant " +
                                 std::to_string(variant);
        ASSERT_TRUE(input_conv_has_kernel(x, weight, bias, {stride, stride}, {pad, pad}) ||
                    !__builtin_cpu_supports("avx2"))
            << what;
        const at::Tensor got = input_conv_relu(x, weight, bias, {stride, stride}, {pad, pad});
        expect_close(got, input_conv_relu_reference(x, weight, bias, {stride, stride}, {pad, pad}), what);
        EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast)) << what;
        EXPECT_GT((got == 0).sum().item<int64_t>(), 0) << what;  // the ReLU cut something
        const int threads = at::get_num_threads();
        at::set_num_threads(1);
        const at::Tensor one = input_conv_relu(x, weight, bias, {stride, stride}, {pad, pad});
        at::set_num_threads(threads);
        EXPECT_TRUE(at::equal(one, got)) << what << ", one thread";
      }
    }
  }
}

TEST(InputConv, OtherShapesRunLibTorchsOperators) {
  c10::InferenceMode guard;
  at::manual_seed(6);
  const c10::optional<at::Tensor> none;
  const at::Tensor x = at::rand({1, 20, 20, 3});
  EXPECT_FALSE(input_conv_has_kernel(x, at::randn({40, 3, 3, 3}), none, {1, 1}, {1, 1}));  // 40 outputs
  EXPECT_FALSE(input_conv_has_kernel(x, at::randn({24, 3, 3, 3}), none, {1, 2}, {1, 1}));   // stride 1 x 2
  EXPECT_FALSE(input_conv_has_kernel(x, at::randn({24, 3, 3, 3}), none, {1, 1}, {0, 1}));   // padding 0 x 1
  EXPECT_FALSE(input_conv_has_kernel(at::rand({1, 20, 20, 4}), at::randn({24, 4, 3, 3}), none, {1, 1}, {1, 1}));
  EXPECT_FALSE(input_conv_has_kernel(x.to(at::kDouble), at::randn({24, 3, 3, 3}), none, {1, 1}, {1, 1}));
  EXPECT_FALSE(input_conv_has_kernel(at::rand({1, 2, 2, 3}), at::randn({24, 3, 6, 6}), none, {2, 2}, {1, 1}));  // no output
  const at::Tensor w40 = at::randn({40, 3, 3, 3});
  EXPECT_TRUE(at::equal(input_conv_relu(x, w40, none, {1, 1}, {1, 1}),
                        input_conv_relu_reference(x, w40, none, {1, 1}, {1, 1})));
}

// The convolution's rows made as the first block reads them: the same bits as the convolution
// and then the chain, above the chain's 8 MB threshold (one and two threads, odd sizes, two
// images) and under it (the two ops one after the other inside).
TEST(InputConv, ChainAfterTheConvolutionIsTheTwoCallsBitForBit) {
  c10::InferenceMode guard;
  at::manual_seed(9);
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{642, 580}, {705, 611}, {64, 96}}) {
    const int64_t c = 24, k = 7;
    const at::Tensor weight = blazeface_like_weight(c);
    const c10::optional<at::Tensor> bias(at::randn({c}) * 0.1);
    std::vector<at::Tensor> dw, pw;
    c10::List<c10::optional<at::Tensor>> db, pb, slopes;
    for (int64_t i = 0; i < k; ++i) {
      dw.push_back(at::randn({c, 1, 3, 3}) * 0.3);
      pw.push_back(at::randn({c, c, 1, 1}) / c);
      db.push_back(c10::nullopt);
      pb.push_back(at::randn({c}) * 0.1);
      slopes.push_back(c10::nullopt);
    }
    // Two images (a band per thread and image), and one (two threads from both ends).
    for (const int64_t batch : {2, 1}) {
      const at::Tensor image = at::rand({batch, h, w, 3}) * 2 - 1;
      const at::Tensor want =
          facekit::models::blaze_blocks(input_conv_relu(image, weight, bias, {2, 2}, {2, 2}), dw, db, pw, pb, slopes);
      const std::string what = std::to_string(batch) + "x" + std::to_string(h) + "x" + std::to_string(w);
      for (const int threads : {2, at::get_num_threads(), 1}) {
        const int before = at::get_num_threads();
        at::set_num_threads(threads);
        const at::Tensor got =
            facekit::models::blaze_blocks_after_input_conv(image, weight, bias, {2, 2}, {2, 2}, dw, db, pw, pb, slopes);
        at::set_num_threads(before);
        ASSERT_EQ(got.sizes(), want.sizes()) << what;
        EXPECT_EQ((got - want).abs().max().item<float>(), 0.f) << what << ", " << threads << " thread(s)";
      }
    }
  }
}

// With AVX-512 the convolution runs 16-float vectors (24 channels as 16 + 8), eight pixels at
// a time: the same taps in the same order, the same floats as the AVX2 path.
TEST(InputConv, Avx512PathGivesTheAvx2PathsFloats) {
  if (!facekit::models::cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  c10::InferenceMode guard;
  at::manual_seed(15);
  const KernelIsaGuard guard_isa;
  for (int64_t c : {16, 24, 32})
    for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{6, 6}, {7, 9}, {65, 33}, {128, 193}})
      for (const int variant : {0, 1, 2}) {  // BlazeFace's 6x6 at stride 2; a 5x5 at stride 1; a 3x3 without a bias
        const int64_t k = variant == 0 ? 6 : variant == 1 ? 5 : 3;
        const int64_t stride = variant == 1 ? 1 : 2, pad = k / 2;
        const at::Tensor weight = variant == 0 ? blazeface_like_weight(c) : at::randn({c, 3, k, k}) * 0.2;
        const c10::optional<at::Tensor> bias = variant == 2 ? c10::nullopt : c10::optional<at::Tensor>(at::randn({c}));
        const at::Tensor x = at::rand({2, h, w, 3}) * 2 - 1;
        at::Tensor got[2];
        for (const bool avx512 : {false, true}) {
          facekit::models::set_avx512_kernels_for_testing(avx512);
          got[avx512] = input_conv_relu(x, weight, bias, {stride, stride}, {pad, pad});
        }
        EXPECT_TRUE(at::equal(got[0], got[1])) << c << " " << h << "x" << w << " variant " << variant;
      }
}

// With AVX-512, BlazeFace's convolution (24 channels, stride 2) also makes its rows planar, as
// the planar chain reads them: the same floats as a row made channels-last and turned planar,
// the lanes past the row's end zero, at even and odd sizes and other kernels and paddings.
TEST(InputConv, PlanarRowsAreTheRowsTurnedPlanar) {
  if (!facekit::models::cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  c10::InferenceMode guard;
  at::manual_seed(21);
  const KernelIsaGuard guard_isa;
  facekit::models::set_avx512_kernels_for_testing(true);
  using facekit::models::kPlanarPad;
  using facekit::models::planar_stride;
  for (const auto& [h, w] : std::vector<std::pair<int, int>>{{6, 6}, {9, 33}, {40, 383}, {37, 384}, {20, 1030}})
    for (const int variant : {0, 1, 2}) {  // BlazeFace's 6x6 pad 2; a 3x3 pad 1; a 7x7 pad 3 without a bias
      const int64_t k = variant == 0 ? 6 : variant == 1 ? 3 : 7, pad = variant == 0 ? 2 : k / 2;
      const at::Tensor weight = variant == 0 ? blazeface_like_weight(24) : at::randn({24, 3, k, k}) * 0.2;
      const c10::optional<at::Tensor> bias = variant == 2 ? c10::nullopt : c10::optional<at::Tensor>(at::randn({24}));
      const auto conv = facekit::models::input_conv_rows(weight, bias, 2, pad);
      ASSERT_TRUE(conv->makes_planar_rows());
      const at::Tensor image = at::rand({h, w, 3}) * 2 - 1;
      const int out_h = static_cast<int>(conv->out_side(h)), out_w = static_cast<int>(conv->out_side(w));
      const int stride = planar_stride(out_w);
      facekit::models::AlignedVector<float> row(out_w * 24 + 64), want(24 * stride, 0.f), got(24 * stride, 0.f);
      std::vector<float> planes(facekit::models::InputConvRows::planar_row_scratch_floats(w));
      int differ = 0, nonzero_padding = 0;
      for (int oy = 0; oy < out_h; ++oy) {
        conv->row(image.data_ptr<float>(), h, w, oy, row.data());
        facekit::models::to_planar24(row.data(), out_w, want.data());
        std::fill(got.begin(), got.end(), 7.f);  // the padding before each channel's row is the caller's
        for (int c = 0; c < 24; ++c) std::fill_n(got.begin() + c * stride, kPlanarPad, 0.f);
        conv->planar_row(image.data_ptr<float>(), h, w, oy, got.data(), planes.data());
        for (int c = 0; c < 24; ++c)
          for (int x = 0; x < (out_w + 15) / 16 * 16; ++x) {
            const float g = got[c * stride + kPlanarPad + x], e = x < out_w ? want[c * stride + kPlanarPad + x] : 0.f;
            differ += g != e;
          }
        for (int c = 0; c < 24; ++c)
          for (int x = 0; x < kPlanarPad; ++x) nonzero_padding += got[c * stride + x] != 0.f;
      }
      EXPECT_EQ(differ, 0) << h << "x" << w << " variant " << variant;
      EXPECT_EQ(nonzero_padding, 0) << h << "x" << w << " variant " << variant;
    }
}
