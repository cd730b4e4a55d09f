// How many multiply-adds a second one core of this CPU does, per vector instruction kind: the
// ceiling the hand-written kernels are measured against (docs/BENCHMARKS.md).
// usage: facekit_bench_cpu_rates [millions of instructions per kind = 600]
//
// Each kind runs 12 independent accumulator chains (more than latency x ports, so a chain never
// waits on itself); the best of three runs counts. A CPU with two 512-bit FMA units does a
// 16-float FMA in the time of an 8-float one (twice the multiply-adds); with one (the 512-bit
// unit fused from the two 256-bit ones), in twice the time: AVX-512 then adds no multiply-add
// rate over AVX2, only fewer instructions around it. The loops must keep their accumulators
// in registers (objdump -d): one that stores them every round times the stores instead (a
// 16-float FMA then reads ~0.5 ns here, one a cycle).
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace {

constexpr int kChains = 12;

double best_seconds(const std::function<void()>& f) {
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// Keeps the accumulators in registers and the loop from being folded away.
#define FACEKIT_KEEP(a)                                                                                              \
  __asm__ volatile(""                                                                                                \
                   : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]), "+v"(a[4]), "+v"(a[5]), "+v"(a[6]), "+v"(a[7]), \
                     "+v"(a[8]), "+v"(a[9]), "+v"(a[10]), "+v"(a[11]))

__attribute__((target("avx2,fma"))) void fma256(long n) {
  __m256 a[kChains];
  for (int i = 0; i < kChains; ++i) a[i] = _mm256_set1_ps(0.001f * i);
  const __m256 b = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-4f);
  for (long i = 0; i < n; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) a[j] = _mm256_fmadd_ps(a[j], b, c);
    FACEKIT_KEEP(a);
  }
}

__attribute__((target("avx512f"))) void fma512(long n) {
  __m512 a[kChains];
  for (int i = 0; i < kChains; ++i) a[i] = _mm512_set1_ps(0.001f * i);
  const __m512 b = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-4f);
  for (long i = 0; i < n; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) a[j] = _mm512_fmadd_ps(a[j], b, c);
    FACEKIT_KEEP(a);
  }
}

__attribute__((target("avx512f,avx512vnni"))) void dpbusd512(long n) {
  // Twelve named accumulators: from an array GCC 12 stored these to the stack every round.
  __m512i a0 = _mm512_set1_epi32(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0,
          a10 = a0, a11 = a0;
  const __m512i b = _mm512_set1_epi8(3), c = _mm512_set1_epi8(5);
  for (long i = 0; i < n; ++i) {
    a0 = _mm512_dpbusd_epi32(a0, b, c), a1 = _mm512_dpbusd_epi32(a1, b, c), a2 = _mm512_dpbusd_epi32(a2, b, c);
    a3 = _mm512_dpbusd_epi32(a3, b, c), a4 = _mm512_dpbusd_epi32(a4, b, c), a5 = _mm512_dpbusd_epi32(a5, b, c);
    a6 = _mm512_dpbusd_epi32(a6, b, c), a7 = _mm512_dpbusd_epi32(a7, b, c), a8 = _mm512_dpbusd_epi32(a8, b, c);
    a9 = _mm512_dpbusd_epi32(a9, b, c), a10 = _mm512_dpbusd_epi32(a10, b, c), a11 = _mm512_dpbusd_epi32(a11, b, c);
    __asm__ volatile(""
                     : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8),
                       "+v"(a9), "+v"(a10), "+v"(a11));
  }
}

__attribute__((target("avx512f,avx512bf16"))) void dpbf16_512(long n) {
  __m512 a[kChains];
  for (int i = 0; i < kChains; ++i) a[i] = _mm512_set1_ps(0.001f * i);
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  for (long i = 0; i < n; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) a[j] = _mm512_dpbf16_ps(a[j], b, b);
    FACEKIT_KEEP(a);
  }
}

__attribute__((target("avx512f,avx512fp16"))) void fma_ph512(long n) {
  __m512h a[kChains];
  for (int i = 0; i < kChains; ++i) a[i] = _mm512_set1_ph(static_cast<_Float16>(0.001f * i));
  const __m512h b = _mm512_set1_ph(static_cast<_Float16>(0.999f)), c = _mm512_set1_ph(static_cast<_Float16>(1e-3f));
  for (long i = 0; i < n; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) a[j] = _mm512_fmadd_ph(a[j], b, c);
    FACEKIT_KEEP(a);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long millions = argc > 1 ? std::atol(argv[1]) : 600;
  if (millions <= 0) {
    std::fprintf(stderr, "usage: %s [millions of instructions per kind = 600]\n", argv[0]);
    return 2;
  }
  const long iterations = millions * 1000000 / kChains;
  __builtin_cpu_init();
  std::printf("| instruction | multiply-adds each | ns an instruction | multiply-adds a ns | vs 8-float FMA |\n");
  std::printf("|---|---|---|---|---|\n");
  struct Kind {
    const char* name;
    int macs;
    bool supported;
    void (*run)(long);
  };
  const Kind kinds[] = {
      {"vfmadd231ps ymm (8 floats)", 8, __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0,
       fma256},
      {"vfmadd231ps zmm (16 floats)", 16, __builtin_cpu_supports("avx512f") != 0, fma512},
      {"vpdpbusd zmm (int8, 64)", 64, __builtin_cpu_supports("avx512vnni") != 0, dpbusd512},
      {"vdpbf16ps zmm (bf16 pairs, 32)", 32, __builtin_cpu_supports("avx512bf16") != 0, dpbf16_512},
      {"vfmadd231ph zmm (32 half floats)", 32, __builtin_cpu_supports("avx512fp16") != 0, fma_ph512},
  };
  double base = 0;
  for (const Kind& k : kinds) {
    if (!k.supported) {
      std::printf("| %s | %d | not on this CPU | - | - |\n", k.name, k.macs);
      continue;
    }
    const double ns = best_seconds([&] { k.run(iterations); }) / (iterations * kChains) * 1e9;
    const double rate = k.macs / ns;
    if (base == 0) base = rate;
    std::printf("| %s | %d | %.3f | %.1f | %.2fx |\n", k.name, k.macs, ns, rate, rate / base);
  }
  return 0;
}
