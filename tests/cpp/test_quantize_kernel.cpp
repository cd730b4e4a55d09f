// The vectorised quantisation and dequantisation (models/quantize_kernel.h) give ATen's bytes,
// and the int8 descriptor net with them gives the same outputs.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/script.h>

#include "facekit/models.h"
#include "models/graph_rewrite.h"
#include "models/quantize_kernel.h"
#include "models/runtime_impl.h"

namespace {

void expect_same_bytes(const at::Tensor& x, double scale, int64_t zero_point, const std::string& what) {
  const at::Tensor s = at::full({}, scale, at::kFloat), z = at::full({}, zero_point, at::kLong);
  const at::Tensor got = facekit::models::quantize_per_tensor(x, s, z, at::kQUInt8);
  const at::Tensor want = at::quantize_per_tensor(x, s, z, at::kQUInt8);
  ASSERT_EQ(got.scalar_type(), at::kQUInt8) << what;
  EXPECT_EQ(got.q_scale(), want.q_scale()) << what;
  EXPECT_EQ(got.q_zero_point(), want.q_zero_point()) << what;
  EXPECT_EQ(got.suggest_memory_format(), want.suggest_memory_format()) << what;
  EXPECT_TRUE(at::equal(got.int_repr(), want.int_repr())) << what;
}

}  // namespace

TEST(QuantizeKernel, SameBytesAsATen) {
  c10::InferenceMode guard;
  at::manual_seed(3);
  const float scale = 0.0212f;
  // Values on the rounding's half-way points, both signs, far outside 0..255, and random.
  at::Tensor halfway = (at::arange(-300, 300, at::kFloat) + 0.5f) * scale;
  expect_same_bytes(halfway, scale, 0, "half-way points, zero point 0");
  expect_same_bytes(halfway, scale, 114, "half-way points, zero point 114");
  expect_same_bytes(at::randn({1003}) * 1e6, scale, 97, "far out of range");
  for (const auto& shape : std::vector<std::vector<int64_t>>{{2, 32, 75, 75}, {1, 3, 5, 7}, {2, 64, 19, 19}}) {
    const at::Tensor x = at::randn(shape) * 3;
    expect_same_bytes(x, 0.0344, 0, "NCHW");
    expect_same_bytes(x.contiguous(at::MemoryFormat::ChannelsLast), 0.0481, 97, "channels-last");
  }
}

TEST(QuantizeKernel, DequantizeGivesATensFloats) {
  c10::InferenceMode guard;
  at::manual_seed(5);
  // Every byte value, at scales whose products round differently in float and double, zero
  // points 0, 114 and 255, in both memory formats and at sizes off the vector width.
  for (const double scale : {0.0212, 0.0039215686274509803, 1.0 / 3.0, 17.25})
    for (const int64_t zero_point : {0, 114, 255}) {
      const at::Tensor every = at::arange(0, 256, at::kFloat).sub(zero_point).mul(scale);
      for (const at::Tensor& x : {every, at::rand({2, 3, 150, 151}) * 255 * scale - zero_point * scale,
                                  (at::rand({1, 32, 17, 17}) * 255 * scale).contiguous(at::MemoryFormat::ChannelsLast)}) {
        const at::Tensor q = at::quantize_per_tensor(x, scale, zero_point, at::kQUInt8);
        const at::Tensor got = facekit::models::dequantize(q), want = at::dequantize(q);
        const std::string what = "scale " + std::to_string(scale) + " zero point " + std::to_string(zero_point);
        EXPECT_EQ(got.suggest_memory_format(), want.suggest_memory_format()) << what;
        EXPECT_TRUE(at::equal(got, want)) << what;
      }
    }
}

TEST(QuantizeKernel, Int8DescriptorNetGivesTheSameOutputs) {
  facekit::ModelRuntime rt;  // sets the quantised engine
  if (!rt.impl().has("face_recognition_int8")) GTEST_SKIP() << "no int8 model on this LibTorch";
  const facekit::ModelInfo& m = rt.info("face_recognition_int8");
  torch::jit::Module plain = torch::jit::load(rt.model_dir() + "/" + m.file);
  torch::jit::Module fast = torch::jit::load(rt.model_dir() + "/" + m.file);
  plain.eval();
  fast.eval();
  EXPECT_GT(facekit::models::vectorise_quantize(fast), 0);
  c10::InferenceMode guard;
  at::manual_seed(4);
  const at::Tensor input = at::rand({2, 150, 150, 3}) * 255;
  const auto want = plain.forward({input}), got = fast.forward({input});
  ASSERT_EQ(got.isTuple(), want.isTuple());
  if (got.isTuple()) {
    const auto& a = got.toTuple()->elements();
    const auto& b = want.toTuple()->elements();
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) EXPECT_TRUE(at::equal(a[k].toTensor(), b[k].toTensor())) << "output " << k;
  } else {
    EXPECT_TRUE(at::equal(got.toTensor(), want.toTensor()));
  }
}
