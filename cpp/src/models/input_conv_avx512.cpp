#include "models/input_conv_avx512.h"

#include <immintrin.h>

#include <algorithm>

#include "models/blaze_block_avx512.h"
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

// ---- 24 channels at stride 2 into planar rows ----

// A plane holds one channel's even or odd image columns: plane j is column 2 j + parity, from
// j = -kPlaneMargin (zeros left of the image) to past the last output's reach (zeros).
constexpr int kPlaneMargin = 16;
int plane_floats(int width) { return ((width + 1) / 2 + 2 * kPlaneMargin + 16) / 16 * 16 + 16; }

// For each plane q = 3 p + ci, the lanes i whose float 6 i + q of a 96-float block lies in its
// first 32 floats (`lo`) or its next 32 (`mid`); the rest lie in the last 32.
struct SplitMasks {
  __mmask16 lo[6], mid[6];
};
constexpr SplitMasks split_masks() {
  SplitMasks m{};
  for (int q = 0; q < 6; ++q)
    for (int i = 0; i < 16; ++i) {
      const int f = 6 * i + q;
      if (f < 32)
        m.lo[q] = static_cast<__mmask16>(m.lo[q] | (1u << i));
      else if (f < 64)
        m.mid[q] = static_cast<__mmask16>(m.mid[q] | (1u << i));
    }
  return m;
}

// Image row `row` (width x 3 floats) into its six planes: channel ci, parity p at
// planes + (2 ci + p) * plane_floats(width) + kPlaneMargin; zeros outside the image.
__attribute__((target("avx512f"))) void split_row(const float* row, int width, float* planes) {
  const int n = plane_floats(width);
  for (int q = 0; q < 6; ++q) {  // zeros left and right of the image's columns
    float* plane = planes + q * n;
    std::fill(plane, plane + kPlaneMargin, 0.f);
    std::fill(plane + kPlaneMargin + width / 2, plane + n, 0.f);
  }
  // 16 column pairs (32 pixels, 96 floats) at a time: plane (ci, p)'s 16 floats are the
  // block's floats 6 i + 3 p + ci, i = 0..15: each from one of three pairs of vectors (floats
  // 0-31, 32-63, 64-95; a two-vector permute reads an index mod 32), then merged.
  const __m512i six_i = _mm512_setr_epi32(0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60, 66, 72, 78, 84, 90);
  constexpr SplitMasks masks = split_masks();
  const int pairs = width / 2;  // whole column pairs; the rest (and an odd last column) below
  int j = 0;
  for (; j + 16 <= pairs; j += 16) {
    const float* at = row + 6 * j;
    __m512 a[6];
#pragma GCC unroll 6
    for (int v = 0; v < 6; ++v) a[v] = _mm512_loadu_ps(at + 16 * v);
#pragma GCC unroll 6
    for (int q = 0; q < 6; ++q) {  // q = 3 p + ci
      const __m512i idx = _mm512_add_epi32(six_i, _mm512_set1_epi32(q));
      const __m512 lo = _mm512_permutex2var_ps(a[0], idx, a[1]);
      const __m512 mid = _mm512_permutex2var_ps(a[2], idx, a[3]);
      const __m512 hi = _mm512_permutex2var_ps(a[4], idx, a[5]);
      const __m512 v = _mm512_mask_mov_ps(_mm512_mask_mov_ps(hi, masks.mid[q], mid), masks.lo[q], lo);
      _mm512_storeu_ps(planes + (2 * (q % 3) + q / 3) * n + kPlaneMargin + j, v);
    }
  }
  for (int x = 2 * j; x < width; ++x)
    for (int ci = 0; ci < kInputChannels; ++ci) planes[(2 * ci + (x & 1)) * n + kPlaneMargin + x / 2] = row[3 * x + ci];
}

}  // namespace

int input_conv_planes_floats(int width) { return 6 * 8 * plane_floats(width); }

__attribute__((target("avx512f"))) void input_conv_planar_row24_avx512(const float* image, int height, int width,
                                                                       int oy, int out_width, const InputConvTaps& k,
                                                                       int ky0, float* planar, float* planes) {
  constexpr int C = 24;
  const InputConvRowSpan s = input_conv_row_span(k, height, width, oy, out_width, ky0);
  const int n = plane_floats(width), rows = s.ky_hi - s.ky_lo;
  for (int r = 0; r < rows; ++r)
    split_row(image + static_cast<int64_t>(s.iy_first + s.ky_lo + r) * width * kInputChannels, width,
              planes + static_cast<int64_t>(r) * 6 * n);
  // Output ox, box column kx reads image column 2 ox + base + kx: plane parity (base + kx) & 1,
  // plane column ox + ((base + kx) >> 1).
  const int base = k.kx0 - k.pad;
  const int stride = planar_stride(out_width);
  // 32 outputs (two vectors) x 12 channels at a time: 24 accumulators; per tap and input
  // channel two input vectors and 12 broadcast weights feed 24 multiply-adds.
  constexpr int kHalf = C / 2;
  const __m512 zero = _mm512_setzero_ps();
  for (int ox = 0; ox < out_width; ox += 32) {
    for (int c0 = 0; c0 < C; c0 += kHalf) {
      __m512 acc[2][kHalf];
#pragma GCC unroll 12
      for (int c = 0; c < kHalf; ++c) acc[0][c] = acc[1][c] = _mm512_set1_ps(k.bias[c0 + c]);
      for (int r = 0; r < rows; ++r) {
        const int ky = s.ky_lo + r;
        const float* rp = planes + static_cast<int64_t>(r) * 6 * n + kPlaneMargin + ox;
        for (int kx = 0; kx < k.kw; ++kx) {
          const int p = (base + kx) & 1, d = (base + kx) >> 1;
          const float* w = k.w + ((ky * k.kw + kx) * kInputChannels) * C + c0;
#pragma GCC unroll 3
          for (int ci = 0; ci < kInputChannels; ++ci) {
            const float* x = rp + (2 * ci + p) * n + d;
            const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
#pragma GCC unroll 12
            for (int c = 0; c < kHalf; ++c) {
              const __m512 wc = _mm512_set1_ps(w[ci * C + c]);
              acc[0][c] = _mm512_fmadd_ps(x0, wc, acc[0][c]);
              acc[1][c] = _mm512_fmadd_ps(x1, wc, acc[1][c]);
            }
          }
        }
      }
#pragma GCC unroll 2
      for (int v = 0; v < 2; ++v) {
        const int left = out_width - ox - 16 * v;  // outputs of this vector inside the row
        if (left <= 0) continue;
        const __mmask16 keep = static_cast<__mmask16>(left >= 16 ? 0xffff : (1u << left) - 1);
#pragma GCC unroll 12
        for (int c = 0; c < kHalf; ++c)
          _mm512_storeu_ps(planar + static_cast<int64_t>(c0 + c) * stride + kPlanarPad + ox + 16 * v,
                           _mm512_maskz_mov_ps(keep, _mm512_max_ps(acc[v][c], zero)));
      }
    }
  }
}

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
