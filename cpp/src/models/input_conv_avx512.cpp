#include "models/input_conv_avx512.h"

#include <immintrin.h>

#include <algorithm>
// GCC 12's _mm512_undefined_ps reads itself, and every intrinsic that takes it as a
// pass-through warns where inlined (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace facekit::models {

namespace {

constexpr int kInputChannels = 3;

// Q output pixels from ox (kernel columns kx_lo..kx_hi of the box inside the image for all of
// them): Z 16-channel vectors and, for C = 24, an 8-channel half. The taps row by row, column
// by column, channel by channel, after the bias; ReLU on the way out.
template <int C, int Q, int KW>
__attribute__((target("avx512f,avx2,fma"), always_inline)) inline void pixels(const float* __restrict image, int width,
                                                                              int iy_first, int ky_lo, int ky_hi,
                                                                              int kx_lo, int kx_hi, int ox,
                                                                              const InputConvTaps& k,
                                                                              float* __restrict out) {
  constexpr int Z = C / 16;
  constexpr bool kHalf = C % 16 == 8;
  const int kw = KW > 0 ? KW : k.kw;
  __m512 acc[Q][Z];
  __m256 half[Q];
#pragma GCC unroll 12
  for (int q = 0; q < Q; ++q) {
#pragma GCC unroll 2
    for (int z = 0; z < Z; ++z) acc[q][z] = _mm512_loadu_ps(k.bias + 16 * z);
    if constexpr (kHalf) half[q] = _mm256_loadu_ps(k.bias + 16 * Z);
  }
  const int step = k.stride * kInputChannels;
  for (int ky = ky_lo; ky < ky_hi; ++ky) {
    const float* row = image + static_cast<int64_t>(iy_first + ky) * width * kInputChannels;
#pragma GCC unroll 8
    for (int kx = kx_lo; kx < kx_hi; ++kx) {
      const float* at = row + (ox * k.stride - k.pad + k.kx0 + kx) * kInputChannels;
      const float* w = k.w + ((ky * kw + kx) * kInputChannels) * C;
#pragma GCC unroll 3
      for (int ci = 0; ci < kInputChannels; ++ci) {
        __m512 wz[Z];
#pragma GCC unroll 2
        for (int z = 0; z < Z; ++z) wz[z] = _mm512_loadu_ps(w + ci * C + 16 * z);
        __m256 wh = _mm256_setzero_ps();
        if constexpr (kHalf) wh = _mm256_loadu_ps(w + ci * C + 16 * Z);
#pragma GCC unroll 12
        for (int q = 0; q < Q; ++q) {
          const __m512 b = _mm512_set1_ps(at[q * step + ci]);
#pragma GCC unroll 2
          for (int z = 0; z < Z; ++z) acc[q][z] = _mm512_fmadd_ps(b, wz[z], acc[q][z]);
          if constexpr (kHalf) half[q] = _mm256_fmadd_ps(_mm512_castps512_ps256(b), wh, half[q]);
        }
      }
    }
  }
#pragma GCC unroll 12
  for (int q = 0; q < Q; ++q) {
#pragma GCC unroll 2
    for (int z = 0; z < Z; ++z)
      _mm512_storeu_ps(out + (ox + q) * C + 16 * z, _mm512_max_ps(acc[q][z], _mm512_setzero_ps()));
    if constexpr (kHalf) _mm256_storeu_ps(out + (ox + q) * C + 16 * Z, _mm256_max_ps(half[q], _mm256_setzero_ps()));
  }
}

// One output row: the interior Q pixels at a time, the edges one at a time without the taps
// in the padding (zero there).
template <int C, int KW>
__attribute__((target("avx512f,avx2,fma"))) void conv_row(const float* image, int height, int width, int oy,
                                                          int out_width, const InputConvTaps& k, int ky0, float* out) {
  constexpr int Q = C == 16 ? 12 : 8;  // Q x (Z + half) accumulators, the weights and a broadcast in 32 registers
  const int kw = KW > 0 ? KW : k.kw;
  const InputConvRowSpan s = input_conv_row_span(k, height, width, oy, out_width, ky0);
  for (int ox = 0; ox < out_width;) {
    if (ox >= s.first && ox + Q <= s.end) {
      pixels<C, Q, KW>(image, width, s.iy_first, s.ky_lo, s.ky_hi, 0, kw, ox, k, out);
      ox += Q;
    } else {
      const int ix_first = ox * k.stride - k.pad + k.kx0;
      const int lo = std::clamp(-ix_first, 0, kw), hi = std::clamp(width - ix_first, lo, kw);
      pixels<C, 1, KW>(image, width, s.iy_first, s.ky_lo, s.ky_hi, lo, hi, ox, k, out);
      ++ox;
    }
  }
}

}  // namespace

InputConvRowSpan input_conv_row_span(const InputConvTaps& k, int height, int width, int oy, int out_width, int ky0) {
  InputConvRowSpan s{};
  s.iy_first = oy * k.stride - k.pad + ky0;  // image row of the box's first kernel row
  s.ky_lo = std::clamp(-s.iy_first, 0, k.kh);
  s.ky_hi = std::clamp(height - s.iy_first, s.ky_lo, k.kh);
  // Interior: ox * stride - pad + kx0 >= 0 and ox * stride - pad + kx1 - 1 <= width - 1.
  s.first = std::min(out_width, std::max(0, (k.pad - k.kx0 + k.stride - 1) / k.stride));
  const int last_room = width + k.pad - (k.kx0 + k.kw);  // ox * stride may reach this
  s.end = last_room < 0 ? s.first : std::max(s.first, std::min(out_width, last_room / k.stride + 1));
  return s;
}

void input_conv_row_avx512(int channels, const float* image, int height, int width, int oy, int out_width,
                           const InputConvTaps& k, int ky0, float* out) {
  const bool five = k.kw == 5;  // BlazeFace's 5 taps a row (its 6x6 kernel less the zero column) unrolled
  switch (channels) {
    case 16:
      (five ? conv_row<16, 5> : conv_row<16, 0>)(image, height, width, oy, out_width, k, ky0, out);
      break;
    case 24:
      (five ? conv_row<24, 5> : conv_row<24, 0>)(image, height, width, oy, out_width, k, ky0, out);
      break;
    default:
      (five ? conv_row<32, 5> : conv_row<32, 0>)(image, height, width, oy, out_width, k, ky0, out);
      break;
  }
}

}  // namespace facekit::models
