#include "models/separable_conv_avx512.h"

#include <immintrin.h>
// GCC 12's _mm512_undefined_ps reads itself, and every intrinsic that takes it as a
// pass-through warns where inlined (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace facekit::models {

namespace {

constexpr int kSlice = 32;
constexpr int kTilePixels = 12;

// Q pixels' kSlice output channels: `in` the first pixel's cin inputs (the next ones follow),
// `w` [cin][cout] from the slice's first column, `bias`, `slope` from it, `res` and `out` the
// first pixel's slice (pixels cout floats apart). The AVX2 tile's order: bias, then k = 0..cin-1,
// then the residual, then the PReLU.
template <int Q, bool PRELU, bool RES>
__attribute__((target("avx512f"), always_inline)) inline void tile(const float* __restrict in, int cin,
                                                                   const float* __restrict w, int cout,
                                                                   const float* __restrict bias,
                                                                   const float* __restrict slope,
                                                                   const float* __restrict res, float* __restrict out) {
  __m512 acc[Q][2];
  const __m512 b0 = _mm512_loadu_ps(bias), b1 = _mm512_loadu_ps(bias + 16);
#pragma GCC unroll 12
  for (int p = 0; p < Q; ++p) acc[p][0] = b0, acc[p][1] = b1;
#pragma GCC unroll 2
  for (int k = 0; k < cin; ++k) {
    const __m512 w0 = _mm512_loadu_ps(w + k * cout), w1 = _mm512_loadu_ps(w + k * cout + 16);
#pragma GCC unroll 12
    for (int p = 0; p < Q; ++p) {
      const __m512 b = _mm512_set1_ps(in[p * cin + k]);
      acc[p][0] = _mm512_fmadd_ps(b, w0, acc[p][0]);
      acc[p][1] = _mm512_fmadd_ps(b, w1, acc[p][1]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 12
  for (int p = 0; p < Q; ++p)
#pragma GCC unroll 2
    for (int v = 0; v < 2; ++v) {
      __m512 r = acc[p][v];
      if constexpr (RES) r = _mm512_add_ps(r, _mm512_loadu_ps(res + p * cout + 16 * v));
      if constexpr (PRELU)  // max(r, 0) + slope * min(r, 0)
        r = _mm512_fmadd_ps(_mm512_loadu_ps(slope + 16 * v), _mm512_min_ps(r, zero), _mm512_max_ps(r, zero));
      _mm512_storeu_ps(out + p * cout + 16 * v, r);
    }
}

// Slice by slice (a slice's weights, cin x 32 floats, stay in L1 while the pixels pass),
// kTilePixels pixels at a time, then four, then one.
template <bool PRELU, bool RES>
__attribute__((target("avx512f"))) void pixels(const float* in, int cin, const float* w, int cout, const float* bias,
                                               const float* slope, const float* res, float* out, int64_t begin,
                                               int64_t end) {
  for (int v0 = 0; v0 < cout; v0 += kSlice) {
    const float* sl = PRELU ? slope + v0 : nullptr;
    int64_t p = begin;
    for (; p + kTilePixels <= end; p += kTilePixels)
      tile<kTilePixels, PRELU, RES>(in + p * cin, cin, w + v0, cout, bias + v0, sl, RES ? res + p * cout + v0 : nullptr,
                                    out + p * cout + v0);
    for (; p + 4 <= end; p += 4)
      tile<4, PRELU, RES>(in + p * cin, cin, w + v0, cout, bias + v0, sl, RES ? res + p * cout + v0 : nullptr,
                          out + p * cout + v0);
    for (; p < end; ++p)
      tile<1, PRELU, RES>(in + p * cin, cin, w + v0, cout, bias + v0, sl, RES ? res + p * cout + v0 : nullptr,
                          out + p * cout + v0);
  }
}

}  // namespace

void pointwise_pixels_avx512(const float* in, int cin, const float* w, int cout, const float* bias, const float* slope,
                             const float* res, float* out, int64_t begin, int64_t end) {
  if (slope && res)
    pixels<true, true>(in, cin, w, cout, bias, slope, res, out, begin, end);
  else if (slope)
    pixels<true, false>(in, cin, w, cout, bias, slope, res, out, begin, end);
  else if (res)
    pixels<false, true>(in, cin, w, cout, bias, slope, res, out, begin, end);
  else
    pixels<false, false>(in, cin, w, cout, bias, slope, res, out, begin, end);
}

}  // namespace facekit::models
