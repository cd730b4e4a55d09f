#include "models/blaze_block_avx512.h"

#include <immintrin.h>

// GCC 12's _mm512_undefined_ps reads itself, and every intrinsic that takes it as a
// pass-through warns where inlined (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace facekit::models {

namespace {

constexpr int kC = 24;
constexpr int kPair = 2 * kC;
/// Pairs whose depthwise sums run side by side: 12 independent chains of nine multiply-adds
/// (one pair's three alone wait on each add's latency).
constexpr int kDepthwisePairs = 4;
/// Pairs per pass over the input channels in the pointwise product: 12 accumulators, and each
/// weight vector loaded serves four pairs.
constexpr int kPointwisePairs = 4;

// A per-channel vector spread over a pair's lanes: lane i holds channel i % 24.
void spread(const float* v, float* out) {
  for (int i = 0; i < kPair; ++i) out[i] = v[i % kC];
}

// The middle vector's order in the pointwise product: lane 2i output 16 + i of the first
// pixel, lane 2i + 1 output i of the second.
void interleave_middle(const float* v, float* out) {
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = v[16 + i];
    out[2 * i + 1] = v[i];
  }
}

// The three input vectors of pair `j`'s pixels shifted by kx - 1, masked to the pixels inside
// the row (the rest are the zero padding).
struct PairMasks {
  __mmask16 m[3];
};

__attribute__((target("avx512f"))) inline PairMasks masks_for(int x_first, int width) {
  const bool a = x_first >= 0 && x_first < width, b = x_first + 1 >= 0 && x_first + 1 < width;
  return {{static_cast<__mmask16>(a ? 0xFFFF : 0), static_cast<__mmask16>((a ? 0x00FF : 0) | (b ? 0xFF00 : 0)),
           static_cast<__mmask16>(b ? 0xFFFF : 0)}};
}

// G pairs' three accumulators each, set to a pair's bias vectors (48 floats).
template <int G>
__attribute__((target("avx512f"), always_inline)) inline void start_from(const float* bias, __m512 (&acc)[G][3]) {
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) acc[g][v] = _mm512_loadu_ps(bias + 16 * v);
}

// The depthwise sums of G pairs from pair j (three vectors each: [p0 0..15], [p0 16..23 |
// p1 0..7], [p1 8..23]) into the scratch row, interleaved: for each input channel k the two
// pixels' values side by side (scratch[pair][k][2]).
template <int G>
__attribute__((target("avx512f"), always_inline)) inline void store_interleaved(const __m512 (&acc)[G][3], int j,
                                                                                float* __restrict scratch) {
  const __m512i first = _mm512_setr_epi32(0, 24, 1, 25, 2, 26, 3, 27, 4, 28, 5, 29, 6, 30, 7, 31);
  const __m512i second = _mm512_setr_epi32(8, 16, 9, 17, 10, 18, 11, 19, 12, 20, 13, 21, 14, 22, 15, 23);
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    float* e = scratch + (j + g) * kPair;
    _mm512_storeu_ps(e, _mm512_permutex2var_ps(acc[g][0], first, acc[g][1]));
    _mm512_storeu_ps(e + 16, _mm512_permutex2var_ps(acc[g][0], second, acc[g][2]));
    _mm512_storeu_ps(e + 32, _mm512_permutex2var_ps(acc[g][1], first, acc[g][2]));
  }
}

// 16 floats starting 8 into `lo` (the last 8 of `lo`, the first 8 of `hi`): a vector one
// 24-channel pixel to the side of one on a 16-float boundary.
__attribute__((target("avx512f"), always_inline)) inline __m512 straddle(__m512 lo, __m512 hi) {
  return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), 8));
}

// The depthwise sums of G pairs from pair j (pixels 2j, 2j + 1), stored interleaved: for
// each input channel k the two pixels' values side by side (scratch[pair][k][2]). MASKED: a
// pair at an edge of the row (or the odd pixel's pair), where some taps fall outside.
template <int G, bool MASKED>
__attribute__((target("avx512f"), always_inline)) inline void depthwise_pairs(const float* const rows[3], int width,
                                                                              int j, const PairWeights24& w,
                                                                              float* __restrict scratch) {
  __m512 acc[G][3];
  start_from<G>(w.dw_bias.data(), acc);
  // Unrolled: each tap's row and offsets become constants (the loop's index arithmetic cost
  // the depthwise half ~15 % of its time).
#pragma GCC unroll 9
  for (int t = 0; t < 9; ++t) {
    const int ky = t / 3, kx = t % 3;
    const float* tap = w.dw.data() + t * kPair;
    const __m512 t0 = _mm512_loadu_ps(tap), t1 = _mm512_loadu_ps(tap + 16), t2 = _mm512_loadu_ps(tap + 32);
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const int x = 2 * (j + g) - 1 + kx;  // the first pixel this tap reads for the pair
      const float* in = rows[ky] + static_cast<ptrdiff_t>(x) * kC;
      if constexpr (MASKED) {
        const PairMasks m = masks_for(x, width);
        acc[g][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m.m[0], in), t0, acc[g][0]);
        acc[g][1] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m.m[1], in + 16), t1, acc[g][1]);
        acc[g][2] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m.m[2], in + 32), t2, acc[g][2]);
      } else {
        acc[g][0] = _mm512_fmadd_ps(_mm512_loadu_ps(in), t0, acc[g][0]);
        acc[g][1] = _mm512_fmadd_ps(_mm512_loadu_ps(in + 16), t1, acc[g][1]);
        acc[g][2] = _mm512_fmadd_ps(_mm512_loadu_ps(in + 32), t2, acc[g][2]);
      }
    }
  }
  store_interleaved<G>(acc, j, scratch);
}

// The depthwise sums of G inner pairs from pair j, each tap row read once as 16-float vectors
// on the row's own boundaries (the pair's first pixel is even: 48j floats in), the vectors of
// the neighbour pixels (one pixel, 24 floats, to the left or right) made from them by
// alignr. The taps in the same order as depthwise_pairs.
template <int G>
__attribute__((target("avx512f"), always_inline)) inline void depthwise_pairs_sliding(const float* const rows[3], int j,
                                                                                      const PairWeights24& w,
                                                                                      float* __restrict scratch) {
  __m512 acc[G][3];
  start_from<G>(w.dw_bias.data(), acc);
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    // A(3j - 2): it starts 8 floats before the left neighbour (pixel 2j - 1).
    const float* base = rows[ky] + static_cast<ptrdiff_t>(kPair) * j - 32;
    __m512 a[3 * G + 6];
#pragma GCC unroll 30
    for (int m = 0; m < 3 * G + 6; ++m) a[m] = _mm512_loadu_ps(base + 16 * m);
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx) {
      const float* tap = w.dw.data() + (3 * ky + kx) * kPair;
      const __m512 t0 = _mm512_loadu_ps(tap), t1 = _mm512_loadu_ps(tap + 16), t2 = _mm512_loadu_ps(tap + 32);
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) {
        const int m = 3 * g + 2;  // A(3(j + g)) in a[]
        __m512 x0, x1, x2;
        if (kx == 1) {
          x0 = a[m], x1 = a[m + 1], x2 = a[m + 2];
        } else if (kx == 0) {
          x0 = straddle(a[m - 2], a[m - 1]), x1 = straddle(a[m - 1], a[m]), x2 = straddle(a[m], a[m + 1]);
        } else {
          x0 = straddle(a[m + 1], a[m + 2]), x1 = straddle(a[m + 2], a[m + 3]), x2 = straddle(a[m + 3], a[m + 4]);
        }
        acc[g][0] = _mm512_fmadd_ps(x0, t0, acc[g][0]);
        acc[g][1] = _mm512_fmadd_ps(x1, t1, acc[g][1]);
        acc[g][2] = _mm512_fmadd_ps(x2, t2, acc[g][2]);
      }
    }
  }
  store_interleaved<G>(acc, j, scratch);
}

// The pointwise product of Q pairs from pair j, plus the residual, through the (P)ReLU, into
// `out`. `last_pair_single`: the row's width is odd and pair j + Q - 1 is its last, one pixel.
template <int Q, bool PRELU>
__attribute__((target("avx512f"), always_inline)) inline void pointwise_pairs(const float* __restrict scratch,
                                                                              const float* __restrict residual,
                                                                              float* __restrict out, int j,
                                                                              const PairWeights24& w,
                                                                              bool last_pair_single) {
  __m512 acc[Q][3];
  start_from<Q>(w.pw_bias.data(), acc);
  const float* pw = w.pw.data();
  const float* e = scratch + j * kPair;
  for (int k = 0; k < kC; ++k) {
    const __m512 wa = _mm512_loadu_ps(pw + k * kPair), wb = _mm512_loadu_ps(pw + k * kPair + 16),
                 wc = _mm512_loadu_ps(pw + k * kPair + 32);
#pragma GCC unroll 8
    for (int q = 0; q < Q; ++q) {
      const float* ek = e + q * kPair + 2 * k;  // input k of both pixels
      double both;
      std::memcpy(&both, ek, sizeof both);
      acc[q][0] = _mm512_fmadd_ps(_mm512_set1_ps(ek[0]), wa, acc[q][0]);
      acc[q][1] = _mm512_fmadd_ps(_mm512_castpd_ps(_mm512_set1_pd(both)), wb, acc[q][1]);
      acc[q][2] = _mm512_fmadd_ps(_mm512_set1_ps(ek[1]), wc, acc[q][2]);
    }
  }
  // The middle vector back to memory order: outputs 16..23 of the first pixel, 0..7 of the second.
  const __m512i middle = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int q = 0; q < Q; ++q) {
    const ptrdiff_t at = static_cast<ptrdiff_t>(j + q) * kPair;
    const bool single = last_pair_single && q == Q - 1;
    const __mmask16 masks[3] = {0xFFFF, static_cast<__mmask16>(single ? 0x00FF : 0xFFFF),
                                static_cast<__mmask16>(single ? 0 : 0xFFFF)};
    const __m512 y[3] = {acc[q][0], _mm512_permutexvar_ps(middle, acc[q][1]), acc[q][2]};
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) {
      const __m512 r = _mm512_add_ps(y[v], _mm512_maskz_loadu_ps(masks[v], residual + at + 16 * v));
      __m512 o;
      if constexpr (PRELU)  // max(r, 0) + slope * min(r, 0)
        o = _mm512_fmadd_ps(_mm512_loadu_ps(w.slope.data() + 16 * v), _mm512_min_ps(r, zero), _mm512_max_ps(r, zero));
      else
        o = _mm512_max_ps(r, zero);
      _mm512_mask_storeu_ps(out + at + 16 * v, masks[v], o);
    }
  }
}

template <bool PRELU>
__attribute__((target("avx512f"))) void row_pairs(const float* const rows[3], const float* residual, float* out,
                                                  int width, const PairWeights24& w, float* scratch) {
  const int pairs = (width + 1) / 2;
  // Pairs whose taps all fall inside the row: pixels 2j - 1 .. 2j + 2.
  const int inner_begin = 1, inner_end = std::max(1, (width - 1) / 2);
  depthwise_pairs<1, true>(rows, width, 0, w, scratch);
  int j = inner_begin;
  // The sliding form reads 16 floats past its last pair (8 past the pixels it needs), which
  // must lie in the row: pairs up to (24 * width - 64) / 48.
  const int sliding_end = std::min(inner_end, (kC * width - 64) / kPair);
  for (; j + kDepthwisePairs <= sliding_end; j += kDepthwisePairs)
    depthwise_pairs_sliding<kDepthwisePairs>(rows, j, w, scratch);
  for (; j + kDepthwisePairs <= inner_end; j += kDepthwisePairs)
    depthwise_pairs<kDepthwisePairs, false>(rows, width, j, w, scratch);
  for (; j < inner_end; ++j) depthwise_pairs<1, false>(rows, width, j, w, scratch);
  for (j = std::max(j, 1); j < pairs; ++j) depthwise_pairs<1, true>(rows, width, j, w, scratch);
  const bool odd = width % 2 == 1;
  j = 0;
  for (; j + kPointwisePairs <= pairs; j += kPointwisePairs)
    pointwise_pairs<kPointwisePairs, PRELU>(scratch, residual, out, j, w, odd && j + kPointwisePairs == pairs);
  for (; j < pairs; ++j) pointwise_pairs<1, PRELU>(scratch, residual, out, j, w, odd && j + 1 == pairs);
}

// ---- 16, 32, 48, 64, 96, 128 channels: 16-channel vectors ----

// The depthwise output of pixel px, 16 channels from 16 * v, at an image edge: taps outside
// the row are the zero padding.
template <int C>
__attribute__((target("avx512f"), always_inline)) inline __m512 depthwise_edge16(const float* const rows[3], int width,
                                                                                 int px, int v, const __m512* tap,
                                                                                 __m512 acc) {
  for (int ky = 0; ky < 3; ++ky)
    for (int kx = 0; kx < 3; ++kx) {
      const int x = px + kx - 1;
      if (x >= 0 && x < width) acc = _mm512_fmadd_ps(_mm512_loadu_ps(rows[ky] + x * C + 16 * v), tap[ky * 3 + kx], acc);
    }
  return acc;
}

// The pointwise product of P pixels from px for the VB output vectors from v0, plus the
// residual, through the (P)ReLU: P x VB accumulators, VB weight vectors and a broadcast input
// in the 32 registers.
template <int C, int P, int VB, bool PRELU>
__attribute__((target("avx512f"), always_inline)) inline void pointwise16(
    const float* __restrict d, const float* __restrict residual, float* __restrict out, int px,
    const float* __restrict pw, const float* __restrict bias, const float* __restrict slope, int v0) {
  __m512 acc[P][VB];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int v = 0; v < VB; ++v) acc[p][v] = _mm512_loadu_ps(bias + 16 * (v0 + v));
  const float* dp = d + px * C;
  for (int k = 0; k < C; ++k) {
    __m512 wv[VB];
#pragma GCC unroll 8
    for (int v = 0; v < VB; ++v) wv[v] = _mm512_loadu_ps(pw + k * C + 16 * (v0 + v));
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) {
      const __m512 b = _mm512_set1_ps(dp[p * C + k]);
#pragma GCC unroll 8
      for (int v = 0; v < VB; ++v) acc[p][v] = _mm512_fmadd_ps(b, wv[v], acc[p][v]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
    for (int v = 0; v < VB; ++v) {
      const int at = (px + p) * C + 16 * (v0 + v);
      const __m512 r = _mm512_add_ps(acc[p][v], _mm512_loadu_ps(residual + at));
      if constexpr (PRELU)  // max(r, 0) + slope * min(r, 0)
        _mm512_storeu_ps(out + at, _mm512_fmadd_ps(_mm512_loadu_ps(slope + 16 * (v0 + v)), _mm512_min_ps(r, zero),
                                                   _mm512_max_ps(r, zero)));
      else
        _mm512_storeu_ps(out + at, _mm512_max_ps(r, zero));
    }
}

template <int C, bool PRELU>
__attribute__((target("avx512f"))) void row16(const float* const rows[3], const float* __restrict residual,
                                              float* __restrict out, int width, const float* __restrict dw,
                                              const float* __restrict dw_bias, const float* __restrict pw,
                                              const float* __restrict pw_bias, const float* __restrict slope,
                                              float* __restrict d) {
  constexpr int V = C / 16;
  const float* __restrict r0 = rows[0];
  const float* __restrict r1 = rows[1];
  const float* __restrict r2 = rows[2];
  for (int v = 0; v < V; ++v) {
    __m512 tap[9];
#pragma GCC unroll 9
    for (int t = 0; t < 9; ++t) tap[t] = _mm512_loadu_ps(dw + t * C + 16 * v);
    const __m512 bias = _mm512_loadu_ps(dw_bias + 16 * v);
    _mm512_storeu_ps(d + 16 * v, depthwise_edge16<C>(rows, width, 0, v, tap, bias));
    // Inside the row, eight pixels at a time as a sliding window: each input vector of a tap
    // row is loaded once and feeds the (up to) three outputs it is a tap of; eight independent
    // chains, each output's taps in the order t = 0..8.
    int px = 1;
    for (; px + 8 <= width - 1; px += 8) {
      const int o = (px - 1) * C + 16 * v;
      __m512 a[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) a[i] = bias;
#pragma GCC unroll 3
      for (int ky = 0; ky < 3; ++ky) {
        const float* row = (ky == 0 ? r0 : ky == 1 ? r1 : r2) + o;
#pragma GCC unroll 10
        for (int i = 0; i < 10; ++i) {
          const __m512 x = _mm512_loadu_ps(row + i * C);
          if (i < 8) a[i] = _mm512_fmadd_ps(x, tap[3 * ky], a[i]);
          if (i >= 1 && i < 9) a[i - 1] = _mm512_fmadd_ps(x, tap[3 * ky + 1], a[i - 1]);
          if (i >= 2) a[i - 2] = _mm512_fmadd_ps(x, tap[3 * ky + 2], a[i - 2]);
        }
      }
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) _mm512_storeu_ps(d + o + (i + 1) * C, a[i]);
    }
    for (; px < width - 1; ++px) {
      const int o = (px - 1) * C + 16 * v;
      __m512 acc = bias;
      for (int t = 0; t < 9; ++t)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps((t < 3 ? r0 : t < 6 ? r1 : r2) + o + (t % 3) * C), tap[t], acc);
      _mm512_storeu_ps(d + o + C, acc);
    }
    if (width > 1)
      _mm512_storeu_ps(d + (width - 1) * C + 16 * v, depthwise_edge16<C>(rows, width, width - 1, v, tap, bias));
  }
  // Output vectors per pass over the input channels (VB) and pixels per step (P): at most 20
  // accumulators; 128 channels in two slices, whose weights stay in L1.
  constexpr int VB = V <= 6 ? V : 4;
  constexpr int P = VB <= 2 ? 8 : VB == 3 ? 6 : VB == 4 ? 5 : 3;
  static_assert(V % VB == 0, "output vectors in whole passes");
  int px = 0;
  for (; px + P <= width; px += P)
    for (int v0 = 0; v0 < V; v0 += VB) pointwise16<C, P, VB, PRELU>(d, residual, out, px, pw, pw_bias, slope, v0);
  for (; px < width; ++px)
    for (int v0 = 0; v0 < V; v0 += VB) pointwise16<C, 1, VB, PRELU>(d, residual, out, px, pw, pw_bias, slope, v0);
}

using Row16 = void (*)(const float* const*, const float*, float*, int, const float*, const float*, const float*,
                       const float*, const float*, float*);

template <bool PRELU>
Row16 row16_for(int channels) {
  switch (channels) {
    case 16:
      return row16<16, PRELU>;
    case 32:
      return row16<32, PRELU>;
    case 48:
      return row16<48, PRELU>;
    case 64:
      return row16<64, PRELU>;
    case 96:
      return row16<96, PRELU>;
    default:
      return row16<128, PRELU>;
  }
}

// ---- 24 channels on planar rows ----

// Vectors of 16 pixels a tile: the depthwise rows of a tile (24 x 96 floats) stay in L1 for
// the pointwise product, whose 4 outputs x 6 vectors of accumulators, 4 broadcast weights and
// one input vector fit the 32 registers.
constexpr int kPlanarTile = 6;
constexpr int kPlanarOutputs = 4;

// Channel c's depthwise sums over TV vectors of the tile into d: each tap row read as aligned
// vectors, the left and right neighbours made by valignd; taps in the order t = 0..8.
template <int TV>
__attribute__((target("avx512f"), always_inline)) inline void planar_depthwise(const float* const rr[3],
                                                                               const float* taps, float bias,
                                                                               float* __restrict d) {
  __m512 t[9];
#pragma GCC unroll 9
  for (int i = 0; i < 9; ++i) t[i] = _mm512_set1_ps(taps[i * kC]);
  __m512 a[TV];
#pragma GCC unroll 8
  for (int v = 0; v < TV; ++v) a[v] = _mm512_set1_ps(bias);
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    __m512i x[TV + 2];
#pragma GCC unroll 8
    for (int v = 0; v < TV + 2; ++v) x[v] = _mm512_castps_si512(_mm512_load_ps(rr[ky] + 16 * (v - 1)));
#pragma GCC unroll 8
    for (int v = 0; v < TV; ++v) {
      a[v] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_alignr_epi32(x[v + 1], x[v], 15)), t[3 * ky], a[v]);
      a[v] = _mm512_fmadd_ps(_mm512_castsi512_ps(x[v + 1]), t[3 * ky + 1], a[v]);
      a[v] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_alignr_epi32(x[v + 2], x[v + 1], 1)), t[3 * ky + 2], a[v]);
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < TV; ++v) _mm512_store_ps(d + 16 * v, a[v]);
}

// Outputs o0..o0+3 over the tile's TV vectors: bias, the 24 products in input order, the
// residual, the ReLU; pixels past the row's end (`tail` lanes of the last vector kept) stored
// as zeros, the next block's padding.
template <int TV>
__attribute__((target("avx512f"), always_inline)) inline void planar_pointwise(const float* __restrict d,
                                                                               const float* pw, const float* pw_bias,
                                                                               int o0, const float* residual,
                                                                               float* out, int stride, __mmask16 tail) {
  __m512 acc[kPlanarOutputs][TV];
#pragma GCC unroll 4
  for (int o = 0; o < kPlanarOutputs; ++o) {
    const __m512 b = _mm512_set1_ps(pw_bias[o0 + o]);
#pragma GCC unroll 8
    for (int v = 0; v < TV; ++v) acc[o][v] = b;
  }
  for (int k = 0; k < kC; ++k) {
    __m512 wk[kPlanarOutputs];
#pragma GCC unroll 4
    for (int o = 0; o < kPlanarOutputs; ++o) wk[o] = _mm512_set1_ps(pw[k * kC + o0 + o]);
#pragma GCC unroll 8
    for (int v = 0; v < TV; ++v) {
      const __m512 x = _mm512_load_ps(d + k * 16 * kPlanarTile + 16 * v);
#pragma GCC unroll 4
      for (int o = 0; o < kPlanarOutputs; ++o) acc[o][v] = _mm512_fmadd_ps(x, wk[o], acc[o][v]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int o = 0; o < kPlanarOutputs; ++o)
#pragma GCC unroll 8
    for (int v = 0; v < TV; ++v) {
      const ptrdiff_t at = static_cast<ptrdiff_t>(o0 + o) * stride + 16 * v;
      const __m512 r = _mm512_max_ps(_mm512_add_ps(acc[o][v], _mm512_load_ps(residual + at)), zero);
      _mm512_store_ps(out + at, v == TV - 1 ? _mm512_maskz_mov_ps(tail, r) : r);
    }
}

template <int TV>
__attribute__((target("avx512f"))) void planar_tile(const float* const rows[3], const float* residual, float* out,
                                                    int stride, int x0, __mmask16 tail, const float* dw,
                                                    const float* dw_bias, const float* pw, const float* pw_bias,
                                                    float* d) {
  for (int c = 0; c < kC; ++c) {
    const ptrdiff_t at = static_cast<ptrdiff_t>(c) * stride + kPlanarPad + x0;
    const float* rr[3] = {rows[0] + at, rows[1] + at, rows[2] + at};
    planar_depthwise<TV>(rr, dw + c, dw_bias[c], d + c * 16 * kPlanarTile);
  }
  const ptrdiff_t at = kPlanarPad + x0;
  for (int o0 = 0; o0 < kC; o0 += kPlanarOutputs)
    planar_pointwise<TV>(d, pw, pw_bias, o0, residual + at, out + at, stride, tail);
}

}  // namespace

int planar_scratch_floats() { return kC * 16 * kPlanarTile; }

void block_row_planar24(const float* const rows[3], const float* residual, float* out, int width, const float* dw,
                        const float* dw_bias, const float* pw, const float* pw_bias, float* scratch) {
  const int stride = planar_stride(width), vectors = (width + 15) / 16;
  for (int v = 0; v < vectors; v += kPlanarTile) {
    const int n = std::min(kPlanarTile, vectors - v);
    // The row's last vector keeps the lanes inside the row.
    const int inside = v + n == vectors ? width - 16 * (vectors - 1) : 16;
    const __mmask16 tail = static_cast<__mmask16>((1u << inside) - 1);
    switch (n) {
      case 6:
        planar_tile<6>(rows, residual, out, stride, 16 * v, tail, dw, dw_bias, pw, pw_bias, scratch);
        break;
      case 5:
        planar_tile<5>(rows, residual, out, stride, 16 * v, tail, dw, dw_bias, pw, pw_bias, scratch);
        break;
      case 4:
        planar_tile<4>(rows, residual, out, stride, 16 * v, tail, dw, dw_bias, pw, pw_bias, scratch);
        break;
      case 3:
        planar_tile<3>(rows, residual, out, stride, 16 * v, tail, dw, dw_bias, pw, pw_bias, scratch);
        break;
      case 2:
        planar_tile<2>(rows, residual, out, stride, 16 * v, tail, dw, dw_bias, pw, pw_bias, scratch);
        break;
      default:
        planar_tile<1>(rows, residual, out, stride, 16 * v, tail, dw, dw_bias, pw, pw_bias, scratch);
        break;
    }
  }
}

// r[i] <- column i of the 16 x 16 matrix whose rows are r[0..15].
__attribute__((target("avx512f"), always_inline)) inline void transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 16; j += 4) {
    const __m512d a = _mm512_castps_pd(t[j]), b = _mm512_castps_pd(t[j + 1]), c = _mm512_castps_pd(t[j + 2]),
                  d = _mm512_castps_pd(t[j + 3]);
    r[j] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[j + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[j + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[j + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
#pragma GCC unroll 2
  for (int j = 0; j < 16; j += 8)
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      t[j + k] = _mm512_shuffle_f32x4(r[j + k], r[j + k + 4], 0x88);
      t[j + k + 4] = _mm512_shuffle_f32x4(r[j + k], r[j + k + 4], 0xdd);
    }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

// 16 pixels' 24 channels (channels-last, from `from`) to 24 vectors of 16 pixels in `planar`
// (channel c at c * stride).
__attribute__((target("avx512f"), always_inline)) inline void group_to_planar(const float* from, float* planar,
                                                                              int stride) {
  __m512 r[16];
#pragma GCC unroll 16
  for (int p = 0; p < 16; ++p) r[p] = _mm512_loadu_ps(from + p * kC);
  transpose16(r);
#pragma GCC unroll 16
  for (int c = 0; c < 16; ++c) _mm512_store_ps(planar + static_cast<ptrdiff_t>(c) * stride, r[c]);
    // Channels 16..23: pixels p and p + 8 in one vector, transposed, then each channel's two
    // halves joined.
#pragma GCC unroll 8
  for (int p = 0; p < 8; ++p)
    r[p] = _mm512_castpd_ps(
        _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(from + p * kC + 16))),
                           _mm256_castps_pd(_mm256_loadu_ps(from + (p + 8) * kC + 16)), 1));
#pragma GCC unroll 8
  for (int p = 8; p < 16; ++p) r[p] = _mm512_setzero_ps();
  transpose16(r);
#pragma GCC unroll 8
  for (int c = 0; c < 8; ++c)
    _mm512_store_ps(planar + static_cast<ptrdiff_t>(16 + c) * stride, _mm512_shuffle_f32x4(r[c], r[c + 8], 0x44));
}

// The reverse: 24 vectors of 16 pixels to 16 pixels' 24 channels.
__attribute__((target("avx512f"), always_inline)) inline void group_from_planar(const float* planar, int stride,
                                                                                float* to) {
  __m512 r[16];
#pragma GCC unroll 16
  for (int c = 0; c < 16; ++c) r[c] = _mm512_load_ps(planar + static_cast<ptrdiff_t>(c) * stride);
  transpose16(r);
#pragma GCC unroll 16
  for (int p = 0; p < 16; ++p) _mm512_storeu_ps(to + p * kC, r[p]);
#pragma GCC unroll 8
  for (int c = 0; c < 8; ++c) r[c] = _mm512_load_ps(planar + static_cast<ptrdiff_t>(16 + c) * stride);
#pragma GCC unroll 8
  for (int c = 8; c < 16; ++c) r[c] = _mm512_setzero_ps();
  transpose16(r);
#pragma GCC unroll 16
  for (int p = 0; p < 16; ++p) _mm256_storeu_ps(to + p * kC + 16, _mm512_castps512_ps256(r[p]));
}

__attribute__((target("avx512f"))) void to_planar24(const float* channels_last, int width, float* planar) {
  const int stride = planar_stride(width);
  int x0 = 0;
  for (; x0 + 16 <= width; x0 += 16)
    group_to_planar(channels_last + static_cast<ptrdiff_t>(x0) * kC, planar + kPlanarPad + x0, stride);
  if (x0 < width) {  // the last pixels through a zeroed group: the lanes past the row are zeros
    alignas(64) float group[16 * kC] = {};
    std::memcpy(group, channels_last + static_cast<ptrdiff_t>(x0) * kC, sizeof(float) * (width - x0) * kC);
    group_to_planar(group, planar + kPlanarPad + x0, stride);
  }
}

__attribute__((target("avx512f"))) void from_planar24(const float* planar, int width, float* channels_last) {
  const int stride = planar_stride(width);
  int x0 = 0;
  for (; x0 + 16 <= width; x0 += 16)
    group_from_planar(planar + kPlanarPad + x0, stride, channels_last + static_cast<ptrdiff_t>(x0) * kC);
  if (x0 < width) {
    alignas(64) float group[16 * kC];
    group_from_planar(planar + kPlanarPad + x0, stride, group);
    std::memcpy(channels_last + static_cast<ptrdiff_t>(x0) * kC, group, sizeof(float) * (width - x0) * kC);
  }
}

PairWeights24 pack_pairs24(const float* dw, const float* dw_bias, const float* pw, const float* pw_bias,
                           const float* slope) {
  PairWeights24 p;
  p.dw.resize(9 * kPair);
  for (int t = 0; t < 9; ++t) spread(dw + t * kC, p.dw.data() + t * kPair);
  p.dw_bias.resize(kPair);
  spread(dw_bias, p.dw_bias.data());
  p.pw.resize(kC * kPair);
  for (int k = 0; k < kC; ++k) {
    float* o = p.pw.data() + k * kPair;
    const float* row = pw + k * kC;  // outputs of input k
    std::memcpy(o, row, 16 * sizeof(float));
    interleave_middle(row, o + 16);
    std::memcpy(o + 32, row + 8, 16 * sizeof(float));
  }
  p.pw_bias.resize(kPair);
  std::memcpy(p.pw_bias.data(), pw_bias, 16 * sizeof(float));
  interleave_middle(pw_bias, p.pw_bias.data() + 16);
  std::memcpy(p.pw_bias.data() + 32, pw_bias + 8, 16 * sizeof(float));
  if (slope != nullptr) {
    p.slope.resize(kPair);
    spread(slope, p.slope.data());
  }
  return p;
}

void block_row_pairs24(const float* const rows[3], const float* residual, float* out, int width, const PairWeights24& w,
                       float* scratch) {
  if (w.slope.empty())
    row_pairs<false>(rows, residual, out, width, w, scratch);
  else
    row_pairs<true>(rows, residual, out, width, w, scratch);
}

void block_row_16_lanes(int channels, const float* const rows[3], const float* residual, float* out, int width,
                        const float* dw, const float* dw_bias, const float* pw, const float* pw_bias,
                        const float* slope, float* scratch) {
  const Row16 row = slope == nullptr ? row16_for<false>(channels) : row16_for<true>(channels);
  row(rows, residual, out, width, dw, dw_bias, pw, pw_bias, slope, scratch);
}

}  // namespace facekit::models
