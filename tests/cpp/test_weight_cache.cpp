// Kernels pack their weights once per model (models/weight_cache.h): the packed value is reused
// for the same tensors and made again when a tensor, its contents or the kernel path change.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/blaze_block.h"
#include "models/weight_cache.h"

namespace {

using facekit::models::WeightCache;

TEST(WeightCache, ReusesTheValueForTheSameTensorsAndVariant) {
  WeightCache<int> cache;
  int made = 0;
  const auto make = [&] { return ++made; };
  const at::Tensor a = at::randn({4}), b = at::randn({4});
  const auto first = cache.get({a, at::Tensor(), b}, 0, make);
  EXPECT_EQ(*first, 1);
  EXPECT_EQ(cache.get({a, at::Tensor(), b}, 0, make), first);  // the same object, not made again
  EXPECT_EQ(made, 1);
  EXPECT_EQ(*cache.get({a, at::Tensor(), b}, 1, make), 2);          // another kernel path
  EXPECT_EQ(*cache.get({b, at::Tensor(), a}, 0, make), 3);          // the same tensors in another order
  EXPECT_EQ(*cache.get({a, b, at::Tensor()}, 0, make), 4);          // an absent tensor elsewhere
  EXPECT_EQ(*cache.get({a.clone(), at::Tensor(), b}, 0, make), 5);  // equal contents, another tensor
  EXPECT_EQ(made, 5);
}

TEST(WeightCache, MakesTheValueAgainWhenATensorChangesInPlace) {
  WeightCache<float> cache;
  const at::Tensor w = at::ones({3});
  const auto sum = [&] { return w.sum().item<float>(); };
  EXPECT_EQ(*cache.get({w}, 0, sum), 3.f);
  w.mul_(2);  // bumps the tensor's version
  EXPECT_EQ(*cache.get({w}, 0, sum), 6.f);
}

TEST(WeightCache, ForgetsTensorsThatDied) {
  WeightCache<int> cache;
  int made = 0;
  for (size_t i = 0; i < 2 * WeightCache<int>::kMaxEntries + 1; ++i) {
    const at::Tensor t = at::randn({2});  // dies at the end of the iteration
    cache.get({t}, 0, [&] { return ++made; });
  }
  EXPECT_EQ(made, static_cast<int>(2 * WeightCache<int>::kMaxEntries + 1));
  EXPECT_LE(cache.size(), WeightCache<int>::kMaxEntries);
}

// Through the operator: a block's weights changed in place between two calls give the new
// weights' output, not the first call's packing.
TEST(WeightCache, BlazeBlockFollowsWeightsChangedInPlace) {
  at::manual_seed(3);
  const int64_t c = 24;
  const at::Tensor x = at::relu(at::randn({1, c, 9, 13})).contiguous(at::MemoryFormat::ChannelsLast);
  const at::Tensor dw = at::randn({c, 1, 3, 3}), pw = at::randn({c, c, 1, 1}) / c;
  const at::Tensor before = facekit::models::blaze_block(x, dw, c10::nullopt, pw, c10::nullopt, c10::nullopt);
  pw.mul_(-1);
  const at::Tensor after = facekit::models::blaze_block(x, dw, c10::nullopt, pw, c10::nullopt, c10::nullopt);
  const at::Tensor want = facekit::models::blaze_block_reference(x, dw, c10::nullopt, pw, c10::nullopt, c10::nullopt);
  EXPECT_LE((after - want).abs().max().item<float>(), 1e-4f);
  EXPECT_GT((after - before).abs().max().item<float>(), 1e-2f);
}

}  // namespace
