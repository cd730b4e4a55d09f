#include "models/blaze_block.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/library.h>

namespace facekit::models {

namespace {

constexpr int64_t kKernelMaxPixelsFrom96 = 1024;
/// blaze_blocks runs a chain as one pass from this size of a block's tensor: seven 24-channel
/// blocks (facekit_bench_blaze_block, engine's malloc settings) took 0.82x as long as one by one
/// at 544x960 (50 MB), 0.87x at 352x608 (20 MB), 0.90x at 272x480 (12.5 MB), but 1.07x at
/// 176x304 (5 MB), which the last-level cache holds between blocks anyway (the chain's rows,
/// ~1 MB a thread, do not fit the 512 KB L2 either).
constexpr int64_t kChainMinBytes = 8 << 20;

bool cpu_has_avx2_fma() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

// The weights as the kernel reads them: depthwise taps [9][C], pointwise [C_in][C_out], biases
// [C] (zeros where the graph has none), and the PReLU's slopes [C] (empty: ReLU).
struct Packed {
  std::vector<float> dw, dw_bias, pw, pw_bias, slope;
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
  return p;
}

// The pointwise product of Q pixels of the depthwise row `d` from pixel px, for the VB output
// vectors from v0 (8 channels each), plus the residual, through the (P)ReLU. At most 12
// accumulators, which stay in registers (the loops over them are unrolled).
template <int C, int Q, int VB, bool PRELU>
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
  const float* dp = d + px * C;
  // Registers: the Q x V accumulators, plus either the V weight vectors of one input channel
  // (C = 16, 24) or the Q broadcast inputs (C >= 32), plus one: at most 16.
  if constexpr (V <= 3) {
    for (int k = 0; k < C; ++k) {
      __m256 wv[V];
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) wv[v] = _mm256_loadu_ps(pw + k * C + 8 * v);
#pragma GCC unroll 16
      for (int p = 0; p < Q; ++p) {
        const __m256 b = _mm256_broadcast_ss(dp + p * C + k);
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) acc[p][v] = _mm256_fmadd_ps(b, wv[v], acc[p][v]);
      }
    }
  } else {
    for (int k = 0; k < C; ++k) {
      __m256 b[Q];
#pragma GCC unroll 16
      for (int p = 0; p < Q; ++p) b[p] = _mm256_broadcast_ss(dp + p * C + k);
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
    for (int v0 = 0; v0 < V; v0 += VB) pointwise<C, P, VB, PRELU>(d, residual, out, px, pw, pb, slope, v0);
  for (; px < width; ++px)
    for (int v0 = 0; v0 < V; v0 += VB) pointwise<C, 1, VB, PRELU>(d, residual, out, px, pw, pb, slope, v0);
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
  at::parallel_for(0, n * h, 4, [&](int64_t begin, int64_t end) {
    std::vector<float> zeros(row, 0.f), d(row);
    for (int64_t r = begin; r < end; ++r) {
      const int64_t img = r / h, y = r % h;
      const float* at = src + img * image + y * row;
      const float* rows[3] = {y > 0 ? at - row : zeros.data(), at, y + 1 < h ? at + row : zeros.data()};
      block_row<C, PRELU>(rows, at, dst + img * image + y * row, static_cast<int>(width), w, d.data());
    }
  });
}

// K blocks in a row, one band of output rows per task: each block's rows live in a ring of
// three (the rows the next block reads around the one it makes), so the intermediate tensors
// (20 MB each at a 704x1216 detector input) never go to memory. Block k's row r is made when
// block k-1's row r+1 is; a band recomputes the rows its neighbours also need (K-k rows of
// block k on each inner edge). The arithmetic of each row is block_row's: the same result as
// K calls of the one-block kernel.
template <int C, bool PRELU>
void run_chain(const at::Tensor& x, at::Tensor& out, const std::vector<Packed>& w, int64_t bands) {
  const int64_t n = x.size(0), h = x.size(2), width = x.size(3), k_blocks = static_cast<int64_t>(w.size());
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t row = width * C, image = h * row;
  at::parallel_for(0, n * bands, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> zeros(row, 0.f), d(row), rings(static_cast<size_t>(k_blocks - 1) * 3 * row);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t img = task / bands, band = task % bands;
      const int64_t y0 = h * band / bands, y1 = h * (band + 1) / bands;
      // Rows block k (1-based; 0 is the input) makes: its band and the halo the blocks after it read.
      auto lo = [&](int64_t k) { return std::max<int64_t>(0, y0 - (k_blocks - k)); };
      auto hi = [&](int64_t k) { return std::min<int64_t>(h, y1 + (k_blocks - k)); };
      const float* in = src + img * image;
      auto row_of = [&](int64_t k, int64_t r) -> const float* {  // block k's row r (input for k = 0)
        if (r < 0 || r >= h) return zeros.data();
        if (k == 0) return in + r * row;
        return rings.data() + ((k - 1) * 3 + r % 3) * row;
      };
      for (int64_t t = lo(1) + 1; t < hi(k_blocks) + k_blocks; ++t)
        for (int64_t k = 1; k <= k_blocks; ++k) {
          const int64_t r = t - k;
          if (r < lo(k) || r >= hi(k)) continue;
          const float* rows[3] = {row_of(k - 1, r - 1), row_of(k - 1, r), row_of(k - 1, r + 1)};
          float* o = k == k_blocks ? dst + img * image + r * row : rings.data() + ((k - 1) * 3 + r % 3) * row;
          block_row<C, PRELU>(rows, rows[1], o, static_cast<int>(width), w[k - 1], d.data());
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
  if (!cpu_has_avx2_fma() || x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != at::kFloat) return false;
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
  // From 96 channels on, oneDNN's convolutions beat the kernel once the block's tensors fit in
  // cache: 96 x 44 x 76 ran 1.27x as long in the kernel, 96 x 22 x 38 0.81x
  // (facekit_bench_blaze_block): the kernel pays there only at small sizes, where it saves
  // two operator calls.
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
  const Packed w = pack(in.size(1), dw_weight, dw_bias, pw_weight, pw_bias, slope);
  if (w.slope.empty())
    run_for_channels<false>(in, out, w);
  else
    run_for_channels<true>(in, out, w);
  return out;
}

namespace {
template <bool PRELU>
void run_chain_for_channels(const at::Tensor& in, at::Tensor& out, const std::vector<Packed>& w, int64_t bands) {
  switch (in.size(1)) {
    case 16: run_chain<16, PRELU>(in, out, w, bands); break;
    case 24: run_chain<24, PRELU>(in, out, w, bands); break;
    case 32: run_chain<32, PRELU>(in, out, w, bands); break;
    case 48: run_chain<48, PRELU>(in, out, w, bands); break;
    case 64: run_chain<64, PRELU>(in, out, w, bands); break;
    case 96: run_chain<96, PRELU>(in, out, w, bands); break;
    default: run_chain<128, PRELU>(in, out, w, bands); break;
  }
}
}  // namespace

at::Tensor blaze_blocks(const at::Tensor& x, at::TensorList dw_weights,
                        const c10::List<c10::optional<at::Tensor>>& dw_biases, at::TensorList pw_weights,
                        const c10::List<c10::optional<at::Tensor>>& pw_biases,
                        const c10::List<c10::optional<at::Tensor>>& slopes) {
  const size_t k = dw_weights.size();
  TORCH_CHECK(k >= 1 && pw_weights.size() == k && dw_biases.size() == k && pw_biases.size() == k && slopes.size() == k,
              "blaze_blocks: one depthwise and pointwise weight, bias and slope per block");
  auto one_by_one = [&] {
    at::Tensor y = x;
    for (size_t i = 0; i < k; ++i) y = blaze_block(y, dw_weights[i], dw_biases[i], pw_weights[i], pw_biases[i], slopes[i]);
    return y;
  };
  // The chain pays where a block's tensor leaves the cache; smaller maps run block by block.
  if (x.dim() != 4 || x.size(1) >= 96 || x.numel() * static_cast<int64_t>(sizeof(float)) < kChainMinBytes)
    return one_by_one();
  const auto takes_bias = [&](const c10::optional<at::Tensor>& b) {
    return !b || !b->defined() || (b->scalar_type() == at::kFloat && b->numel() == x.size(1));
  };
  const bool prelu = slopes[0].has_value() && slopes[0]->defined();
  for (size_t i = 0; i < k; ++i) {
    const c10::optional<at::Tensor> slope = slopes[i];
    if ((slope.has_value() && slope->defined()) != prelu || !takes_bias(dw_biases[i]) || !takes_bias(pw_biases[i]) ||
        !blaze_block_has_kernel(x, dw_weights[i], pw_weights[i], slope))
      return one_by_one();
  }
  const at::Tensor in = x.contiguous(at::MemoryFormat::ChannelsLast);
  at::Tensor out = at::empty(in.sizes(), in.options().memory_format(at::MemoryFormat::ChannelsLast));
  std::vector<Packed> w;
  for (size_t i = 0; i < k; ++i) w.push_back(pack(in.size(1), dw_weights[i], dw_biases[i], pw_weights[i], pw_biases[i], slopes[i]));
  // One band per thread, each at least a few rows per block (a band recomputes up to k rows of
  // each block at its inner edges).
  const int64_t bands = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), in.size(2) / (4 * static_cast<int64_t>(k))));
  if (prelu)
    run_chain_for_channels<true>(in, out, w, bands);
  else
    run_chain_for_channels<false>(in, out, w, bands);
  return out;
}

const char* blaze_block_op() { return "facekit::blaze_block"; }
const char* blaze_blocks_op() { return "facekit::blaze_blocks"; }

TORCH_LIBRARY(facekit, m) {
  m.def("blaze_block(Tensor x, Tensor dw_weight, Tensor? dw_bias, Tensor pw_weight, Tensor? pw_bias, "
        "Tensor? slope) -> Tensor",
        &blaze_block);
  m.def("blaze_blocks(Tensor x, Tensor[] dw_weights, Tensor?[] dw_biases, Tensor[] pw_weights, Tensor?[] pw_biases, "
        "Tensor?[] slopes) -> Tensor",
        &blaze_blocks);
}

}  // namespace facekit::models
