#include "registry/stored_vector.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACEKIT_X86 1
#endif

namespace facekit::registry {

namespace {

float scale_of(const void* block) {
  float s;
  std::memcpy(&s, block, sizeof s);
  return s;
}

const int8_t* codes_of(const void* block) { return static_cast<const int8_t*>(block) + sizeof(float); }

float portable_distance(const void* a, const void* b, const void* dim) {
  const size_t n = *static_cast<const size_t*>(dim);
  const int8_t *x = codes_of(a), *y = codes_of(b);
  int32_t dot = 0;
  for (size_t i = 0; i < n; ++i) dot += int32_t(x[i]) * int32_t(y[i]);
  return 1.f - scale_of(a) * scale_of(b) * static_cast<float>(dot);
}

#ifdef FACEKIT_X86
// int8 x int8 products widened to int16 and summed in pairs by madd: |sum| <= 127^2 * 2 per
// pair, so the int32 lanes cannot overflow below 66,000 dimensions.
__attribute__((target("avx2"))) float avx2_distance(const void* a, const void* b, const void* dim) {
  const size_t n = *static_cast<const size_t*>(dim);
  const int8_t *x = codes_of(a), *y = codes_of(b);
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i xa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    const __m256i ya = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y + i));
    const __m256i x0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(xa));
    const __m256i y0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(ya));
    const __m256i x1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(xa, 1));
    const __m256i y1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(ya, 1));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(x0, y0));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(x1, y1));
  }
  const __m256i acc = _mm256_add_epi32(acc0, acc1);
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  s = _mm_hadd_epi32(s, s);
  s = _mm_hadd_epi32(s, s);
  int32_t dot = _mm_cvtsi128_si32(s);
  for (; i < n; ++i) dot += int32_t(x[i]) * int32_t(y[i]);
  return 1.f - scale_of(a) * scale_of(b) * static_cast<float>(dot);
}
#endif

}  // namespace

void StoredVector::encode(const float* feature, void* block) const {
  float largest = 0.f;
  for (size_t i = 0; i < dimension; ++i) largest = std::max(largest, std::fabs(feature[i]));
  const float scale = largest > 0.f ? largest / 127.f : 1.f;
  std::memcpy(block, &scale, sizeof scale);
  auto* codes = static_cast<int8_t*>(block) + sizeof(float);
  for (size_t i = 0; i < dimension; ++i) codes[i] = static_cast<int8_t>(std::lround(feature[i] / scale));
  to_half(feature, reinterpret_cast<Half*>(codes + dimension), dimension);
}

CodeDistance portable_code_distance() { return &portable_distance; }

CodeDistance best_code_distance() {
#ifdef FACEKIT_X86
  if (best_half_distance() != portable_half_distance()) return &avx2_distance;  // AVX2 checked there
#endif
  return &portable_distance;
}

}  // namespace facekit::registry
