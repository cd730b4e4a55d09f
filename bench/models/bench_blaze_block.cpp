// The one-pass BlazeFace block (models/blaze_block.h) against LibTorch's three operators on
// the same channels-last input, calls alternating; median ms and the largest difference. Then
// seven blocks as one chain (blaze_blocks) against seven one-block calls.
// usage: facekit_bench_blaze_block [runs=20] [threads=2] [CxHxW...] (default: the detector's
// blocks at a 704x1216 input: 24x352x608 24x176x304 48x88x152 96x44x76)
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "models/blaze_block.h"
#include "models/runtime_impl.h"

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  // The engine's process settings (glibc keeps freed tensors instead of unmapping them).
  facekit::configure_inference_process(argc > 2 ? std::atoi(argv[2]) : 2);
  at::set_num_threads(argc > 2 ? std::atoi(argv[2]) : 2);
  std::vector<std::array<int, 3>> shapes;
  for (int a = 3; a < argc; ++a) {
    std::array<int, 3> s{};
    if (std::sscanf(argv[a], "%dx%dx%d", &s[0], &s[1], &s[2]) != 3) return 2;
    shapes.push_back(s);
  }
  if (shapes.empty()) shapes = {{24, 352, 608}, {24, 176, 304}, {48, 88, 152}, {96, 44, 76}};
  auto median = [](std::vector<double> ms) {
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    return ms[ms.size() / 2];
  };
  // `ours` and `theirs` alternating, after two warm-up rounds: one table row.
  auto compare = [&](int c, int h, int w, const std::function<at::Tensor()>& ours,
                     const std::function<at::Tensor()>& theirs) {
    std::vector<double> a_ms, b_ms;
    at::Tensor a, b;
    for (int i = 0; i < runs + 2; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      a = ours();
      auto t1 = std::chrono::steady_clock::now();
      b = theirs();
      auto t2 = std::chrono::steady_clock::now();
      if (i < 2) continue;  // warm-up
      a_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      b_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    std::printf("| %dx%dx%d | %.2f | %.2f | %.3f | %.2g |\n", c, h, w, median(a_ms), median(b_ms),
                median(a_ms) / median(b_ms), (a - b).abs().max().item<float>());
  };
  c10::InferenceMode guard;
  std::printf("| block C x H x W | one pass ms | LibTorch ms | ratio | max diff |\n|---|---|---|---|---|\n");
  for (const auto& [c, h, w] : shapes) {
    const at::Tensor x = at::relu(at::randn({1, c, h, w})).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor dw = at::randn({c, 1, 3, 3}) * 0.3, pw = at::randn({c, c, 1, 1}) * (1.0 / c), pb = at::randn({c});
    compare(
        c, h, w, [&] { return facekit::models::blaze_block(x, dw, c10::nullopt, pw, pb, c10::nullopt); },
        [&] { return facekit::models::blaze_block_reference(x, dw, c10::nullopt, pw, pb, c10::nullopt); });
  }
  // Seven blocks in a row (BlazeFace's runs), as one chain against one block at a time.
  std::printf("\n| 7 blocks C x H x W | chain ms | block by block ms | ratio | max diff |\n|---|---|---|---|---|\n");
  for (const auto& [c, h, w] : shapes) {
    const at::Tensor x = at::relu(at::randn({1, c, h, w})).contiguous(at::MemoryFormat::ChannelsLast);
    std::vector<at::Tensor> dw, pw;
    c10::List<c10::optional<at::Tensor>> db, pb, slopes;
    for (int i = 0; i < 7; ++i) {
      dw.push_back(at::randn({c, 1, 3, 3}) * 0.3);
      pw.push_back(at::randn({c, c, 1, 1}) * (1.0 / c));
      db.push_back(c10::nullopt);
      pb.push_back(at::randn({c}));
      slopes.push_back(c10::nullopt);
    }
    compare(
        c, h, w, [&] { return facekit::models::blaze_blocks(x, dw, db, pw, pb, slopes); },
        [&] {
          at::Tensor y = x;
          for (int k = 0; k < 7; ++k) y = facekit::models::blaze_block(y, dw[k], db[k], pw[k], pb[k], slopes[k]);
          return y;
        });
  }
  return 0;
}
