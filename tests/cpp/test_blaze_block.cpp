// The one-pass BlazeFace block (models/blaze_block.h) computes what LibTorch's three operators
// compute, for every shape the kernel takes and for the ones it hands back.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernel_isa_guard.h"
#include "models/blaze_block.h"

namespace {

using facekit::models::blaze_block;
using facekit::models::blaze_block_has_kernel;
using facekit::models::blaze_block_reference;

// Within 1e-5 of the output's scale: the kernel sums in another order than oneDNN.
void expect_close(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const float scale = std::max(1.f, want.abs().max().item<float>());
  EXPECT_LE((got - want).abs().max().item<float>(), 1e-5f * scale) << what;
}

// K blocks' weights: biases on every other depthwise convolution, PReLU or ReLU.
struct Chain {
  std::vector<at::Tensor> dw;
  c10::List<c10::optional<at::Tensor>> db;
  std::vector<at::Tensor> pw;
  c10::List<c10::optional<at::Tensor>> pb, slopes;
};

Chain random_chain(int64_t c, int64_t k, bool prelu) {
  Chain w;
  for (int64_t i = 0; i < k; ++i) {
    w.dw.push_back(at::randn({c, 1, 3, 3}) * 0.3);
    w.pw.push_back(at::randn({c, c, 1, 1}) / c);
    w.db.push_back(i % 2 ? c10::optional<at::Tensor>(at::randn({c}) * 0.1) : c10::nullopt);
    w.pb.push_back(at::randn({c}) * 0.1);
    w.slopes.push_back(prelu ? c10::optional<at::Tensor>(at::rand({c})) : c10::nullopt);
  }
  return w;
}

}  // namespace

TEST(BlazeBlock, KernelMatchesLibTorchAtEveryShapeItTakes) {
  c10::InferenceMode guard;
  at::manual_seed(7);
  for (int64_t c : {16, 24, 32, 48, 64, 96, 128}) {
    for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 3}, {3, 5}, {7, 4}, {9, 13}, {32, 40}}) {
      for (const int variant : {0, 1, 2, 3}) {  // biases or not; ReLU, PReLU per channel, one PReLU slope
        const bool biases = variant % 2 == 1;
        const at::Tensor x = at::relu(at::randn({2, c, h, w})).contiguous(at::MemoryFormat::ChannelsLast);
        const at::Tensor dw = at::randn({c, 1, 3, 3}), pw = at::randn({c, c, 1, 1}) / c;
        const c10::optional<at::Tensor> db = biases ? c10::optional<at::Tensor>(at::randn({c})) : c10::nullopt;
        const c10::optional<at::Tensor> pb = biases ? c10::optional<at::Tensor>(at::randn({c})) : c10::nullopt;
        const c10::optional<at::Tensor> slope = variant < 2    ? c10::nullopt
                                                : variant == 2 ? c10::optional<at::Tensor>(at::rand({c}))
                                                               : c10::optional<at::Tensor>(at::rand({1}));
        // Inputs of both signs, so that the PReLU's negative side counts.
        const at::Tensor xs = slope ? (x - 0.5).contiguous(at::MemoryFormat::ChannelsLast) : x;
        ASSERT_TRUE(blaze_block_has_kernel(xs, dw, pw, slope) || !__builtin_cpu_supports("avx2"));
        const std::string what = std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w) + " variant " +
                                 std::to_string(variant);
        const at::Tensor got = blaze_block(xs, dw, db, pw, pb, slope);
        expect_close(got, blaze_block_reference(xs, dw, db, pw, pb, slope), what);
        EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast)) << what;
        // A plain (NCHW) input gives the same numbers, and so does one thread.
        expect_close(blaze_block(xs.contiguous(), dw, db, pw, pb, slope), got, what + ", NCHW input");
        const int threads = at::get_num_threads();
        at::set_num_threads(1);
        const at::Tensor one = blaze_block(xs, dw, db, pw, pb, slope);
        at::set_num_threads(threads);
        expect_close(one, got, what + ", one thread");
      }
    }
  }
}

TEST(BlazeBlock, OtherShapesRunLibTorchsOperators) {
  c10::InferenceMode guard;
  at::manual_seed(8);
  const c10::optional<at::Tensor> none;
  const at::Tensor x40 = at::randn({1, 40, 8, 8}).contiguous(at::MemoryFormat::ChannelsLast);
  const at::Tensor dw40 = at::randn({40, 1, 3, 3}), pw40 = at::randn({40, 40, 1, 1});
  EXPECT_FALSE(blaze_block_has_kernel(x40, dw40, pw40, none));  // 40 channels: no kernel
  EXPECT_TRUE(at::equal(blaze_block(x40, dw40, none, pw40, none, none),
                        blaze_block_reference(x40, dw40, none, pw40, none, none)));
  const at::Tensor x = at::randn({1, 24, 8, 8});
  const at::Tensor dw = at::randn({24, 1, 3, 3}), pw = at::randn({24, 24, 1, 1});
  EXPECT_FALSE(blaze_block_has_kernel(x, at::randn({24, 1, 5, 5}), pw, none));  // 5x5 taps
  EXPECT_FALSE(blaze_block_has_kernel(x.to(at::kDouble), dw, pw, none));
  EXPECT_FALSE(blaze_block_has_kernel(x, dw, pw, c10::optional<at::Tensor>(at::rand({3}))));  // 3 slopes for 24
  const c10::optional<at::Tensor> slopes(at::rand({24}).to(at::kDouble));
  EXPECT_FALSE(blaze_block_has_kernel(x, dw, pw, slopes));
  // A bias of another type or length: LibTorch's operators (which take the double bias as
  // conv2d does, or reject the wrong length as conv2d does).
  const c10::optional<at::Tensor> wide(at::rand({24}).to(at::kDouble)), short_bias(at::rand({12}));
  EXPECT_THROW(blaze_block(x, dw, wide, pw, none, none), c10::Error);
  EXPECT_THROW(blaze_block(x, dw, short_bias, pw, none, none), c10::Error);
}

// A chain of blocks as one pass over the rows (blaze_blocks) computes what the blocks compute
// one after the other, to the bit: each row goes through the same kernel code. Sizes over the
// chain's thresholds, odd heights, one and two images, one and two threads, ReLU and PReLU; and
// under them (block by block inside the op).
TEST(BlazeBlock, ChainOfBlocksIsTheBlocksOneAfterTheOther) {
  c10::InferenceMode guard;
  at::manual_seed(11);
  // Images, channels, height, width, blocks. One image on two threads from 256 KB and 16 rows
  // runs from both ends (run_chain_from_both_ends; 17 rows: each side's first output row is
  // past the middle; 24 channels with ReLU 160 to 512 pixels wide on planar rows with AVX-512,
  // against the one-block kernel's pair layout here); two images, a band per thread and image
  // from 8 MB.
  for (const auto& [n, c, h, w, k] : std::vector<std::array<int64_t, 5>>{
           {2, 24, 161, 290, 7}, {2, 24, 233, 200, 7}, {2, 48, 121, 190, 3}, {2, 16, 257, 260, 2}, {2, 24, 37, 50, 7},
           {1, 24, 300, 300, 7}, {1, 24, 301, 311, 7}, {1, 48, 181, 250, 3}, {1, 24, 1000, 90, 7},
           {1, 48, 44, 60, 7}, {1, 24, 17, 800, 7}, {1, 24, 15, 2000, 7}, {1, 24, 40, 50, 7}}) {
    for (const bool prelu : {false, true}) {
      at::Tensor x = at::randn({n, c, h, w});
      x = (prelu ? x : at::relu(x)).contiguous(at::MemoryFormat::ChannelsLast);
      const Chain chain = random_chain(c, k, prelu);
      const auto& [dw, db, pw, pb, slopes] = chain;
      at::Tensor want = x;
      for (int64_t i = 0; i < k; ++i) want = blaze_block(want, dw[i], db[i], pw[i], pb[i], slopes[i]);
      const std::string what = std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(h) + "x" +
                               std::to_string(w) + " x" + std::to_string(k) + (prelu ? " PReLU" : " ReLU");
      const int before = at::get_num_threads();
      for (const int threads : {2, 2, 1}) {  // two threads twice: where they meet differs from run to run
        at::set_num_threads(threads);
        const at::Tensor got = facekit::models::blaze_blocks(x, dw, db, pw, pb, slopes);
        at::set_num_threads(before);
        ASSERT_EQ(got.sizes(), want.sizes()) << what;
        EXPECT_EQ((got - want).abs().max().item<float>(), 0.f) << what << ", " << threads << " thread(s)";
      }
    }
  }
}

// BlazeFace's (ReLU) and FaceMesh's (PReLU) stride-2 block as one pass (blaze_block_s2)
// computes what LibTorch's depthwise and pointwise convolutions, max-pool, channel padding,
// addition and activation compute, at every channel pair the kernel takes, odd and even sizes,
// one and two threads; a depthwise weight whose first row is not zero, or another channel
// pair, runs LibTorch's operators.
TEST(BlazeBlock, StrideTwoBlockMatchesLibTorch) {
  c10::InferenceMode guard;
  at::manual_seed(12);
  using facekit::models::blaze_block_s2;
  using facekit::models::blaze_block_s2_has_kernel;
  using facekit::models::blaze_block_s2_reference;
  for (const auto& [cin, cout] : std::vector<std::pair<int64_t, int64_t>>{
           {24, 24}, {24, 48}, {48, 96}, {96, 96}, {16, 32}, {32, 64}, {64, 128}, {128, 128}}) {
    for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{2, 2}, {3, 5}, {8, 8}, {17, 30}, {64, 96}}) {
      for (const int variant : {0, 1, 2, 3}) {  // ReLU, ReLU with biases, PReLU per channel, one PReLU slope
        const bool biases = variant != 0;
        const c10::optional<at::Tensor> slope = variant < 2    ? c10::nullopt
                                                : variant == 2 ? c10::optional<at::Tensor>(at::rand({cout}))
                                                               : c10::optional<at::Tensor>(at::rand({1}));
        at::Tensor x = at::randn({2, cin, h, w});
        x = (slope ? x : at::relu(x)).contiguous(at::MemoryFormat::ChannelsLast);
        at::Tensor dw = at::randn({cin, 1, 4, 4});
        dw.select(2, 0).zero_();
        dw.select(3, 0).zero_();
        const at::Tensor pw = at::randn({cout, cin, 1, 1}) / cin;
        const c10::optional<at::Tensor> db = biases ? c10::optional<at::Tensor>(at::randn({cin})) : c10::nullopt;
        const c10::optional<at::Tensor> pb = biases ? c10::optional<at::Tensor>(at::randn({cout})) : c10::nullopt;
        const std::string what = std::to_string(cin) + "->" + std::to_string(cout) + " " + std::to_string(h) + "x" +
                                 std::to_string(w) + " variant " + std::to_string(variant);
        ASSERT_TRUE(blaze_block_s2_has_kernel(x, dw, pw, slope) || !__builtin_cpu_supports("avx2")) << what;
        const at::Tensor got = blaze_block_s2(x, dw, db, pw, pb, slope);
        expect_close(got, blaze_block_s2_reference(x, dw, db, pw, pb, slope), what);
        EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast)) << what;
        if (slope) EXPECT_GT((got < 0).sum().item<int64_t>(), 0) << what;  // the PReLU's negative side
        const int threads = at::get_num_threads();
        at::set_num_threads(1);
        const at::Tensor one = blaze_block_s2(x.contiguous(), dw, db, pw, pb, slope);
        at::set_num_threads(threads);
        expect_close(one, got, what + ", one thread, NCHW input");
      }
    }
  }
  const at::Tensor x = at::relu(at::randn({1, 24, 8, 8}));
  const at::Tensor full = at::randn({24, 1, 4, 4}), pw = at::randn({24, 24, 1, 1});
  const c10::optional<at::Tensor> none;
  EXPECT_FALSE(blaze_block_s2_has_kernel(x, full, pw, none));  // taps in the first row
  EXPECT_TRUE(at::equal(blaze_block_s2(x, full, none, pw, none, none), blaze_block_s2_reference(x, full, none, pw, none, none)));
  EXPECT_FALSE(blaze_block_s2_has_kernel(x, full, at::randn({32, 24, 1, 1}), none));  // 24 -> 32
  at::Tensor dw = at::randn({24, 1, 4, 4});
  dw.select(2, 0).zero_();
  dw.select(3, 0).zero_();
  EXPECT_FALSE(blaze_block_s2_has_kernel(x, dw, pw, c10::optional<at::Tensor>(at::rand({5}))));  // 5 slopes for 24
}

// On a CPU with AVX-512 the blocks run 16-float vectors (two pixels at a time for 24
// channels); each output still sums the same products in the same order, so the two paths give
// the same floats, and a detection does not depend on which CPU made it. (96 channels over
// 2,048 pixels go to oneDNN on both paths: 96x48x48.)
TEST(BlazeBlock, Avx512PathGivesTheAvx2PathsFloats) {
  if (!facekit::models::cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  c10::InferenceMode guard;
  at::manual_seed(13);
  const KernelIsaGuard guard_isa;
  for (const auto& [c, h, w] : std::vector<std::array<int64_t, 3>>{{24, 1, 1},
                                                                   {24, 5, 2},
                                                                   {24, 9, 13},
                                                                   {24, 37, 51},
                                                                   {24, 161, 290},
                                                                   {16, 7, 9},
                                                                   {32, 5, 33},
                                                                   {48, 33, 47},
                                                                   {64, 3, 4},
                                                                   {96, 20, 30},
                                                                   {96, 40, 40},
                                                                   {96, 48, 48},
                                                                   {128, 6, 5}}) {
    for (const bool prelu : {false, true}) {
      at::Tensor x = at::randn({2, c, h, w});
      x = (prelu ? x : at::relu(x)).contiguous(at::MemoryFormat::ChannelsLast);
      std::vector<at::Tensor> dw, pw;
      c10::List<c10::optional<at::Tensor>> db, pb, slopes;
      for (int i = 0; i < 7; ++i) {
        dw.push_back(at::randn({c, 1, 3, 3}) * 0.3);
        pw.push_back(at::randn({c, c, 1, 1}) / c);
        db.push_back(i % 2 ? c10::optional<at::Tensor>(at::randn({c}) * 0.1) : c10::nullopt);
        pb.push_back(at::randn({c}) * 0.1);
        slopes.push_back(prelu ? c10::optional<at::Tensor>(at::rand({c})) : c10::nullopt);
      }
      const std::string what = std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w) +
                               (prelu ? " PReLU" : " ReLU");
      at::Tensor one[2], chain[2];
      for (const bool avx512 : {false, true}) {
        facekit::models::set_avx512_kernels_for_testing(avx512);
        one[avx512] = blaze_block(x, dw[0], db[1], pw[0], pb[0], slopes[0]);
        chain[avx512] = facekit::models::blaze_blocks(x, dw, db, pw, pb, slopes);
      }
      EXPECT_TRUE(at::equal(one[0], one[1])) << what;
      EXPECT_TRUE(at::equal(chain[0], chain[1])) << what << ", 7 blocks";
    }
  }
}
