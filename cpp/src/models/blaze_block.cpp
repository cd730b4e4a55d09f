#include "models/blaze_block.h"

#include <ATen/Parallel.h>
#include <immintrin.h>
#include <torch/library.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "common/claimed_chunks.h"
#include "common/cpu_features.h"
#include "common/thread_buffer.h"
#include "models/blaze_block_avx512.h"
#include "models/input_conv.h"
#include "models/tf_same.h"
#include "models/weight_cache.h"

namespace facekit::models {

namespace {

constexpr int64_t kKernelMaxPixelsFrom96 = 2048;
/// blaze_blocks runs a chain as one pass from this size of a block's tensor: seven 24-channel
/// blocks (facekit_bench_blaze_block, engine's malloc settings) took 0.82x as long as one by one
/// at 544x960 (50 MB), 0.87x at 352x608 (20 MB), 0.90x at 272x480 (12.5 MB), but 1.07x at
/// 176x304 (5 MB), which the last-level cache holds between blocks anyway (the chain's rows,
/// ~1 MB a thread, do not fit the 512 KB L2 either).
constexpr int64_t kChainMinBytes = 8 << 20;
/// Fed row by row by the input convolution (blaze_blocks_after_input_conv), the chain also
/// spares the convolution's output a trip through memory, and pays from a smaller size: at a
/// 480x672 detector input (7.7 MB) the detector ran 0.88x as long at one thread (36.8-38.4
/// against 42.7-43.3 ms) and 0.93x at two (facekit_bench_models, alternating); at 288x416
/// (2.9 MB) no difference stood out of the noise then. Since the convolution writes the planar
/// chain's rows itself it pays lower: a 1024 px headshot's coarse levels (480x352, 4.0 MB)
/// took 0.95x as long against the plain graph run beside them (median ratio of 10 alternating
/// processes, 0.341 against 0.359); at 448x320 and 256x256 within the noise.
constexpr int64_t kChainAfterConvMinBytes = 1 << 20;
/// One image on two threads runs the chain from both ends (run_chain_from_both_ends), and from
/// a much smaller size than two fixed bands paid: calls alternating with the thresholds above
/// in one process (medians of 80-100 pairs) took 0.92x as long for a 1024 px headshot at
/// min_face 20 (its 24- and 48-channel maps of 0.5-2.4 MB, FaceMesh's), 0.94x for a 640x480
/// photo, 0.96x for the 1920x1080 group photo at min_face 40 and 20, 0.98x in portrait mode.
constexpr int64_t kBothEndsMinBytes = 256 << 10;
/// ... down to this many rows, each side a few blocks' rows past the middle at least.
constexpr int64_t kBothEndsMinRows = 16;

// Whether one image of `h` rows runs its chain from both ends on this call's team.
bool from_both_ends(int64_t n, int64_t h) { return n == 1 && h >= kBothEndsMinRows && at::get_num_threads() == 2; }

// The weights as the kernel reads them: depthwise taps [9][C], pointwise [C_in][C_out], biases
// [C] (zeros where the graph has none), and the PReLU's slopes [C] (empty: ReLU).
struct Packed {
  AlignedVector<float> dw, dw_bias, pw, pw_bias, slope;
  PairWeights24 pairs;  // 24 channels with AVX-512: the pair kernel's layout (else empty)
};

Packed pack(int64_t c, const at::Tensor& dw_weight, const c10::optional<at::Tensor>& dw_bias,
            const at::Tensor& pw_weight, const c10::optional<at::Tensor>& pw_bias,
            const c10::optional<at::Tensor>& slope) {
  Packed p;
  if (slope && slope->defined()) {
    const at::Tensor sl = slope->contiguous();
    p.slope.assign(c, 0.f);
    for (int64_t ch = 0; ch < c; ++ch) p.slope[ch] = sl.data_ptr<float>()[sl.numel() == 1 ? 0 : ch];
  }
  p.dw.resize(9 * c);
  p.pw.resize(c * c);
  p.dw_bias.assign(c, 0.f);
  p.pw_bias.assign(c, 0.f);
  const at::Tensor dw = dw_weight.contiguous(), pw = pw_weight.contiguous();
  const float* d = dw.data_ptr<float>();  // [C][1][3][3]
  const float* w = pw.data_ptr<float>();  // [C_out][C_in]
  for (int64_t ch = 0; ch < c; ++ch)
    for (int t = 0; t < 9; ++t) p.dw[t * c + ch] = d[ch * 9 + t];
  for (int64_t out = 0; out < c; ++out)
    for (int64_t in = 0; in < c; ++in) p.pw[in * c + out] = w[out * c + in];
  if (dw_bias && dw_bias->defined()) std::memcpy(p.dw_bias.data(), dw_bias->contiguous().data_ptr<float>(), c * sizeof(float));
  if (pw_bias && pw_bias->defined()) std::memcpy(p.pw_bias.data(), pw_bias->contiguous().data_ptr<float>(), c * sizeof(float));
  if (c == 24 && avx512_kernels_on())
    p.pairs = pack_pairs24(p.dw.data(), p.dw_bias.data(), p.pw.data(), p.pw_bias.data(),
                           p.slope.empty() ? nullptr : p.slope.data());
  return p;
}

at::Tensor or_undefined(const c10::optional<at::Tensor>& t) { return t ? *t : at::Tensor(); }

// pack's result for one block, made once per model (models/weight_cache.h). The pair layout
// exists only with the AVX-512 path on: that choice is part of the key.
std::shared_ptr<const Packed> packed(int64_t c, const at::Tensor& dw_weight, const c10::optional<at::Tensor>& dw_bias,
                                     const at::Tensor& pw_weight, const c10::optional<at::Tensor>& pw_bias,
                                     const c10::optional<at::Tensor>& slope) {
  static WeightCache<Packed> cache;
  return cache.get({dw_weight, or_undefined(dw_bias), pw_weight, or_undefined(pw_bias), or_undefined(slope)},
                   avx512_kernels_on(), [&] { return pack(c, dw_weight, dw_bias, pw_weight, pw_bias, slope); });
}

// The pointwise product of Q pixels of the depthwise row `d` (CIN channels a pixel) from pixel
// px, for the VB output vectors from v0 (8 of the C output channels each), plus the residual,
// through the (P)ReLU. At most 12 accumulators, which stay in registers (the loops over them
// are unrolled).
template <int CIN, int C, int Q, int VB, bool PRELU>
__attribute__((target("avx2,fma"), always_inline)) inline void pointwise(const float* __restrict d,
                                                                         const float* __restrict residual,
                                                                         float* __restrict out, int px,
                                                                         const float* __restrict pw,
                                                                         const float* __restrict bias,
                                                                         const float* __restrict slope, int v0) {
  constexpr int V = VB;
  __m256 acc[Q][V];
  bias += 8 * v0;
  if constexpr (PRELU) slope += 8 * v0;
  pw += 8 * v0;
  residual += 8 * v0;
  out += 8 * v0;
#pragma GCC unroll 16
  for (int p = 0; p < Q; ++p)
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) acc[p][v] = _mm256_loadu_ps(bias + 8 * v);
  const float* dp = d + px * CIN;
  // Registers: the Q x V accumulators, plus either the V weight vectors of one input channel
  // (C = 16, 24) or the Q broadcast inputs (C >= 32), plus one: at most 16.
  if constexpr (V <= 3) {
    for (int k = 0; k < CIN; ++k) {
      __m256 wv[V];
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) wv[v] = _mm256_loadu_ps(pw + k * C + 8 * v);
#pragma GCC unroll 16
      for (int p = 0; p < Q; ++p) {
        const __m256 b = _mm256_broadcast_ss(dp + p * CIN + k);
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) acc[p][v] = _mm256_fmadd_ps(b, wv[v], acc[p][v]);
      }
    }
  } else {
    for (int k = 0; k < CIN; ++k) {
      __m256 b[Q];
#pragma GCC unroll 16
      for (int p = 0; p < Q; ++p) b[p] = _mm256_broadcast_ss(dp + p * CIN + k);
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) {
        const __m256 wv = _mm256_loadu_ps(pw + k * C + 8 * v);
#pragma GCC unroll 16
        for (int p = 0; p < Q; ++p) acc[p][v] = _mm256_fmadd_ps(b[p], wv, acc[p][v]);
      }
    }
  }
  const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 16
  for (int p = 0; p < Q; ++p)
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) {
      const int at = (px + p) * C + 8 * v;
      const __m256 r = _mm256_add_ps(acc[p][v], _mm256_loadu_ps(residual + at));
      if constexpr (PRELU)  // max(r, 0) + slope * min(r, 0)
        _mm256_storeu_ps(out + at, _mm256_fmadd_ps(_mm256_loadu_ps(slope + 8 * v), _mm256_min_ps(r, zero),
                                                   _mm256_max_ps(r, zero)));
      else
        _mm256_storeu_ps(out + at, _mm256_max_ps(r, zero));
    }
}

// The depthwise output of pixel px, 8 channels from 8 * v, at an image edge: taps outside the
// row are the zero padding.
template <int C>
__attribute__((target("avx2,fma"), always_inline)) inline __m256 depthwise_edge(const float* const rows[3], int width,
                                                                               int px, int v, const __m256* tap,
                                                                               __m256 acc) {
  for (int ky = 0; ky < 3; ++ky)
    for (int kx = 0; kx < 3; ++kx) {
      const int x = px + kx - 1;
      if (x >= 0 && x < width) acc = _mm256_fmadd_ps(_mm256_loadu_ps(rows[ky] + x * C + 8 * v), tap[ky * 3 + kx], acc);
    }
  return acc;
}

// One output row: the depthwise row from the three input rows around it (a row of zeros
// above the first and below the last) into `d`, one 8-channel slice at a time with its 9 taps
// in registers; then the pointwise product, the residual and the (P)ReLU, P pixels at a time.
template <int C, bool PRELU>
__attribute__((target("avx2,fma"))) void block_row(const float* const rows[3], const float* __restrict residual,
                                                   float* __restrict out, int width, const Packed& w,
                                                   float* __restrict d) {
  if constexpr (C == 24) {
    if (!w.pairs.dw.empty()) return block_row_pairs24(rows, residual, out, width, w.pairs, d);
  } else if constexpr (C % 16 == 0) {
    if (avx512_kernels_on())
      return block_row_16_lanes(C, rows, residual, out, width, w.dw.data(), w.dw_bias.data(), w.pw.data(),
                                w.pw_bias.data(), w.slope.empty() ? nullptr : w.slope.data(), d);
  }
  constexpr int V = C / 8;
  // Output vectors per pass over the input channels (VB) and pixels per step (P): P x VB
  // accumulators fit in registers, and each weight vector loaded serves P pixels; over 48
  // channels the outputs go in slices, so that a slice's weights stay in L1 (96 x 96 floats
  // are 36 KB: as one slice, one pixel at a time, the block ran 1.18x LibTorch's time).
  // C 16 -> 4 px x 2 vectors, 24 -> 3 x 3, 32 -> 2 x 4, 48 -> 2 x 6, 64 -> 2 x 4 twice,
  // 96 -> 2 x 6 twice, 128 -> 2 x 4 four times.
  constexpr int VB = V <= 6 ? V : V % 6 == 0 ? 6 : 4;
  constexpr int P = VB == 2 ? 4 : VB == 3 ? 3 : 2;
  static_assert(V % VB == 0, "output vectors in whole passes");
  const float* __restrict dw = w.dw.data();
  const float* __restrict r0 = rows[0];
  const float* __restrict r1 = rows[1];
  const float* __restrict r2 = rows[2];
  for (int v = 0; v < V; ++v) {
    __m256 tap[9];
#pragma GCC unroll 9
    for (int t = 0; t < 9; ++t) tap[t] = _mm256_loadu_ps(dw + t * C + 8 * v);
    const __m256 bias = _mm256_loadu_ps(w.dw_bias.data() + 8 * v);
    _mm256_storeu_ps(d + 8 * v, depthwise_edge<C>(rows, width, 0, v, tap, bias));
    // Inside the row, four pixels at a time: four independent chains of nine multiply-adds
    // (one chain alone waits on each add's latency). `o` is the left neighbour's offset.
    int px = 1;
    for (; px + 4 <= width - 1; px += 4) {
      const int o = (px - 1) * C + 8 * v;
      __m256 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
      for (int t = 0; t < 9; ++t) {
        const float* row = t < 3 ? r0 : t < 6 ? r1 : r2;
        const int off = o + (t % 3) * C;
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + off), tap[t], a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + off + C), tap[t], a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(row + off + 2 * C), tap[t], a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(row + off + 3 * C), tap[t], a3);
      }
      _mm256_storeu_ps(d + o + C, a0);
      _mm256_storeu_ps(d + o + 2 * C, a1);
      _mm256_storeu_ps(d + o + 3 * C, a2);
      _mm256_storeu_ps(d + o + 4 * C, a3);
    }
    for (; px < width - 1; ++px) {
      const int o = (px - 1) * C + 8 * v;
      __m256 acc = bias;
      for (int t = 0; t < 9; ++t)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps((t < 3 ? r0 : t < 6 ? r1 : r2) + o + (t % 3) * C), tap[t], acc);
      _mm256_storeu_ps(d + o + C, acc);
    }
    if (width > 1) _mm256_storeu_ps(d + (width - 1) * C + 8 * v, depthwise_edge<C>(rows, width, width - 1, v, tap, bias));
  }
  const float* __restrict pw = w.pw.data();
  const float* __restrict pb = w.pw_bias.data();
  const float* __restrict slope = w.slope.data();
  int px = 0;
  for (; px + P <= width; px += P)
    for (int v0 = 0; v0 < V; v0 += VB) pointwise<C, C, P, VB, PRELU>(d, residual, out, px, pw, pb, slope, v0);
  for (; px < width; ++px)
    for (int v0 = 0; v0 < V; v0 += VB) pointwise<C, C, 1, VB, PRELU>(d, residual, out, px, pw, pb, slope, v0);
}

template <int C, bool PRELU>
void run_kernel(const at::Tensor& x, at::Tensor& out, const Packed& w) {
  const int64_t n = x.size(0), h = x.size(2), width = x.size(3);
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t row = width * C, image = h * row;
  // Rows in chunks; each chunk has its depthwise row, and a row of zeros for the padding above
  // the first row and below the last. The input rows are read where they are (a padded copy
  // of each cost a pass over memory: 190 MB of copies at a 704x1216 detector input).
  parallel_claimed(n * h, 4, [&](ChunkLane& chunks) {
    struct Site;
    const float* zeros = thread_buffer<Site>(0, row, true);
    float* d = thread_buffer<Site>(1, row + C, true);  // the depthwise row (+ C: the pair kernel's odd pixel)
    for (int64_t begin, end; chunks.claim(begin, end);)
      for (int64_t r = begin; r < end; ++r) {
        const int64_t img = r / h, y = r % h;
        const float* at = src + img * image + y * row;
        const float* rows[3] = {y > 0 ? at - row : zeros, at, y + 1 < h ? at + row : zeros};
        block_row<C, PRELU>(rows, at, dst + img * image + y * row, static_cast<int>(width), w, d);
      }
  });
}

// K blocks in a row, one band of output rows per task: each block's rows live in a ring of
// three (the rows the next block reads around the one it makes), so the intermediate tensors
// (20 MB each at a 704x1216 detector input) never go to memory. Block k's row r is made when
// block k-1's row r+1 is; a band recomputes the rows its neighbours also need (K-k rows of
// block k on each inner edge). The arithmetic of each row is block_row's: the same result as
// K calls of the one-block kernel.
// BlazeFace's stride-2 block: relu(pointwise(depthwise(x)) + maxpool(x)), the depthwise
// convolution 3x3 at stride 2 over rows 2r..2r+2 and columns 2c..2c+2 (TensorFlow's "same"
// padding: a zero row and column after the last), the max over the 2x2 cell (2r, 2c), its
// channels padded with zeros to the output's.
struct PackedS2 {
  AlignedVector<float> dw, dw_bias, pw, pw_bias;  // taps [9][CIN], pointwise [CIN][COUT]
  AlignedVector<float> slope;                     // the PReLU's [COUT] (empty: ReLU)
};

PackedS2 pack_s2(int64_t cin, int64_t cout, const at::Tensor& dw_weight, const c10::optional<at::Tensor>& dw_bias,
                 const at::Tensor& pw_weight, const c10::optional<at::Tensor>& pw_bias,
                 const c10::optional<at::Tensor>& slope) {
  PackedS2 p;
  if (slope && slope->defined()) {
    const at::Tensor sl = slope->contiguous();
    p.slope.resize(cout);
    for (int64_t ch = 0; ch < cout; ++ch) p.slope[ch] = sl.data_ptr<float>()[sl.numel() == 1 ? 0 : ch];
  }
  const at::Tensor dw = dw_weight.contiguous(), pw = pw_weight.contiguous();
  const float* d = dw.data_ptr<float>();  // [CIN][1][4][4], row 0 and column 0 zero
  const float* w = pw.data_ptr<float>();  // [COUT][CIN]
  p.dw.resize(9 * cin);
  for (int64_t ch = 0; ch < cin; ++ch)
    for (int t = 0; t < 9; ++t) p.dw[t * cin + ch] = d[ch * 16 + (1 + t / 3) * 4 + 1 + t % 3];
  p.pw.resize(cin * cout);
  for (int64_t out = 0; out < cout; ++out)
    for (int64_t in = 0; in < cin; ++in) p.pw[in * cout + out] = w[out * cin + in];
  p.dw_bias.assign(cin, 0.f);
  p.pw_bias.assign(cout, 0.f);
  if (dw_bias && dw_bias->defined()) std::memcpy(p.dw_bias.data(), dw_bias->contiguous().data_ptr<float>(), cin * sizeof(float));
  if (pw_bias && pw_bias->defined()) std::memcpy(p.pw_bias.data(), pw_bias->contiguous().data_ptr<float>(), cout * sizeof(float));
  return p;
}

// Output row r from input rows 2r, 2r + 1, 2r + 2 (`rows`; zeros past the last): the depthwise
// row into `d`, the pooled (and padded) row into `pooled`, then the pointwise product, the
// addition and the ReLU into `out`.
template <int CIN, int COUT, bool PRELU>
__attribute__((target("avx2,fma"))) void block_s2_row(const float* const rows[3], int in_width, int out_width,
                                                      const PackedS2& w, float* __restrict d,
                                                      float* __restrict pooled, float* __restrict out) {
  constexpr int VI = CIN / 8, V = COUT / 8;
  const float* __restrict r0 = rows[0];
  const float* __restrict r1 = rows[1];
  const float* __restrict r2 = rows[2];
  // Columns whose taps all lie inside the row (2c + 2 < in_width).
  const int inside = std::min(out_width, std::max(0, (in_width - 1) / 2));
  for (int v = 0; v < VI; ++v) {
    __m256 tap[9];
#pragma GCC unroll 9
    for (int t = 0; t < 9; ++t) tap[t] = _mm256_loadu_ps(w.dw.data() + t * CIN + 8 * v);
    const __m256 bias = _mm256_loadu_ps(w.dw_bias.data() + 8 * v);
    int c = 0;
    for (; c + 2 <= inside; c += 2) {  // two independent chains of nine multiply-adds
      const int o = 2 * c * CIN + 8 * v;
      __m256 a0 = bias, a1 = bias;
#pragma GCC unroll 9
      for (int t = 0; t < 9; ++t) {
        const float* row = t < 3 ? r0 : t < 6 ? r1 : r2;
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + o + (t % 3) * CIN), tap[t], a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + o + (2 + t % 3) * CIN), tap[t], a1);
      }
      _mm256_storeu_ps(d + c * CIN + 8 * v, a0);
      _mm256_storeu_ps(d + (c + 1) * CIN + 8 * v, a1);
    }
    for (; c < out_width; ++c) {
      __m256 acc = bias;
      for (int t = 0; t < 9; ++t) {
        const int x = 2 * c + t % 3;
        if (x < in_width) acc = _mm256_fmadd_ps(_mm256_loadu_ps((t < 3 ? r0 : t < 6 ? r1 : r2) + x * CIN + 8 * v), tap[t], acc);
      }
      _mm256_storeu_ps(d + c * CIN + 8 * v, acc);
    }
    for (c = 0; c < out_width; ++c) {
      const int o = 2 * c * CIN + 8 * v;
      const __m256 top = _mm256_max_ps(_mm256_loadu_ps(r0 + o), _mm256_loadu_ps(r0 + o + CIN));
      const __m256 bottom = _mm256_max_ps(_mm256_loadu_ps(r1 + o), _mm256_loadu_ps(r1 + o + CIN));
      _mm256_storeu_ps(pooled + c * COUT + 8 * v, _mm256_max_ps(top, bottom));
    }
  }
  if constexpr (COUT > CIN)
    for (int c = 0; c < out_width; ++c)
      for (int v = VI; v < V; ++v) _mm256_storeu_ps(pooled + c * COUT + 8 * v, _mm256_setzero_ps());
  constexpr int VB = V <= 6 ? V : V % 6 == 0 ? 6 : 4;
  constexpr int P = VB == 2 ? 4 : VB == 3 ? 3 : 2;
  int px = 0;
  for (; px + P <= out_width; px += P)
    for (int v0 = 0; v0 < V; v0 += VB)
      pointwise<CIN, COUT, P, VB, PRELU>(d, pooled, out, px, w.pw.data(), w.pw_bias.data(), w.slope.data(), v0);
  for (; px < out_width; ++px)
    for (int v0 = 0; v0 < V; v0 += VB)
      pointwise<CIN, COUT, 1, VB, PRELU>(d, pooled, out, px, w.pw.data(), w.pw_bias.data(), w.slope.data(), v0);
}

template <int CIN, int COUT, bool PRELU>
void run_s2(const at::Tensor& x, at::Tensor& out, const PackedS2& w) {
  const int64_t n = x.size(0), h = x.size(2), width = x.size(3), oh = out.size(2), ow = out.size(3);
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t row = width * CIN, image = h * row, out_row = ow * COUT;
  parallel_claimed(n * oh, 4, [&](ChunkLane& chunks) {
    struct Site;
    const float* zeros = thread_buffer<Site>(0, row, true);
    float* d = thread_buffer<Site>(1, ow * CIN, true);
    float* pooled = thread_buffer<Site>(2, out_row, true);
    for (int64_t begin, end; chunks.claim(begin, end);)
      for (int64_t r = begin; r < end; ++r) {
        const int64_t img = r / oh, y = 2 * (r % oh);
        const float* at = src + img * image + y * row;
        const float* rows[3] = {at, at + row, y + 2 < h ? at + 2 * row : zeros};
        block_s2_row<CIN, COUT, PRELU>(rows, static_cast<int>(width), static_cast<int>(ow), w, d, pooled,
                                       dst + r * out_row);
      }
  });
}

// The first block's input where it is made row by row (blaze_blocks_after_input_conv): the
// image and the convolution that makes each row.
struct Producer {
  const InputConvRows* conv = nullptr;
  const float* image = nullptr;  // [N][height][width][3]
  int height = 0, width = 0;
};

// The output rows of one image that neither end of a chain has claimed: [first, last) as
// first << 32 | last.
class UnclaimedRows {
 public:
  explicit UnclaimedRows(int64_t h) : rows_(static_cast<uint64_t>(h)) {}
  /// Claims the next row from the top (`down`) or from the bottom; false once none is left.
  bool claim(bool down) {
    uint64_t now = rows_.load();
    while ((now >> 32) < (now & 0xffffffffu))
      if (rows_.compare_exchange_weak(now, down ? now + (uint64_t{1} << 32) : now - 1)) return true;
    return false;
  }
  bool none() const {
    const uint64_t now = rows_.load();
    return (now >> 32) >= (now & 0xffffffffu);
  }

 private:
  std::atomic<uint64_t> rows_;
};

// The chain of one image on two threads, one from the top row down, the other from the bottom
// up, each claiming the output row it is about to make until they meet: neither waits for the
// other at the end, as one of two fixed bands did (scratch timers: 1.5 ms of a 1024 px
// headshot's ~10 in the chain), and the rows made twice where they meet are as many as at two
// bands' edge. Calls alternating with the two bands in one process: the headshot 0.98-0.99x
// as long, the 1920x1080 group photo at min_face 20 0.95-0.99x (medians of 100-120 pairs).
// A block's rows depend on the rows around them alone, so either order makes the same floats.
template <int C, bool PRELU>
void run_chain_from_both_ends(const at::Tensor& x, at::Tensor& out, const std::vector<Packed>& w,
                              const Producer& producer) {
  const int64_t h = out.size(2), width = out.size(3), k_blocks = static_cast<int64_t>(w.size());
  const float* in = producer.conv ? nullptr : x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t row = width * C, slot_stride = line_stride(row);
  UnclaimedRows unclaimed(h);
  auto sweep = [&](bool down) {
    if (unclaimed.none()) return;  // the other side made them all
    struct Site;
    const float* zeros = thread_buffer<Site>(0, row, true);
    float* d = thread_buffer<Site>(1, row + C, true);
    float* rings = thread_buffer<Site>(2, static_cast<size_t>(k_blocks) * 3 * slot_stride, true);
    auto slot = [&](int64_t k, int64_t r) { return rings + (k * 3 + r % 3) * slot_stride; };
    auto row_of = [&](int64_t k, int64_t r) -> const float* {
      if (r < 0 || r >= h) return zeros;
      if (k == 0 && !producer.conv) return in + r * row;
      return slot(k, r);
    };
    // The i-th row from this side's end.
    auto nth = [&](int64_t i) { return down ? i : h - 1 - i; };
    // Step t makes the input's t-th row and block k's (t - k)-th, which reads the rows around it
    // of block k - 1, made in this step or before.
    for (int64_t t = 0; t < h + k_blocks; ++t) {
      if (producer.conv && t < h)
        producer.conv->row(producer.image, producer.height, producer.width, static_cast<int>(nth(t)), slot(0, nth(t)));
      for (int64_t k = 1; k <= k_blocks; ++k) {
        if (t - k < 0 || t - k >= h) continue;
        const int64_t r = nth(t - k);
        if (k == k_blocks && !unclaimed.claim(down)) return;
        const float* rows[3] = {row_of(k - 1, r - 1), row_of(k - 1, r), row_of(k - 1, r + 1)};
        float* o = k == k_blocks ? dst + r * row : slot(k, r);
        block_row<C, PRELU>(rows, rows[1], o, static_cast<int>(width), w[k - 1], d);
      }
    }
  };
  at::parallel_for(0, 2, 1, [&](int64_t begin, int64_t end) {
    for (int64_t side = begin; side < end; ++side) sweep(side == 0);
  });
}

// From this width to that, an AVX-512 24-channel ReLU chain from both ends runs on planar rows
// (block_row_planar24): in cache one block row took 13.7-15.6 against the pair kernel's
// 17.5-18.0 ns a pixel at widths 176-384, the rows' turn to planar and back 6-7 ns a pixel a
// chain; at 120 pixels (a 6 + 2 vector tiling) 17.7 against 18.0. BlazeFace at 1024x384 (a
// headshot's strips, 192 wide) and 480x640 (320) ran faster or within the noise, at 1088x1920
// (960 wide, the rings past L2) 1.07x as long (medians of four alternating runs, noisy).
constexpr int64_t kPlanarMinWidth = 160, kPlanarMaxWidth = 512;

bool planar_chain(int64_t width, const std::vector<Packed>& w) {
  return width >= kPlanarMinWidth && width <= kPlanarMaxWidth && !w.empty() && !w[0].pairs.dw.empty() &&
         w[0].slope.empty();
}

// run_chain_from_both_ends on planar rows: each input row turned planar as it is made or read,
// the last block's rows back to channels-last as they are stored. The same floats.
void run_planar_chain_from_both_ends(const at::Tensor& x, at::Tensor& out, const std::vector<Packed>& w,
                                     const Producer& producer) {
  constexpr int C = 24;
  const int64_t h = out.size(2), width = out.size(3), k_blocks = static_cast<int64_t>(w.size());
  const float* in = producer.conv ? nullptr : x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t row = width * C, planar = C * static_cast<int64_t>(planar_stride(static_cast<int>(width)));
  UnclaimedRows unclaimed(h);
  auto sweep = [&](bool down) {
    if (unclaimed.none()) return;
    // Zero-initialised: the planar rows' padding stays zero.
    struct Site;
    const float* zeros = thread_buffer<Site>(0, planar, true);
    float* last = thread_buffer<Site>(1, planar, true);
    float* scratch = thread_buffer<Site>(2, planar_scratch_floats(), true);
    float* rings = thread_buffer<Site>(3, static_cast<size_t>(k_blocks) * 3 * planar, true);
    float* made = thread_buffer<Site>(4, line_stride(row) + 64, true);
    // The first convolution's rows made planar where it can, not turned from channels-last:
    // the convolution and its turn took 0.82-0.91x as long (BlazeFace at 1024x384,
    // blaze_blocks_after_input_conv 10.5, 10.0, 8.7, 7.5 -> 8.9, 8.4, 7.1, 6.8 ms, four
    // alternating pairs of facekit_bench_models with FACEKIT_BENCH_OPS=1).
    const bool planar_conv = producer.conv && producer.conv->makes_planar_rows();
    float* planes =
        thread_buffer<Site>(5, planar_conv ? InputConvRows::planar_row_scratch_floats(producer.width) : 0, true);
    auto slot = [&](int64_t k, int64_t r) { return rings + (k * 3 + r % 3) * planar; };
    auto row_of = [&](int64_t k, int64_t r) -> const float* { return r < 0 || r >= h ? zeros : slot(k, r); };
    auto nth = [&](int64_t i) { return down ? i : h - 1 - i; };
    for (int64_t t = 0; t < h + k_blocks; ++t) {
      if (t < h) {
        const int64_t r = nth(t);
        if (planar_conv) {
          producer.conv->planar_row(producer.image, producer.height, producer.width, static_cast<int>(r), slot(0, r),
                                    planes);
        } else if (producer.conv) {
          producer.conv->row(producer.image, producer.height, producer.width, static_cast<int>(r), made);
          to_planar24(made, static_cast<int>(width), slot(0, r));
        } else {
          to_planar24(in + r * row, static_cast<int>(width), slot(0, r));
        }
      }
      for (int64_t k = 1; k <= k_blocks; ++k) {
        if (t - k < 0 || t - k >= h) continue;
        const int64_t r = nth(t - k);
        if (k == k_blocks && !unclaimed.claim(down)) return;
        const float* rows[3] = {row_of(k - 1, r - 1), row_of(k - 1, r), row_of(k - 1, r + 1)};
        const Packed& b = w[k - 1];
        block_row_planar24(rows, rows[1], k == k_blocks ? last : slot(k, r), static_cast<int>(width), b.dw.data(),
                           b.dw_bias.data(), b.pw.data(), b.pw_bias.data(), scratch);
        if (k == k_blocks) from_planar24(last, static_cast<int>(width), dst + r * row);
      }
    }
  };
  at::parallel_for(0, 2, 1, [&](int64_t begin, int64_t end) {
    for (int64_t side = begin; side < end; ++side) sweep(side == 0);
  });
}

template <int C, bool PRELU>
void run_chain(const at::Tensor& x, at::Tensor& out, const std::vector<Packed>& w, int64_t bands,
               const Producer& producer = {}) {
  const int64_t n = out.size(0), h = out.size(2), width = out.size(3), k_blocks = static_cast<int64_t>(w.size());
  const float* src = producer.conv ? nullptr : x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t row = width * C, image = h * row;
  const int64_t slot_stride = line_stride(row);  // each ring row on a cache line
  const int64_t image_in = static_cast<int64_t>(producer.height) * producer.width * 3;
  if (n == 1 && bands == 2) {
    if (C == 24 && !PRELU && planar_chain(width, w))
      run_planar_chain_from_both_ends(x, out, w, producer);
    else
      run_chain_from_both_ends<C, PRELU>(x, out, w, producer);
    return;
  }
  at::parallel_for(0, n * bands, 1, [&](int64_t begin, int64_t end) {
    struct Site;
    const float* zeros = thread_buffer<Site>(0, row, true);
    float* d = thread_buffer<Site>(1, row + C, true);
    float* rings = thread_buffer<Site>(2, static_cast<size_t>(k_blocks) * 3 * slot_stride, true);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t img = task / bands, band = task % bands;
      const int64_t y0 = h * band / bands, y1 = h * (band + 1) / bands;
      // Rows block k (1-based; 0 is the input) makes: its band and the halo the blocks after it read.
      auto lo = [&](int64_t k) { return std::max<int64_t>(0, y0 - (k_blocks - k)); };
      auto hi = [&](int64_t k) { return std::min<int64_t>(h, y1 + (k_blocks - k)); };
      const float* in = producer.conv ? nullptr : src + img * image;
      // Block k's row r (the input for k = 0: in memory, or in a ring as the producer makes it).
      auto slot = [&](int64_t k, int64_t r) { return rings + (k * 3 + r % 3) * slot_stride; };
      auto row_of = [&](int64_t k, int64_t r) -> const float* {
        if (r < 0 || r >= h) return zeros;
        if (k == 0 && !producer.conv) return in + r * row;
        return slot(k, r);
      };
      // Step t makes the input's row t and block k's row t - k, which reads the rows around it
      // of block k - 1, made in this step or before.
      for (int64_t t = lo(0); t < hi(k_blocks) + k_blocks; ++t) {
        if (producer.conv && t < hi(0))
          producer.conv->row(producer.image + img * image_in, producer.height, producer.width, static_cast<int>(t),
                             slot(0, t));
        for (int64_t k = 1; k <= k_blocks; ++k) {
          const int64_t r = t - k;
          if (r < lo(k) || r >= hi(k)) continue;
          const float* rows[3] = {row_of(k - 1, r - 1), row_of(k - 1, r), row_of(k - 1, r + 1)};
          float* o = k == k_blocks ? dst + img * image + r * row : slot(k, r);
          block_row<C, PRELU>(rows, rows[1], o, static_cast<int>(width), w[k - 1], d);
        }
      }
    }
  });
}

}  // namespace

at::Tensor blaze_block_reference(const at::Tensor& x, const at::Tensor& dw_weight,
                                 const c10::optional<at::Tensor>& dw_bias, const at::Tensor& pw_weight,
                                 const c10::optional<at::Tensor>& pw_bias, const c10::optional<at::Tensor>& slope) {
  const at::Tensor d = at::conv2d(x, dw_weight, dw_bias, {1, 1}, {1, 1}, {1, 1}, dw_weight.size(0));
  at::Tensor r = at::conv2d(d, pw_weight, pw_bias);
  if (slope && slope->defined()) return at::prelu(r.add_(x), *slope);
  return at::_add_relu_(r, x);
}

bool blaze_block_has_kernel(const at::Tensor& x, const at::Tensor& dw_weight, const at::Tensor& pw_weight,
                            const c10::optional<at::Tensor>& slope) {
  if (!cpu::has_avx2_fma() || x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != at::kFloat) return false;
  const int64_t c = x.size(1);
  if (c != 16 && c != 24 && c != 32 && c != 48 && c != 64 && c != 96 && c != 128) return false;
  if (slope && slope->defined() &&
      (slope->scalar_type() != at::kFloat || slope->dim() != 1 || (slope->numel() != 1 && slope->numel() != c)))
    return false;
  return dw_weight.scalar_type() == at::kFloat && pw_weight.scalar_type() == at::kFloat &&
         dw_weight.sizes() == at::IntArrayRef({c, 1, 3, 3}) && pw_weight.sizes() == at::IntArrayRef({c, c, 1, 1});
}

namespace {
template <bool PRELU>
void run_for_channels(const at::Tensor& in, at::Tensor& out, const Packed& w) {
  switch (in.size(1)) {
    case 16: run_kernel<16, PRELU>(in, out, w); break;
    case 24: run_kernel<24, PRELU>(in, out, w); break;
    case 32: run_kernel<32, PRELU>(in, out, w); break;
    case 48: run_kernel<48, PRELU>(in, out, w); break;
    case 64: run_kernel<64, PRELU>(in, out, w); break;
    case 96: run_kernel<96, PRELU>(in, out, w); break;
    default: run_kernel<128, PRELU>(in, out, w); break;
  }
}
}  // namespace

at::Tensor blaze_block(const at::Tensor& x, const at::Tensor& dw_weight, const c10::optional<at::Tensor>& dw_bias,
                       const at::Tensor& pw_weight, const c10::optional<at::Tensor>& pw_bias,
                       const c10::optional<at::Tensor>& slope) {
  // From 96 channels on, oneDNN's convolutions beat the AVX2 kernel once the block's tensors
  // fit in cache: 96 x 44 x 76 ran 1.14-1.27x as long in it, 96 x 40 x 30 and 64 x 24 (a
  // 640x480 photo's and a headshot's finest pass) 0.9-1.24x, 96 x 22 x 38 0.81x
  // (facekit_bench_blaze_block). The AVX-512 kernel pays at every size: 0.59-0.80x at those
  // four (BlazeFace's three 96-channel blocks at 68 x 120, a 1088x1920 input, 7.1 ms against
  // oneDNN's 9.3). The choice stays the same on both paths, so that a detection does not depend
  // on the CPU (oneDNN sums in another order): up to 2048 pixels, where the AVX2 kernel loses
  // a little and the AVX-512 one gains a fifth or more.
  const bool kernel_pays = x.dim() == 4 && (x.size(1) < 96 || x.size(2) * x.size(3) <= kKernelMaxPixelsFrom96);
  // Biases the kernel reads as C floats (the schema lets a caller pass others).
  const auto takes_bias = [&](const c10::optional<at::Tensor>& b) {
    return !b || !b->defined() || (b->scalar_type() == at::kFloat && x.dim() == 4 && b->numel() == x.size(1));
  };
  if (!kernel_pays || !takes_bias(dw_bias) || !takes_bias(pw_bias) ||
      !blaze_block_has_kernel(x, dw_weight, pw_weight, slope))
    return blaze_block_reference(x, dw_weight, dw_bias, pw_weight, pw_bias, slope);
  const at::Tensor in = x.contiguous(at::MemoryFormat::ChannelsLast);
  at::Tensor out = at::empty(in.sizes(), in.options().memory_format(at::MemoryFormat::ChannelsLast));
  const std::shared_ptr<const Packed> w = packed(in.size(1), dw_weight, dw_bias, pw_weight, pw_bias, slope);
  if (w->slope.empty())
    run_for_channels<false>(in, out, *w);
  else
    run_for_channels<true>(in, out, *w);
  return out;
}

namespace {
template <bool PRELU>
void run_chain_for_channels(const at::Tensor& in, at::Tensor& out, const std::vector<Packed>& w, int64_t bands,
                            const Producer& producer = {}) {
  switch (out.size(1)) {
    case 16: run_chain<16, PRELU>(in, out, w, bands, producer); break;
    case 24: run_chain<24, PRELU>(in, out, w, bands, producer); break;
    case 32: run_chain<32, PRELU>(in, out, w, bands, producer); break;
    case 48: run_chain<48, PRELU>(in, out, w, bands, producer); break;
    case 64: run_chain<64, PRELU>(in, out, w, bands, producer); break;
    case 96: run_chain<96, PRELU>(in, out, w, bands, producer); break;
    default: run_chain<128, PRELU>(in, out, w, bands, producer); break;
  }
}
}  // namespace

namespace {

// Whether K blocks run as one chain on a block input of n x c x h x w (float32, CPU): where a
// block's tensor leaves the cache (smaller maps run block by block) and the kernel takes every
// block, all ReLU or all PReLU.
bool chain_runs(int64_t n, int64_t c, int64_t h, int64_t w, int64_t min_bytes, at::TensorList dw_weights,
                const c10::List<c10::optional<at::Tensor>>& dw_biases, at::TensorList pw_weights,
                const c10::List<c10::optional<at::Tensor>>& pw_biases,
                const c10::List<c10::optional<at::Tensor>>& slopes) {
  if (c >= 96 || n * c * h * w * static_cast<int64_t>(sizeof(float)) < min_bytes) return false;
  const auto takes_bias = [&](const c10::optional<at::Tensor>& b) {
    return !b || !b->defined() || (b->scalar_type() == at::kFloat && b->numel() == c);
  };
  const at::Tensor probe = at::empty({1, c, 1, 1});  // the kernel's checks read the channels alone
  const bool prelu = slopes[0].has_value() && slopes[0]->defined();
  for (size_t i = 0; i < dw_weights.size(); ++i) {
    const c10::optional<at::Tensor> slope = slopes[i];
    if ((slope.has_value() && slope->defined()) != prelu || !takes_bias(dw_biases[i]) || !takes_bias(pw_biases[i]) ||
        !blaze_block_has_kernel(probe, dw_weights[i], pw_weights[i], slope))
      return false;
  }
  return true;
}

void check_blocks(at::TensorList dw_weights, const c10::List<c10::optional<at::Tensor>>& dw_biases,
                  at::TensorList pw_weights, const c10::List<c10::optional<at::Tensor>>& pw_biases,
                  const c10::List<c10::optional<at::Tensor>>& slopes) {
  const size_t k = dw_weights.size();
  TORCH_CHECK(k >= 1 && pw_weights.size() == k && dw_biases.size() == k && pw_biases.size() == k && slopes.size() == k,
              "blaze_blocks: one depthwise and pointwise weight, bias and slope per block");
}

// The chain into `out` (n x c x h x w, channels-last) from `in` or, with a producer, from the
// rows it makes.
void run_chain_into(const at::Tensor& in, at::Tensor& out, at::TensorList dw_weights,
                    const c10::List<c10::optional<at::Tensor>>& dw_biases, at::TensorList pw_weights,
                    const c10::List<c10::optional<at::Tensor>>& pw_biases,
                    const c10::List<c10::optional<at::Tensor>>& slopes, const Producer& producer) {
  const size_t k = dw_weights.size();
  static WeightCache<std::vector<Packed>> cache;
  std::vector<at::Tensor> weights;
  for (size_t i = 0; i < k; ++i)
    for (const at::Tensor& t : {dw_weights[i], or_undefined(dw_biases[i]), pw_weights[i], or_undefined(pw_biases[i]),
                                or_undefined(slopes[i])})
      weights.push_back(t);
  const std::shared_ptr<const std::vector<Packed>> w = cache.get(weights, avx512_kernels_on(), [&] {
    std::vector<Packed> all;
    for (size_t i = 0; i < k; ++i)
      all.push_back(pack(out.size(1), dw_weights[i], dw_biases[i], pw_weights[i], pw_biases[i], slopes[i]));
    return all;
  });
  // One band per thread, each at least a few rows per block (a band recomputes up to k rows of
  // each block at its inner edges).
  const int64_t bands = from_both_ends(out.size(0), out.size(2))
                            ? 2
                            : std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(),
                                                                     out.size(2) / (4 * static_cast<int64_t>(k))));
  if (slopes[0].has_value() && slopes[0]->defined())
    run_chain_for_channels<true>(in, out, *w, bands, producer);
  else
    run_chain_for_channels<false>(in, out, *w, bands, producer);
}

}  // namespace

at::Tensor blaze_blocks(const at::Tensor& x, at::TensorList dw_weights,
                        const c10::List<c10::optional<at::Tensor>>& dw_biases, at::TensorList pw_weights,
                        const c10::List<c10::optional<at::Tensor>>& pw_biases,
                        const c10::List<c10::optional<at::Tensor>>& slopes) {
  check_blocks(dw_weights, dw_biases, pw_weights, pw_biases, slopes);
  if (x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != at::kFloat ||
      !chain_runs(x.size(0), x.size(1), x.size(2), x.size(3),
                  from_both_ends(x.size(0), x.size(2)) ? kBothEndsMinBytes : kChainMinBytes, dw_weights, dw_biases,
                  pw_weights, pw_biases, slopes)) {
    at::Tensor y = x;
    for (size_t i = 0; i < dw_weights.size(); ++i)
      y = blaze_block(y, dw_weights[i], dw_biases[i], pw_weights[i], pw_biases[i], slopes[i]);
    return y;
  }
  const at::Tensor in = x.contiguous(at::MemoryFormat::ChannelsLast);
  at::Tensor out = at::empty(in.sizes(), in.options().memory_format(at::MemoryFormat::ChannelsLast));
  run_chain_into(in, out, dw_weights, dw_biases, pw_weights, pw_biases, slopes, {});
  return out;
}

at::Tensor blaze_blocks_after_input_conv(const at::Tensor& image, const at::Tensor& conv_weight,
                                         const c10::optional<at::Tensor>& conv_bias, at::IntArrayRef stride,
                                         at::IntArrayRef padding, at::TensorList dw_weights,
                                         const c10::List<c10::optional<at::Tensor>>& dw_biases,
                                         at::TensorList pw_weights,
                                         const c10::List<c10::optional<at::Tensor>>& pw_biases,
                                         const c10::List<c10::optional<at::Tensor>>& slopes) {
  check_blocks(dw_weights, dw_biases, pw_weights, pw_biases, slopes);
  if (!input_conv_has_kernel(image, conv_weight, conv_bias, stride, padding))
    return blaze_blocks(input_conv_relu(image, conv_weight, conv_bias, stride, padding), dw_weights, dw_biases,
                        pw_weights, pw_biases, slopes);
  const std::shared_ptr<const InputConvRows> rows = input_conv_rows(conv_weight, conv_bias, stride[0], padding[0]);
  const InputConvRows& conv = *rows;
  const int64_t n = image.size(0), c = conv.channels();
  const int64_t h = conv.out_side(image.size(1)), w = conv.out_side(image.size(2));
  if (!chain_runs(n, c, h, w, kChainAfterConvMinBytes, dw_weights, dw_biases, pw_weights, pw_biases, slopes))
    return blaze_blocks(conv.run(image), dw_weights, dw_biases, pw_weights, pw_biases, slopes);
  const at::Tensor img = image.contiguous();
  at::Tensor out = at::empty({n, c, h, w}, img.options().memory_format(at::MemoryFormat::ChannelsLast));
  const Producer producer{&conv, img.data_ptr<float>(), static_cast<int>(img.size(1)), static_cast<int>(img.size(2))};
  run_chain_into(img, out, dw_weights, dw_biases, pw_weights, pw_biases, slopes, producer);
  return out;
}

at::Tensor blaze_block_s2_reference(const at::Tensor& x, const at::Tensor& dw_weight,
                                    const c10::optional<at::Tensor>& dw_bias, const at::Tensor& pw_weight,
                                    const c10::optional<at::Tensor>& pw_bias, const c10::optional<at::Tensor>& slope) {
  const at::Tensor d = at::conv2d(x, dw_weight, dw_bias, {2, 2}, {1, 1}, {1, 1}, dw_weight.size(0));
  const at::Tensor c = at::conv2d(d, pw_weight, pw_bias);
  at::Tensor pooled = at::max_pool2d(x, {2, 2}, {2, 2});
  if (c.size(1) > x.size(1)) pooled = at::constant_pad_nd(pooled, {0, 0, 0, 0, 0, c.size(1) - x.size(1)});
  if (slope && slope->defined()) return at::prelu(c + pooled, *slope);
  return at::relu(c + pooled);
}

namespace {

// The channel pairs of BlazeFace's (ReLU) and FaceMesh's (PReLU) stride-2 blocks.
bool s2_channels(int64_t cin, int64_t cout) {
  return (cin == 24 && (cout == 24 || cout == 48)) || (cin == 48 && cout == 96) || (cin == 96 && cout == 96) ||
         (cin == 16 && cout == 32) || (cin == 32 && cout == 64) || (cin == 64 && cout == 128) ||
         (cin == 128 && cout == 128);
}

template <bool PRELU>
void run_s2_for_channels(int64_t cin, int64_t cout, const at::Tensor& in, at::Tensor& out, const PackedS2& w) {
  if (cin == 24 && cout == 24) run_s2<24, 24, PRELU>(in, out, w);
  else if (cin == 24) run_s2<24, 48, PRELU>(in, out, w);
  else if (cin == 48) run_s2<48, 96, PRELU>(in, out, w);
  else if (cin == 96) run_s2<96, 96, PRELU>(in, out, w);
  else if (cin == 16) run_s2<16, 32, PRELU>(in, out, w);
  else if (cin == 32) run_s2<32, 64, PRELU>(in, out, w);
  else if (cin == 64) run_s2<64, 128, PRELU>(in, out, w);
  else run_s2<128, 128, PRELU>(in, out, w);
}

}  // namespace

bool blaze_block_s2_has_kernel(const at::Tensor& x, const at::Tensor& dw_weight, const at::Tensor& pw_weight,
                               const c10::optional<at::Tensor>& slope) {
  if (!cpu::has_avx2_fma() || x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != at::kFloat || x.size(2) < 2 ||
      x.size(3) < 2)
    return false;
  const int64_t cin = x.size(1);
  if (dw_weight.scalar_type() != at::kFloat || pw_weight.scalar_type() != at::kFloat ||
      dw_weight.sizes() != at::IntArrayRef({cin, 1, 4, 4}) || pw_weight.dim() != 4 || pw_weight.size(1) != cin ||
      pw_weight.size(2) != 1 || pw_weight.size(3) != 1 || !s2_channels(cin, pw_weight.size(0)))
    return false;
  if (slope && slope->defined() &&
      (slope->scalar_type() != at::kFloat || slope->dim() != 1 || (slope->numel() != 1 && slope->numel() != pw_weight.size(0))))
    return false;
  return is_tf_same_3x3(dw_weight);  // the kernel takes the 3x3 taps
}

at::Tensor blaze_block_s2(const at::Tensor& x, const at::Tensor& dw_weight, const c10::optional<at::Tensor>& dw_bias,
                          const at::Tensor& pw_weight, const c10::optional<at::Tensor>& pw_bias,
                          const c10::optional<at::Tensor>& slope) {
  const auto takes_bias = [](const c10::optional<at::Tensor>& b, int64_t c) {
    return !b || !b->defined() || (b->scalar_type() == at::kFloat && b->numel() == c);
  };
  if (!blaze_block_s2_has_kernel(x, dw_weight, pw_weight, slope) || !takes_bias(dw_bias, x.size(1)) ||
      !takes_bias(pw_bias, pw_weight.size(0)))
    return blaze_block_s2_reference(x, dw_weight, dw_bias, pw_weight, pw_bias, slope);
  const at::Tensor in = x.contiguous(at::MemoryFormat::ChannelsLast);
  const int64_t cin = in.size(1), cout = pw_weight.size(0);
  at::Tensor out = at::empty({in.size(0), cout, in.size(2) / 2, in.size(3) / 2},
                             in.options().memory_format(at::MemoryFormat::ChannelsLast));
  static WeightCache<PackedS2> cache;
  const std::shared_ptr<const PackedS2> w =
      cache.get({dw_weight, or_undefined(dw_bias), pw_weight, or_undefined(pw_bias), or_undefined(slope)}, 0,
                [&] { return pack_s2(cin, cout, dw_weight, dw_bias, pw_weight, pw_bias, slope); });
  if (w->slope.empty())
    run_s2_for_channels<false>(cin, cout, in, out, *w);
  else
    run_s2_for_channels<true>(cin, cout, in, out, *w);
  return out;
}

const char* blaze_block_op() { return "facekit::blaze_block"; }
const char* blaze_blocks_op() { return "facekit::blaze_blocks"; }
const char* blaze_blocks_after_input_conv_op() { return "facekit::blaze_blocks_after_input_conv"; }
const char* blaze_block_s2_op() { return "facekit::blaze_block_s2"; }

TORCH_LIBRARY(facekit, m) {
  m.def("blaze_block(Tensor x, Tensor dw_weight, Tensor? dw_bias, Tensor pw_weight, Tensor? pw_bias, "
        "Tensor? slope) -> Tensor",
        &blaze_block);
  m.def("blaze_blocks(Tensor x, Tensor[] dw_weights, Tensor?[] dw_biases, Tensor[] pw_weights, Tensor?[] pw_biases, "
        "Tensor?[] slopes) -> Tensor",
        &blaze_blocks);
  m.def("blaze_blocks_after_input_conv(Tensor image, Tensor conv_weight, Tensor? conv_bias, int[] stride, "
        "int[] padding, Tensor[] dw_weights, Tensor?[] dw_biases, Tensor[] pw_weights, Tensor?[] pw_biases, "
        "Tensor?[] slopes) -> Tensor",
        &blaze_blocks_after_input_conv);
  m.def("blaze_block_s2(Tensor x, Tensor dw_weight, Tensor? dw_bias, Tensor pw_weight, Tensor? pw_bias, "
        "Tensor? slope) -> Tensor",
        &blaze_block_s2);
}

}  // namespace facekit::models
