// The graph rewrites (models/graph_rewrite.h): the in-place residual additions give the
// detector's and the mesh's outputs bit for bit, the one-pass blocks the detector's to float
// rounding, and only exact rewrites are made.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string>

#include <torch/csrc/jit/ir/irparser.h>
#include <torch/script.h>

#include "facekit/models.h"
#include "models/graph_rewrite.h"
#include "models/whole_input_conv.h"
#include "test_support.h"

namespace {

int count(const std::shared_ptr<torch::jit::Graph>& graph, const std::string& kind) {
  int n = 0;
  for (const torch::jit::Node* node : graph->nodes())
    if (node->kind().toQualString() == kind) ++n;
  return n;
}

// A real photo resized to height x width, RGB scaled as the model wants, NHWC.
at::Tensor photo_input(const facekit::ModelInfo& m, int height, int width) {
  cv::Mat img = cv::imread(facekit::testing::shared("faces-dev/obama/obama1.jpg"), cv::IMREAD_COLOR);
  EXPECT_FALSE(img.empty());
  cv::resize(img, img, {width, height}, 0, 0, cv::INTER_AREA);
  cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  cv::Mat f;
  img.convertTo(f, CV_32FC3, m.scale, -m.mean[0] * m.scale);
  return torch::from_blob(f.data, {1, height, width, 3}, at::kFloat).clone();
}

std::vector<at::Tensor> outputs(torch::jit::Module& module, const at::Tensor& input) {
  c10::InferenceMode guard;
  auto out = module.forward({input});
  std::vector<at::Tensor> res;
  if (out.isTuple()) {
    for (const auto& t : out.toTuple()->elements()) res.push_back(t.toTensor());
  } else {
    res.push_back(out.toTensor());
  }
  return res;
}

// BlazeFace as converted, and a copy with the block rewrites the runtime makes before the
// ones a test checks.
struct Detector {
  facekit::ModelRuntime rt;
  const facekit::ModelInfo& m = rt.info("blazeface-back");
  torch::jit::Module plain = torch::jit::load(rt.model_dir() + "/" + m.file);
  torch::jit::Module rewritten;
  explicit Detector(bool blocks) {
    plain.eval();
    rewritten = plain.clone();
    facekit::models::fuse_residual_additions(rewritten);
    if (!blocks) return;
    facekit::models::fuse_blaze_blocks(rewritten);
    facekit::models::chain_blaze_blocks(rewritten);
  }
};

// Each output of `got` within 1e-4 of `want`'s scale: rewrites that sum in another order.
void expect_outputs_close(torch::jit::Module& want_module, torch::jit::Module& got_module, const at::Tensor& input,
                          const std::string& what) {
  const auto want = outputs(want_module, input), got = outputs(got_module, input);
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t k = 0; k < got.size(); ++k) {
    const float scale = std::max(1.f, want[k].abs().max().item<float>());
    EXPECT_LE((got[k] - want[k]).abs().max().item<float>(), 1e-4f * scale) << what << " output " << k;
  }
}

}  // namespace

TEST(GraphRewrite, DetectorAndMeshGiveTheSameOutputsBitForBit) {
  facekit::ModelRuntime rt;
  for (const auto& [name, sizes] : std::vector<std::pair<std::string, std::vector<std::pair<int, int>>>>{
           {"blazeface-back", {{256, 256}, {160, 192}, {352, 608}}}, {"facemesh", {{192, 192}}}}) {
    const facekit::ModelInfo& m = rt.info(name);
    torch::jit::Module plain = torch::jit::load(rt.model_dir() + "/" + m.file);
    torch::jit::Module fused = torch::jit::load(rt.model_dir() + "/" + m.file);
    plain.eval();
    fused.eval();
    const int adds = count(fused.get_method("forward").graph(), "aten::add");
    const int rewrites = facekit::models::fuse_residual_additions(fused);
    // Every residual addition of these nets follows a convolution used by nothing else.
    EXPECT_GT(rewrites, 0) << name;
    EXPECT_EQ(rewrites, adds) << name;
    EXPECT_EQ(count(fused.get_method("forward").graph(), "aten::add"), 0) << name;
    for (const auto& [h, w] : sizes) {
      const at::Tensor input = photo_input(m, h, w);
      const auto want = outputs(plain, input), got = outputs(fused, input);
      ASSERT_EQ(got.size(), want.size()) << name;
      for (size_t k = 0; k < got.size(); ++k) EXPECT_TRUE(torch::equal(got[k], want[k])) << name << " output " << k;
    }
  }
}

// Only a convolution's output that nothing else reads is written into, and the operands are
// swapped only where alpha is 1.
TEST(GraphRewrite, LeavesAdditionsItCannotMakeExact) {
  const std::string ir = R"IR(
graph(%x : Tensor, %w : Tensor, %b : Tensor, %y : Tensor):
  %one : int = prim::Constant[value=1]()
  %two : int = prim::Constant[value=2]()
  %zero : int = prim::Constant[value=0]()
  %false : bool = prim::Constant[value=0]()
  %true : bool = prim::Constant[value=1]()
  %s : int[] = prim::ListConstruct(%one, %one)
  %p : int[] = prim::ListConstruct(%zero, %zero)
  %c1 : Tensor = aten::_convolution(%x, %w, %b, %s, %p, %s, %false, %p, %one, %false, %false, %true, %true)
  %c2 : Tensor = aten::_convolution(%x, %w, %b, %s, %p, %s, %false, %p, %one, %false, %false, %true, %true)
  %c3 : Tensor = aten::_convolution(%x, %w, %b, %s, %p, %s, %false, %p, %one, %false, %false, %true, %true)
  %a1 : Tensor = aten::add(%y, %c1, %two)
  %a2 : Tensor = aten::add(%c2, %y, %one)
  %a3 : Tensor = aten::add(%y, %c3, %one)
  %r3 : Tensor = aten::relu(%a3)
  %out : (Tensor, Tensor, Tensor, Tensor) = prim::TupleConstruct(%a1, %a2, %c2, %r3)
  return (%out)
)IR";
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(ir, graph.get());
  // a1: alpha 2 with the convolution second, not swappable; a2: c2 is also returned, so not
  // written into; a3 + relu: fused in place.
  EXPECT_EQ(facekit::models::fuse_residual_additions(graph), 1);
  EXPECT_EQ(count(graph, "aten::add"), 2);
  EXPECT_EQ(count(graph, "aten::_add_relu_"), 1);
  EXPECT_EQ(count(graph, "aten::relu"), 0);
}

// Every stride-1 block of the detector and of the mesh becomes one call, and the outputs stay
// within float rounding of the plain graph's at the input sizes the engine uses.
TEST(GraphRewrite, DetectorAndMeshBlocksBecomeOneCallEach) {
  struct Case {
    std::string model;
    std::vector<std::pair<int, int>> sizes;
    std::string residual;  // the in-place addition left after fuse_residual_additions
  };
  facekit::ModelRuntime rt;
  for (const Case& c : {Case{"blazeface-back", {{256, 256}, {160, 192}, {352, 608}}, "aten::_add_relu_"},
                        Case{"facemesh", {{192, 192}}, "aten::add_"}}) {
    const facekit::ModelInfo& m = rt.info(c.model);
    torch::jit::Module plain = torch::jit::load(rt.model_dir() + "/" + m.file);
    torch::jit::Module fused = torch::jit::load(rt.model_dir() + "/" + m.file);
    plain.eval();
    fused.eval();
    facekit::models::fuse_residual_additions(fused);
    const int in_place = count(fused.get_method("forward").graph(), c.residual);
    const int blocks = facekit::models::fuse_blaze_blocks(fused);
    EXPECT_GT(blocks, 0) << c.model;
    // What is left are the stride-2 blocks (a 4x4 depthwise and a pooled residual).
    EXPECT_EQ(count(fused.get_method("forward").graph(), c.residual), in_place - blocks) << c.model;
    EXPECT_EQ(count(fused.get_method("forward").graph(), "facekit::blaze_block"), blocks) << c.model;
    for (const auto& [h, w] : c.sizes) {
      const at::Tensor input = photo_input(m, h, w);
      const auto want = outputs(plain, input), got = outputs(fused, input);
      ASSERT_EQ(got.size(), want.size()) << c.model;
      for (size_t k = 0; k < got.size(); ++k) {
        const float scale = std::max(1.f, want[k].abs().max().item<float>());
        EXPECT_LE((got[k] - want[k]).abs().max().item<float>(), 1e-4f * scale)
            << c.model << " " << h << "x" << w << " output " << k;
      }
    }
  }
}

// The runs of blocks between BlazeFace's stride-2 blocks (seven at each of four map sizes)
// and FaceMesh's (two or three) become one facekit::blaze_blocks call each, with the same outputs to the bit
// as the blocks one by one (at a group photo's input, where the chain runs as one pass).
TEST(GraphRewrite, RunsOfBlocksBecomeOneChainBitForBit) {
  facekit::ModelRuntime rt;
  for (const std::string model : {"blazeface-back", "facemesh"}) {
    const facekit::ModelInfo& m = rt.info(model);
    torch::jit::Module blocks = torch::jit::load(rt.model_dir() + "/" + m.file);
    blocks.eval();
    facekit::models::fuse_residual_additions(blocks);
    const int fused = facekit::models::fuse_blaze_blocks(blocks);
    torch::jit::Module chained = blocks.clone();
    const int runs = facekit::models::chain_blaze_blocks(chained);
    const auto graph = chained.get_method("forward").graph();
    EXPECT_GT(runs, 0) << model;
    EXPECT_EQ(count(graph, "facekit::blaze_blocks"), runs) << model;
    EXPECT_LT(count(graph, "facekit::blaze_block"), fused - runs) << model;
    if (model == "blazeface-back") EXPECT_EQ(runs, 4);  // seven blocks at each of four map sizes
    const std::vector<std::pair<int, int>> sizes =
        model == "facemesh" ? std::vector<std::pair<int, int>>{{192, 192}} : std::vector<std::pair<int, int>>{{256, 256}, {704, 1216}};
    for (const auto& [h, w] : sizes) {
      const at::Tensor input = photo_input(m, h, w);
      const auto want = outputs(blocks, input), got = outputs(chained, input);
      ASSERT_EQ(got.size(), want.size()) << model;
      for (size_t k = 0; k < got.size(); ++k)
        EXPECT_EQ((got[k] - want[k]).abs().max().item<float>(), 0.f) << model << " " << h << "x" << w << " output " << k;
    }
  }
}

// A depthwise convolution at stride 2, or a pointwise one that is not 1x1-shaped by its
// arguments, is not a block the kernel computes.
TEST(GraphRewrite, OnlyStrideOneBlocksAreFused) {
  const std::string ir = R"IR(
graph(%x : Tensor, %wd : Tensor, %wp : Tensor, %bp : Tensor):
  %one : int = prim::Constant[value=1]()
  %two : int = prim::Constant[value=2]()
  %zero : int = prim::Constant[value=0]()
  %groups : int = prim::Constant[value=24]()
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %true : bool = prim::Constant[value=1]()
  %s1 : int[] = prim::ListConstruct(%one, %one)
  %s2 : int[] = prim::ListConstruct(%two, %two)
  %p0 : int[] = prim::ListConstruct(%zero, %zero)
  %d1 : Tensor = aten::_convolution(%x, %wd, %none, %s1, %s1, %s1, %false, %p0, %groups, %false, %false, %true, %true)
  %c1 : Tensor = aten::_convolution(%d1, %wp, %bp, %s1, %p0, %s1, %false, %p0, %one, %false, %false, %true, %true)
  %r1 : Tensor = aten::_add_relu_(%c1, %x, %one)
  %d2 : Tensor = aten::_convolution(%r1, %wd, %none, %s2, %s1, %s1, %false, %p0, %groups, %false, %false, %true, %true)
  %c2 : Tensor = aten::_convolution(%d2, %wp, %bp, %s1, %p0, %s1, %false, %p0, %one, %false, %false, %true, %true)
  %r2 : Tensor = aten::_add_relu_(%c2, %r1, %one)
  %d3 : Tensor = aten::_convolution(%r2, %wd, %none, %s1, %s1, %s1, %false, %p0, %groups, %false, %false, %true, %true)
  %c3 : Tensor = aten::_convolution(%d3, %wp, %bp, %s1, %s1, %s1, %false, %p0, %one, %false, %false, %true, %true)
  %r3 : Tensor = aten::_add_relu_(%c3, %r2, %one)
  return (%r3)
)IR";
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(ir, graph.get());
  // r1: a block; r2: its depthwise at stride 2; r3: its pointwise padded by 1.
  EXPECT_EQ(facekit::models::fuse_blaze_blocks(graph), 1);
  EXPECT_EQ(count(graph, "facekit::blaze_block"), 1);
  EXPECT_EQ(count(graph, "aten::_add_relu_"), 2);
}

// A convolution whose kernel covers its input is a matrix product: the same outputs as
// LibTorch's convolution at any batch and stride, with and without a bias; any other input
// size takes the convolution itself.
TEST(GraphRewrite, WholeInputConvolutionIsTheSameFunction) {
  at::manual_seed(7);
  const at::Tensor w = at::randn({50, 8, 3, 3});
  const at::Tensor b = at::randn({50});
  for (int64_t n : {1, 3}) {
    for (int64_t stride : {1, 3}) {
      const at::Tensor x = at::randn({n, 8, 3, 3}).contiguous(at::MemoryFormat::ChannelsLast);
      for (const bool bias : {true, false}) {
        const c10::optional<at::Tensor> bb = bias ? c10::optional<at::Tensor>(b) : c10::nullopt;
        const at::Tensor want = at::conv2d(x, w, bb, {stride, stride});
        const at::Tensor got = facekit::models::whole_input_conv(x, w, bb, {stride, stride});
        ASSERT_EQ(got.sizes(), want.sizes());
        EXPECT_LE((got - want).abs().max().item<float>(), 1e-4f) << n << " " << stride << " " << bias;
      }
    }
  }
  // Rows and inputs that are not whole vectors (13 = 3 x 4 + 1 rows, 45 = 5 x 8 + 5 inputs).
  const at::Tensor odd_w = at::randn({13, 5, 3, 3}), odd_b = at::randn({13});
  const at::Tensor odd_x = at::randn({2, 5, 3, 3});
  EXPECT_LE((facekit::models::whole_input_conv(odd_x, odd_w, odd_b, {1, 1}) - at::conv2d(odd_x, odd_w, odd_b))
                .abs()
                .max()
                .item<float>(),
            1e-4f);
  const at::Tensor big = at::randn({2, 8, 7, 5});  // not the whole input: a 3x2 output
  const at::Tensor want = at::conv2d(big, w, b, {2, 2});
  const at::Tensor got = facekit::models::whole_input_conv(big, w, b, {2, 2});
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_TRUE(at::equal(got, want));
}

// FaceMesh's three heads (a 3x3 kernel at stride 3 over the last 3x3 map) are rewritten, and
// the mesh's outputs stay those of the plain graph.
TEST(GraphRewrite, MeshHeadsBecomeMatrixProducts) {
  facekit::ModelRuntime rt;
  const facekit::ModelInfo& m = rt.info("facemesh");
  torch::jit::Module plain = torch::jit::load(rt.model_dir() + "/" + m.file);
  torch::jit::Module fused = torch::jit::load(rt.model_dir() + "/" + m.file);
  plain.eval();
  fused.eval();
  EXPECT_EQ(facekit::models::fuse_whole_input_convolutions(fused), 3);
  EXPECT_EQ(count(fused.get_method("forward").graph(), "facekit::whole_input_conv"), 3);
  const at::Tensor one = photo_input(m, 192, 192);
  for (const at::Tensor& input : {one, at::cat({one, one.flip(2)})}) {
    const auto want = outputs(plain, input), got = outputs(fused, input);
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < got.size(); ++k) {
      const float scale = std::max(1.f, want[k].abs().max().item<float>());
      EXPECT_LE((got[k] - want[k]).abs().max().item<float>(), 1e-5f * scale) << "output " << k;
    }
  }
}

// BlazeFace's first layer (its NHWC input permuted, the 6x6 convolution, the ReLU) becomes one
// call, joined to the chain of blocks after it; the detector's outputs stay those of the plain
// graph to float rounding, at a 256 px window (where the chain runs block by block) and at a
// group photo's input (where the convolution's rows feed the chain).
TEST(GraphRewrite, DetectorsFirstLayerJoinsTheChain) {
  Detector d(/*blocks=*/true);
  torch::jit::Module& fused = d.rewritten;
  EXPECT_EQ(facekit::models::fuse_input_convolutions(fused), 1);
  const auto graph = fused.get_method("forward").graph();
  EXPECT_EQ(count(graph, "facekit::blaze_blocks_after_input_conv"), 1);
  EXPECT_EQ(count(graph, "facekit::input_conv_relu"), 0);
  EXPECT_EQ(count(graph, "facekit::blaze_blocks"), 3);
  EXPECT_EQ(count(graph, "aten::permute") + 1, count(d.plain.get_method("forward").graph(), "aten::permute"));
  for (const auto& [h, w] : std::vector<std::pair<int, int>>{{256, 256}, {704, 1216}})
    expect_outputs_close(d.plain, fused, photo_input(d.m, h, w), std::to_string(h) + "x" + std::to_string(w));
}

// BlazeFace's three stride-2 blocks (24 -> 24, 24 -> 48 and 48 -> 96, the last two with padded
// channels) become one call each, and its outputs stay those of the plain graph to float
// rounding; with everything else rewritten too (as the runtime loads it) as well. FaceMesh's
// (PReLU) likewise.
TEST(GraphRewrite, StrideTwoBlocksBecomeOneCallEach) {
  Detector s2(/*blocks=*/false), all(/*blocks=*/true);
  EXPECT_EQ(facekit::models::fuse_stride_two_blocks(s2.rewritten), 3);
  const auto graph = s2.rewritten.get_method("forward").graph();
  EXPECT_EQ(count(graph, "facekit::blaze_block_s2"), 3);
  EXPECT_EQ(count(graph, "aten::max_pool2d"), 0);
  EXPECT_EQ(facekit::models::fuse_stride_two_blocks(all.rewritten), 3);
  facekit::models::fuse_input_convolutions(all.rewritten);
  for (const auto& [h, w] : std::vector<std::pair<int, int>>{{256, 256}, {320, 448}, {704, 1216}}) {
    const at::Tensor input = photo_input(s2.m, h, w);
    const std::string size = std::to_string(h) + "x" + std::to_string(w);
    expect_outputs_close(s2.plain, s2.rewritten, input, size + ", stride-2 blocks");
    expect_outputs_close(s2.plain, all.rewritten, input, size + ", every rewrite");
  }
}

TEST(GraphRewrite, MeshStrideTwoBlocksBecomeOneCallEach) {
  facekit::ModelRuntime rt;
  const facekit::ModelInfo& m = rt.info("facemesh");
  torch::jit::Module plain = torch::jit::load(rt.model_dir() + "/" + m.file);
  plain.eval();
  torch::jit::Module fused = plain.clone();
  facekit::models::fuse_residual_additions(fused);
  const int made = facekit::models::fuse_stride_two_blocks(fused);
  EXPECT_GE(made, 4);
  const auto graph = fused.get_method("forward").graph();
  EXPECT_EQ(count(graph, "facekit::blaze_block_s2"), made);
  EXPECT_EQ(count(graph, "aten::max_pool2d") + made, count(plain.get_method("forward").graph(), "aten::max_pool2d"));
  const at::Tensor one = photo_input(m, 192, 192);
  expect_outputs_close(plain, fused, one, "one face");
  expect_outputs_close(plain, fused, at::cat({one, one.flip(2)}), "two faces");
}

// MobileFaceNet's separable convolutions become facekit's calls (models/separable_conv.h): no
// convolution but the first, no PReLU left as a separate operator but the first one's, no
// residual addition, and
// the descriptor the plain graph's to float rounding, for one face and a batch.
TEST(GraphRewrite, MobileFaceNetSeparableConvolutionsBecomeOneCallEach) {
  facekit::ModelRuntime rt;
  const facekit::ModelInfo& m = rt.info("mobilefacenet");
  torch::jit::Module plain = torch::jit::load(rt.model_dir() + "/" + m.file);
  plain.eval();
  torch::jit::Module fused = plain.clone();
  facekit::models::fuse_residual_additions(fused);
  const int made = facekit::models::fuse_separable_convolutions(fused);
  const auto graph = fused.get_method("forward").graph();
  const int pointwise = count(graph, "facekit::pointwise_conv"), depthwise = count(graph, "facekit::depthwise_conv");
  EXPECT_EQ(pointwise + depthwise, made);
  EXPECT_GE(pointwise, 30);
  EXPECT_GE(depthwise, 15);
  EXPECT_EQ(count(graph, "aten::prelu"), 1);
  EXPECT_EQ(count(graph, "aten::_convolution"), 1);  // the first layer's: 3 input channels
  EXPECT_EQ(count(graph, "aten::add_") + count(graph, "aten::add"), 0);
  const at::Tensor one = photo_input(m, 112, 112);
  expect_outputs_close(plain, fused, one, "one face");
  expect_outputs_close(plain, fused, at::cat({one, one.flip(2), one.flip(1)}), "three faces");
}

// What the block rewrites leave of BlazeFace (its heads, 1x1 convolutions of 96 channels to 2,
// 6, 32 and 96 outputs, and its last stride-2 depthwise / pointwise pair) becomes facekit's
// separable calls, as the runtime loads it: no LibTorch convolution left, the outputs the plain
// graph's to float rounding.
TEST(GraphRewrite, DetectorsLeftoverConvolutionsBecomeSeparableCalls) {
  Detector d(/*blocks=*/true);
  facekit::models::fuse_whole_input_convolutions(d.rewritten);
  facekit::models::fuse_stride_two_blocks(d.rewritten);
  facekit::models::fuse_input_convolutions(d.rewritten);
  EXPECT_EQ(facekit::models::fuse_separable_convolutions(d.rewritten), 6);
  const auto graph = d.rewritten.get_method("forward").graph();
  EXPECT_EQ(count(graph, "aten::_convolution"), 0);
  EXPECT_EQ(count(graph, "facekit::pointwise_conv"), 5);
  EXPECT_EQ(count(graph, "facekit::depthwise_conv"), 1);
  for (const auto& [h, w] : std::vector<std::pair<int, int>>{{256, 256}, {352, 480}, {1024, 384}})
    expect_outputs_close(d.plain, d.rewritten, photo_input(d.m, h, w), std::to_string(h) + "x" + std::to_string(w));
}

// The iris and age/gender models, rewritten as the runtime loads them: their convolutions are
// facekit's separable calls, their outputs the plain graphs' to float rounding.
TEST(GraphRewrite, IrisAndAgeGenderConvolutionsBecomeSeparableCalls) {
  facekit::ModelRuntime rt;
  for (const std::string name : {"iris", "age_gender"}) {
    const facekit::ModelInfo& m = rt.info(name);
    torch::jit::Module plain = torch::jit::load(rt.model_dir() + "/" + m.file);
    plain.eval();
    torch::jit::Module fused = plain.clone();
    if (facekit::models::fuse_residual_additions(fused) > 0)
      if (facekit::models::fuse_blaze_blocks(fused) > 0) facekit::models::chain_blaze_blocks(fused);
    facekit::models::fuse_whole_input_convolutions(fused);
    facekit::models::fuse_stride_two_blocks(fused);
    facekit::models::fuse_input_convolutions(fused);
    const int before = count(fused.get_method("forward").graph(), "aten::_convolution");
    const int made = facekit::models::fuse_separable_convolutions(fused);
    EXPECT_GE(made, 20) << name;
    EXPECT_EQ(count(fused.get_method("forward").graph(), "aten::_convolution"), before - made) << name;
    const at::Tensor input = photo_input(m, static_cast<int>(m.input_shape[1]), static_cast<int>(m.input_shape[2]));
    expect_outputs_close(plain, fused, input, name);
  }
}
