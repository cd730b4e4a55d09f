// One row of BlazeFace's 24-channel block through the AVX-512 pair kernel
// (models/blaze_block_avx512.h), again and again on the same rows (in cache): nanoseconds a
// pixel, the kernel's own speed without the chain around it, against the CPU's ceiling
// (facekit_bench_cpu_rates: 49.5 sixteen-float FMAs a pixel).
// usage: facekit_bench_block_row [width=192] [millions of pixels=200]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "models/aligned_vector.h"
#include "models/blaze_block_avx512.h"

int main(int argc, char** argv) {
  using facekit::models::AlignedVector;
  const int width = argc > 1 ? std::atoi(argv[1]) : 192;
  const long pixels = (argc > 2 ? std::atol(argv[2]) : 200) * 1000000L;
  if (width < 1 || pixels < width) {
    std::fprintf(stderr, "usage: %s [width=192] [millions of pixels=200]\n", argv[0]);
    return 2;
  }
  if (!facekit::models::cpu_has_avx512()) {
    std::printf("no AVX-512 on this CPU: the pair kernel does not run\n");
    return 0;
  }
  constexpr int kC = 24;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<float> dw(9 * kC), dw_bias(kC), pw(kC * kC), pw_bias(kC);
  for (auto* v : {&dw, &dw_bias, &pw, &pw_bias})
    for (float& x : *v) x = 0.3f * uniform(rng);
  const auto w = facekit::models::pack_pairs24(dw.data(), dw_bias.data(), pw.data(), pw_bias.data(), nullptr);
  AlignedVector<float> r0(width * kC), r1(width * kC), r2(width * kC), out(width * kC), scratch((width + 1) * 2 * kC);
  for (auto* v : {&r0, &r1, &r2})
    for (float& x : *v) x = uniform(rng);
  const float* rows[3] = {r0.data(), r1.data(), r2.data()};
  const long reps = pixels / width;
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < reps; ++i)
      facekit::models::block_row_pairs24(rows, r1.data(), out.data(), width, w, scratch.data());
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  double sum = 0;
  for (float x : out) sum += x;
  std::printf("24 channels, %d pixels a row: %.2f ns a pixel (best of 3 x %ld rows; checksum %.4f)\n", width,
              best / (static_cast<double>(reps) * width) * 1e9, reps, sum);
  return 0;
}
