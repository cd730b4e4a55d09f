#include "registry/half_vectors.h"

#include "common/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACEKIT_X86 1
#endif

namespace facekit::registry {

namespace {

float portable_distance(const void* a, const void* b, const void* dim) {
  const auto* x = static_cast<const _Float16*>(a);
  const auto* y = static_cast<const _Float16*>(b);
  const size_t n = *static_cast<const size_t*>(dim);
  float dot = 0.f;
  for (size_t i = 0; i < n; ++i) dot += static_cast<float>(x[i]) * static_cast<float>(y[i]);
  return 1.f - dot;
}

#ifdef FACEKIT_X86
__attribute__((target("avx2,fma,f16c"))) float avx2_distance(const void* a, const void* b, const void* dim) {
  const auto* x = static_cast<const Half*>(a);
  const auto* y = static_cast<const Half*>(b);
  const size_t n = *static_cast<const size_t*>(dim);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {  // two accumulators hide the FMA latency
    const __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256 y0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i)));
    const __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8)));
    const __m256 y1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i + 8)));
    acc0 = _mm256_fmadd_ps(x0, y0, acc0);
    acc1 = _mm256_fmadd_ps(x1, y1, acc1);
  }
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  float dot = _mm_cvtss_f32(s);
  for (; i < n; ++i) dot += _cvtsh_ss(x[i]) * _cvtsh_ss(y[i]);
  return 1.f - dot;
}

__attribute__((target("avx2,fma,f16c"))) void f16c_to_half(const float* in, Half* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) out[i] = _cvtss_sh(in[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

#endif

}  // namespace

void to_half(const float* in, Half* out, size_t n) {
#ifdef FACEKIT_X86
  if (best_half_distance() == &avx2_distance) return f16c_to_half(in, out, n);
#endif
  auto* h = reinterpret_cast<_Float16*>(out);
  for (size_t i = 0; i < n; ++i) h[i] = static_cast<_Float16>(in[i]);
}

HalfDistance portable_half_distance() { return &portable_distance; }

HalfDistance best_half_distance() {
#ifdef FACEKIT_X86
  static const bool fast = cpu::has_avx2_fma_f16c();
  if (fast) return &avx2_distance;
#endif
  return &portable_distance;
}

const char* half_kernel_name() { return best_half_distance() == &portable_distance ? "portable" : "avx2-fma-f16c"; }

}  // namespace facekit::registry
