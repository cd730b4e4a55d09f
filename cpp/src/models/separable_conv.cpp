#include "models/separable_conv.h"

#include <ATen/Parallel.h>
#include <immintrin.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "common/claimed_chunks.h"
#include "common/cpu_features.h"
#include "models/separable_conv_avx512.h"
#include "models/tf_same.h"
#include "models/weight_cache.h"

namespace facekit::models {

namespace {

// Output channels one pass of the pointwise kernel makes: 2 vectors of 8, for 6 pixels at a
// time (the 6 x 16 tile of BLIS's Haswell kernel): the 12 accumulators, the slice's two
// weight vectors and one broadcast input fit the 16 registers, and each k costs 2 loads and 6
// broadcasts for 12 multiply-adds.
constexpr int kSlice = 16;
constexpr int kTilePixels = 6;
// The largest kernel side of a global depthwise convolution (padding 0, the kernel as big as
// its input: MobileFaceNet's 7x7 before its embedding) the operator takes.
constexpr int64_t kMaxGlobalSide = 16;
// A task of the pointwise kernel has at least this many multiply-adds (a thread's start and
// join cost a few microseconds; a 7x7 map of 128 -> 256 channels is 1.6 M in all).
constexpr int64_t kMinTaskProducts = 1 << 18;

// A per-channel vector the kernels read as `c` floats: the optional one's values, a single
// value repeated, or zeros.
std::vector<float> per_channel(const c10::optional<at::Tensor>& t, int64_t c) {
  std::vector<float> v(c, 0.f);
  if (!t || !t->defined()) return v;
  const at::Tensor d = t->contiguous();
  const float* p = d.data_ptr<float>();
  for (int64_t i = 0; i < c; ++i) v[i] = p[d.numel() == 1 ? 0 : i];
  return v;
}

bool float_vector(const c10::optional<at::Tensor>& t, int64_t c, bool may_be_one) {
  return !t || !t->defined() ||
         (t->scalar_type() == at::kFloat && t->dim() == 1 && (t->numel() == c || (may_be_one && t->numel() == 1)));
}

// r through the PReLU of `slope`: max(r, 0) + slope * min(r, 0) (r itself where r > 0).
__attribute__((target("avx2,fma"), always_inline)) inline __m256 prelu(__m256 r, __m256 slope) {
  const __m256 zero = _mm256_setzero_ps();
  return _mm256_fmadd_ps(slope, _mm256_min_ps(r, zero), _mm256_max_ps(r, zero));
}

// Q pixels' kSlice output channels: `in` the first pixel's cin inputs (the next ones follow),
// `w` [cin][cout] from the slice's first column, `bias`, `slope` from it, `res` and `out`
// the first pixel's slice (pixels cout floats apart).
template <int Q, bool PRELU, bool RES>
__attribute__((target("avx2,fma"), always_inline)) inline void pointwise_tile(
    const float* __restrict in, int cin, const float* __restrict w, int cout, const float* __restrict bias,
    const float* __restrict slope, const float* __restrict res, float* __restrict out) {
  __m256 acc[Q][2];
  const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
#pragma GCC unroll 6
  for (int p = 0; p < Q; ++p) acc[p][0] = b0, acc[p][1] = b1;
#pragma GCC unroll 4
  for (int k = 0; k < cin; ++k) {
    const __m256 w0 = _mm256_loadu_ps(w + k * cout), w1 = _mm256_loadu_ps(w + k * cout + 8);
#pragma GCC unroll 6
    for (int p = 0; p < Q; ++p) {
      const __m256 b = _mm256_broadcast_ss(in + p * cin + k);
      acc[p][0] = _mm256_fmadd_ps(b, w0, acc[p][0]);
      acc[p][1] = _mm256_fmadd_ps(b, w1, acc[p][1]);
    }
  }
#pragma GCC unroll 6
  for (int p = 0; p < Q; ++p)
#pragma GCC unroll 2
    for (int v = 0; v < 2; ++v) {
      __m256 r = acc[p][v];
      if constexpr (RES) r = _mm256_add_ps(r, _mm256_loadu_ps(res + p * cout + 8 * v));
      if constexpr (PRELU) r = prelu(r, _mm256_loadu_ps(slope + 8 * v));
      _mm256_storeu_ps(out + p * cout + 8 * v, r);
    }
}

// Pixels [begin, end): slice by slice (a slice's weights, cin x 16 floats, stay in L1 while
// the pixels pass), kTilePixels pixels at a time.
template <bool PRELU, bool RES>
__attribute__((target("avx2,fma"))) void pointwise_pixels(const float* in, int cin, const float* w, int cout,
                                                          const float* bias, const float* slope, const float* res,
                                                          float* out, int64_t begin, int64_t end) {
  for (int v0 = 0; v0 < cout; v0 += kSlice) {
    int64_t p = begin;
    for (; p + kTilePixels <= end; p += kTilePixels)
      pointwise_tile<kTilePixels, PRELU, RES>(in + p * cin, cin, w + v0, cout, bias + v0, slope + v0,
                                              RES ? res + p * cout + v0 : nullptr, out + p * cout + v0);
    // The last pixels three, two or one at a time: one at a time reads the weights for every
    // pixel (a 14x14 map split over two threads leaves 2 x 2 pixels).
    if (p + 3 <= end) {
      pointwise_tile<3, PRELU, RES>(in + p * cin, cin, w + v0, cout, bias + v0, slope + v0,
                                    RES ? res + p * cout + v0 : nullptr, out + p * cout + v0);
      p += 3;
    }
    if (p + 2 <= end) {
      pointwise_tile<2, PRELU, RES>(in + p * cin, cin, w + v0, cout, bias + v0, slope + v0,
                                    RES ? res + p * cout + v0 : nullptr, out + p * cout + v0);
      p += 2;
    }
    if (p < end)
      pointwise_tile<1, PRELU, RES>(in + p * cin, cin, w + v0, cout, bias + v0, slope + v0,
                                    RES ? res + p * cout + v0 : nullptr, out + p * cout + v0);
  }
}

template <bool PRELU>
__attribute__((target("avx2,fma"), always_inline)) inline void store_output(float* at, __m256 r, __m256 slope) {
  if constexpr (PRELU) r = prelu(r, slope);
  _mm256_storeu_ps(at, r);
}

// One depthwise output (8 channels from 8 * v) at an edge: taps outside the row or the image
// are the zero padding.
template <int S>
__attribute__((target("avx2,fma"), always_inline)) inline __m256 depthwise_edge(const float* const rows[3], int in_w,
                                                                               int c, int v, const __m256* tap,
                                                                               __m256 acc, int x) {
  for (int ky = 0; ky < 3; ++ky) {
    if (!rows[ky]) continue;
    for (int kx = 0; kx < 3; ++kx) {
      const int ix = S * x + kx - (S == 1 ? 1 : 0);
      if (ix >= 0 && ix < in_w) acc = _mm256_fmadd_ps(_mm256_loadu_ps(rows[ky] + ix * c + 8 * v), tap[ky * 3 + kx], acc);
    }
  }
  return acc;
}

// Output row `y` of the depthwise convolution, 8 channels at a time with their 9 taps in
// registers. Stride 1: input rows y-1, y, y+1 and columns x-1..x+1; stride 2: rows 2y..2y+2
// and columns 2x..2x+2. `rows` are those three input rows, nullptr where outside the image
// (zero padding); taps [9][C].
template <int S, bool PRELU>
__attribute__((target("avx2,fma"))) void depthwise_row(const float* const rows[3], int in_w, int out_w, int c,
                                                       const float* __restrict taps, const float* __restrict bias,
                                                       const float* __restrict slope, float* __restrict out) {
  // Output columns [lo, hi) have their three input columns inside the row.
  const int lo = S == 1 ? 1 : 0;
  const int hi = S == 1 ? in_w - 1 : std::min(out_w, std::max(0, (in_w - 1) / 2));
  // The taps' rows inside the image: [ky0, ky1) (a missing row is the zero padding).
  const int ky0 = rows[0] ? 0 : 1, ky1 = rows[2] ? 3 : 2;
  constexpr int left = S == 1 ? 1 : 0;  // the first tap's column offset
  for (int v = 0; v < c / 8; ++v) {
    __m256 tap[9];
#pragma GCC unroll 9
    for (int t = 0; t < 9; ++t) tap[t] = _mm256_loadu_ps(taps + t * c + 8 * v);
    const __m256 b = _mm256_loadu_ps(bias + 8 * v);
    __m256 sl = _mm256_setzero_ps();
    if constexpr (PRELU) sl = _mm256_loadu_ps(slope + 8 * v);
    float* o = out + 8 * v;
    int x = 0;
    for (; x < std::min(lo, out_w); ++x) store_output<PRELU>(o + x * c, depthwise_edge<S>(rows, in_w, c, v, tap, b, x), sl);
    // Four outputs at a time: four independent chains of multiply-adds.
    for (; x + 4 <= hi; x += 4) {
      __m256 a0 = b, a1 = b, a2 = b, a3 = b;
      for (int ky = ky0; ky < ky1; ++ky) {
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx) {
          const float* r = rows[ky] + (S * x + kx - left) * c + 8 * v;
          const __m256 t = tap[ky * 3 + kx];
          a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r), t, a0);
          a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r + S * c), t, a1);
          a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 2 * S * c), t, a2);
          a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 3 * S * c), t, a3);
        }
      }
      store_output<PRELU>(o + x * c, a0, sl);
      store_output<PRELU>(o + (x + 1) * c, a1, sl);
      store_output<PRELU>(o + (x + 2) * c, a2, sl);
      store_output<PRELU>(o + (x + 3) * c, a3, sl);
    }
    for (; x < hi; ++x) {
      __m256 a = b;
      for (int ky = ky0; ky < ky1; ++ky)
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; ++kx)
          a = _mm256_fmadd_ps(_mm256_loadu_ps(rows[ky] + (S * x + kx - left) * c + 8 * v), tap[ky * 3 + kx], a);
      store_output<PRELU>(o + x * c, a, sl);
    }
    for (; x < out_w; ++x) store_output<PRELU>(o + x * c, depthwise_edge<S>(rows, in_w, c, v, tap, b, x), sl);
  }
}

// A global depthwise convolution's outputs: out[c] = bias[c] + sum over the map of x * w, the
// map channels-last ([taps][C]) and the weights [taps][C]; then the PReLU where `slope`.
__attribute__((target("avx2,fma"))) void global_depthwise(const float* __restrict x, const float* __restrict w,
                                                          int taps, int c, const float* __restrict bias,
                                                          const float* __restrict slope, float* __restrict out) {
  for (int v = 0; v < c / 8; ++v) {
    __m256 acc = _mm256_loadu_ps(bias + 8 * v);
    for (int t = 0; t < taps; ++t)
      acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + t * c + 8 * v), _mm256_loadu_ps(w + t * c + 8 * v), acc);
    if (slope) acc = prelu(acc, _mm256_loadu_ps(slope + 8 * v));
    _mm256_storeu_ps(out + 8 * v, acc);
  }
}

template <int S, bool PRELU>
void depthwise_all(const at::Tensor& in, at::Tensor& out, const std::vector<float>& taps, const std::vector<float>& bias,
                   const std::vector<float>& slope) {
  const int64_t n = in.size(0), c = in.size(1), h = in.size(2), w = in.size(3), oh = out.size(2), ow = out.size(3);
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, ow * c / 8));
  parallel_claimed(n * oh, grain, [&](ChunkLane& chunks) {
    for (int64_t begin, end; chunks.claim(begin, end);)
      for (int64_t r = begin; r < end; ++r) {
        const int64_t img = r / oh, y = r % oh;
        const float* image = src + img * h * w * c;
        const float* rows[3];
        for (int k = 0; k < 3; ++k) {
          const int64_t iy = S == 1 ? y + k - 1 : 2 * y + k;
          rows[k] = iy >= 0 && iy < h ? image + iy * w * c : nullptr;
        }
        depthwise_row<S, PRELU>(rows, static_cast<int>(w), static_cast<int>(ow), static_cast<int>(c), taps.data(),
                                bias.data(), slope.data(), dst + (img * oh + y) * ow * c);
      }
  });
}

}  // namespace

bool pointwise_conv_takes(int64_t c_out) { return c_out > 0; }

bool pointwise_conv_has_kernel(const at::Tensor& x, const at::Tensor& weight_in_out,
                               const c10::optional<at::Tensor>& bias, const c10::optional<at::Tensor>& slope,
                               const c10::optional<at::Tensor>& residual) {
  if (!cpu::has_avx2_fma() || x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != at::kFloat ||
      weight_in_out.dim() != 2 || weight_in_out.scalar_type() != at::kFloat || weight_in_out.size(0) != x.size(1))
    return false;
  const int64_t cout = weight_in_out.size(1);
  if (!pointwise_conv_takes(cout) || !float_vector(bias, cout, false) || !float_vector(slope, cout, true)) return false;
  // Output channels that are not whole slices are made in a padded scratch: no residual there.
  if (cout % kSlice != 0) return !residual || !residual->defined();
  return !residual || !residual->defined() ||
         (residual->scalar_type() == at::kFloat && residual->sizes() == at::IntArrayRef({x.size(0), cout, x.size(2), x.size(3)}));
}

at::Tensor pointwise_conv_reference(const at::Tensor& x, const at::Tensor& weight_in_out,
                                    const c10::optional<at::Tensor>& bias, const c10::optional<at::Tensor>& slope,
                                    const c10::optional<at::Tensor>& residual) {
  const at::Tensor w = weight_in_out.t().reshape({weight_in_out.size(1), weight_in_out.size(0), 1, 1});
  at::Tensor y = at::conv2d(x, w, bias);
  if (residual && residual->defined()) y = y + *residual;
  if (slope && slope->defined()) y = at::prelu(y, *slope);
  return y.contiguous(at::MemoryFormat::ChannelsLast);
}

at::Tensor pointwise_conv(const at::Tensor& x, const at::Tensor& weight_in_out, const c10::optional<at::Tensor>& bias,
                          const c10::optional<at::Tensor>& slope, const c10::optional<at::Tensor>& residual) {
  if (!pointwise_conv_has_kernel(x, weight_in_out, bias, slope, residual))
    return pointwise_conv_reference(x, weight_in_out, bias, slope, residual);
  const at::Tensor in = x.contiguous(at::MemoryFormat::ChannelsLast);
  const int64_t cin = in.size(1), wanted = weight_in_out.size(1), pixels = in.size(0) * in.size(2) * in.size(3);
  // Output channels that are not whole slices (BlazeFace's heads: 2 and 6 scores) are made as
  // the next whole number of slices from zero weights (padded once per weight), and each
  // pixel's first `wanted` kept: the same sums for those.
  const int64_t cout = (wanted + kSlice - 1) / kSlice * kSlice;
  at::Tensor w = weight_in_out.contiguous();
  if (cout != wanted) {
    static WeightCache<at::Tensor> padded;
    w = *padded.get({weight_in_out}, 0, [&] { return at::constant_pad_nd(w, {0, cout - wanted}); });
  }
  at::Tensor out = at::empty({in.size(0), cout, in.size(2), in.size(3)}, in.options().memory_format(at::MemoryFormat::ChannelsLast));
  const bool res = residual && residual->defined(), act = slope && slope->defined();
  at::Tensor r;
  if (res) r = residual->contiguous(at::MemoryFormat::ChannelsLast);
  std::vector<float> b = per_channel(bias, wanted), s = per_channel(slope, wanted);
  b.resize(cout, 0.f), s.resize(cout, 0.f);
  const float* src = in.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  const float* rp = res ? r.data_ptr<float>() : nullptr;
  float* dst = out.data_ptr<float>();
  const int ci = static_cast<int>(cin), co = static_cast<int>(cout);
  const int64_t grain = std::max<int64_t>(kTilePixels, kMinTaskProducts / (cin * cout));
  const bool avx512 = avx512_kernels_on() && pointwise_avx512_takes(cout);
  parallel_claimed(pixels, grain, [&](ChunkLane& chunks) {
    for (int64_t begin, end; chunks.claim(begin, end);)
      if (avx512)
        pointwise_pixels_avx512(src, ci, wp, co, b.data(), act ? s.data() : nullptr, rp, dst, begin, end);
      else if (act && res)
        pointwise_pixels<true, true>(src, ci, wp, co, b.data(), s.data(), rp, dst, begin, end);
      else if (act)
        pointwise_pixels<true, false>(src, ci, wp, co, b.data(), s.data(), rp, dst, begin, end);
      else if (res)
        pointwise_pixels<false, true>(src, ci, wp, co, b.data(), s.data(), rp, dst, begin, end);
      else
        pointwise_pixels<false, false>(src, ci, wp, co, b.data(), s.data(), rp, dst, begin, end);
  });
  if (cout == wanted) return out;
  return out.narrow(1, 0, wanted).contiguous(at::MemoryFormat::ChannelsLast);
}

bool depthwise_conv_takes(const at::Tensor& weight, at::IntArrayRef strides, at::IntArrayRef padding) {
  if (weight.dim() != 4 || weight.size(0) % 8 != 0 || weight.size(1) != 1 || weight.scalar_type() != at::kFloat ||
      padding.size() != 2 || padding[0] != padding[1] || strides.size() != 2 || strides[0] != strides[1] ||
      weight.size(2) != weight.size(3))
    return false;
  const int64_t stride = strides[0], side = weight.size(2);
  if (padding[0] == 0) return side <= kMaxGlobalSide;  // a global depthwise convolution
  if (padding[0] != 1) return false;
  if (stride == 1) return side == 3;
  return stride == 2 && side == 4 && is_tf_same_3x3(weight);
}

at::Tensor depthwise_conv_reference(const at::Tensor& x, const at::Tensor& weight,
                                    const c10::optional<at::Tensor>& bias, const c10::optional<at::Tensor>& slope,
                                    at::IntArrayRef stride, at::IntArrayRef padding) {
  at::Tensor y = at::conv2d(x, weight, bias, stride, padding, {1, 1}, weight.size(0));
  if (slope && slope->defined()) y = at::prelu(y, *slope);
  return y.contiguous(at::MemoryFormat::ChannelsLast);
}

bool depthwise_conv_has_kernel(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                               const c10::optional<at::Tensor>& slope, at::IntArrayRef strides, at::IntArrayRef padding) {
  const int64_t c = x.dim() == 4 ? x.size(1) : 0;
  const bool takes = cpu::has_avx2_fma() && x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
                     c > 0 && weight.dim() == 4 && weight.size(0) == c &&
                     depthwise_conv_takes(weight, strides, padding) && float_vector(bias, c, false) &&
                     float_vector(slope, c, true);
  if (!takes) return false;
  if (padding[0] == 0) return x.size(2) == weight.size(2) && x.size(3) == weight.size(3);  // global
  return strides[0] == 1 || (x.size(2) % 2 == 0 && x.size(3) % 2 == 0);
}

at::Tensor depthwise_conv(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                          const c10::optional<at::Tensor>& slope, at::IntArrayRef strides, at::IntArrayRef padding) {
  if (!depthwise_conv_has_kernel(x, weight, bias, slope, strides, padding))
    return depthwise_conv_reference(x, weight, bias, slope, strides, padding);
  const int64_t c = x.size(1), stride = strides[0];
  const bool global = padding[0] == 0;
  const at::Tensor in = x.contiguous(at::MemoryFormat::ChannelsLast);
  const std::vector<float> b = per_channel(bias, c), s = per_channel(slope, c);
  const bool act = slope && slope->defined();
  if (global) {  // one output per channel: the weighted sum of its whole map
    const int64_t taps = weight.size(2) * weight.size(3);
    const at::Tensor stored = weight.contiguous();
    const float* wp = stored.data_ptr<float>();  // [C][taps]
    std::vector<float> w(taps * c);               // [taps][C]
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t ch = 0; ch < c; ++ch) w[t * c + ch] = wp[ch * taps + t];
    at::Tensor out = at::empty({in.size(0), c, 1, 1}, in.options().memory_format(at::MemoryFormat::ChannelsLast));
    for (int64_t img = 0; img < in.size(0); ++img)
      global_depthwise(in.data_ptr<float>() + img * taps * c, w.data(), static_cast<int>(taps), static_cast<int>(c),
                       b.data(), act ? s.data() : nullptr, out.data_ptr<float>() + img * c);
    return out;
  }
  at::Tensor out = at::empty({in.size(0), c, in.size(2) / stride, in.size(3) / stride},
                             in.options().memory_format(at::MemoryFormat::ChannelsLast));
  // Taps [9][C]: the 3x3 kernel, or the 4x4 one's last three rows and columns.
  const at::Tensor w = weight.contiguous();
  const float* wp = w.data_ptr<float>();
  const int side = stride == 1 ? 3 : 4, skip = stride == 1 ? 0 : 1;
  std::vector<float> taps(9 * c);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int t = 0; t < 9; ++t) taps[t * c + ch] = wp[ch * side * side + (skip + t / 3) * side + skip + t % 3];
  if (stride == 1 && act) depthwise_all<1, true>(in, out, taps, b, s);
  else if (stride == 1) depthwise_all<1, false>(in, out, taps, b, s);
  else if (act) depthwise_all<2, true>(in, out, taps, b, s);
  else depthwise_all<2, false>(in, out, taps, b, s);
  return out;
}

const char* pointwise_conv_op() { return "facekit::pointwise_conv"; }
const char* depthwise_conv_op() { return "facekit::depthwise_conv"; }

TORCH_LIBRARY_FRAGMENT(facekit, m) {
  m.def("pointwise_conv(Tensor x, Tensor weight_in_out, Tensor? bias, Tensor? slope, Tensor? residual) -> Tensor",
        &pointwise_conv);
  m.def("depthwise_conv(Tensor x, Tensor weight, Tensor? bias, Tensor? slope, int[] stride, int[] padding) -> Tensor", &depthwise_conv);
}

}  // namespace facekit::models
