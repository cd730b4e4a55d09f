// Median latency of every converted model at batch 1 and 8, through the same runtime the
// engine uses. usage: facekit_bench_models [model_dir] [runs=20]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "facekit/models.h"
#include "models/runtime_impl.h"

int main(int argc, char** argv) {
  facekit::RuntimeOptions opts;
  if (argc > 1) opts.model_dir = argv[1];
  const int runs = argc > 2 ? std::atoi(argv[2]) : 20;
  facekit::ModelRuntime rt(opts);
  std::printf("| model | batch 1 median ms | batch 8 median ms | per image at 8 |\n|---|---|---|---|\n");
  for (const auto& m : rt.models()) {
    double medians[2];
    int b_index = 0;
    for (int batch : {1, 8}) {
      std::vector<int64_t> shape = m.input_shape;
      shape[0] = batch;
      auto input = at::rand(shape);
      rt.impl().forward(m.name, input);  // warm this batch size
      std::vector<double> ms;
      for (int i = 0; i < runs; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        rt.impl().forward(m.name, input);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
      medians[b_index++] = ms[ms.size() / 2];
    }
    std::printf("| %s | %.2f | %.2f | %.2f |\n", m.name.c_str(), medians[0], medians[1], medians[1] / 8);
  }
  return 0;
}
