#include "models/input_conv.h"

#include <ATen/Parallel.h>
#include <immintrin.h>
#include <torch/library.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "common/claimed_chunks.h"
#include "common/cpu_features.h"
#include "models/input_conv_avx512.h"
#include "models/weight_cache.h"

namespace facekit::models {

namespace {

constexpr int kInputChannels = 3;
constexpr int64_t kMaxKernelSide = 8;

// Q output pixels from ox (kernel columns kx_lo..kx_hi of the box inside the image for all
// of them), all V output vectors: the taps row by row, column by column, channel by channel,
// after the bias; ReLU on the way out.
using Taps = InputConvTaps;

template <int V, int Q, int KW>
__attribute__((target("avx2,fma"), always_inline)) inline void pixels(const float* __restrict image, int width,
                                                                      int iy_first, int ky_lo, int ky_hi, int kx_lo,
                                                                      int kx_hi, int ox, const Taps& k,
                                                                      float* __restrict out) {
  constexpr int C = 8 * V;
  const int kw = KW > 0 ? KW : k.kw;  // KW: the box's width known at compile time
  __m256 acc[Q][V];
#pragma GCC unroll 8
  for (int q = 0; q < Q; ++q)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[q][v] = _mm256_loadu_ps(k.bias + 8 * v);
  const int step = k.stride * kInputChannels;
  for (int ky = ky_lo; ky < ky_hi; ++ky) {
    const float* row = image + static_cast<int64_t>(iy_first + ky) * width * kInputChannels;
#pragma GCC unroll 8
    for (int kx = kx_lo; kx < kx_hi; ++kx) {
      const float* at = row + (ox * k.stride - k.pad + k.kx0 + kx) * kInputChannels;
      const float* w = k.w + ((ky * kw + kx) * kInputChannels) * C;
#pragma GCC unroll 3
      for (int ci = 0; ci < kInputChannels; ++ci) {
        __m256 wv[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) wv[v] = _mm256_loadu_ps(w + ci * C + 8 * v);
#pragma GCC unroll 8
        for (int q = 0; q < Q; ++q) {
          const __m256 b = _mm256_broadcast_ss(at + q * step + ci);
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[q][v] = _mm256_fmadd_ps(b, wv[v], acc[q][v]);
        }
      }
    }
  }
  const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 8
  for (int q = 0; q < Q; ++q)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) _mm256_storeu_ps(out + (ox + q) * C + 8 * v, _mm256_max_ps(acc[q][v], zero));
}

// One output row. Pixels whose taps all lie inside the image row go Q at a time; those at the
// edges one at a time, without the taps in the padding (zero there).
template <int V, int KW>
__attribute__((target("avx2,fma"))) void conv_row(const float* image, int height, int width, int oy, int out_width,
                                                  const Taps& k, int ky0, float* out) {
  constexpr int Q = V <= 3 ? 4 : 3;  // Q x V accumulators and V weight vectors in 16 registers
  const int kw = KW > 0 ? KW : k.kw;
  const InputConvRowSpan s = input_conv_row_span(k, height, width, oy, out_width, ky0);
  const int iy_first = s.iy_first, ky_lo = s.ky_lo, ky_hi = s.ky_hi, first = s.first, end = s.end;
  for (int ox = 0; ox < out_width;) {
    if (ox >= first && ox + Q <= end) {
      pixels<V, Q, KW>(image, width, iy_first, ky_lo, ky_hi, 0, KW > 0 ? KW : kw, ox, k, out);
      ox += Q;
    } else {  // kernel columns of the box inside the image
      const int ix_first = ox * k.stride - k.pad + k.kx0;
      const int lo = std::clamp(-ix_first, 0, kw), hi = std::clamp(width - ix_first, lo, kw);
      pixels<V, 1, KW>(image, width, iy_first, ky_lo, ky_hi, lo, hi, ox, k, out);
      ++ox;
    }
  }
}

int64_t out_side(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

}  // namespace

InputConvRows::InputConvRows(const at::Tensor& weight, const c10::optional<at::Tensor>& bias, int64_t stride,
                             int64_t padding)
    : channels_(weight.size(0)),
      kernel_(weight.size(2)),
      stride_(static_cast<int>(stride)),
      pad_(static_cast<int>(padding)) {
  const at::Tensor wt = weight.contiguous();
  const int64_t c = channels_, k = kernel_;
  const float* src = wt.data_ptr<float>();  // [C][3][K][K]
  ky0_ = kx0_ = static_cast<int>(k), ky1_ = kx1_ = 0;
  for (int64_t o = 0; o < c; ++o)
    for (int ci = 0; ci < kInputChannels; ++ci)
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx)
          if (src[((o * kInputChannels + ci) * k + ky) * k + kx] != 0.f) {
            ky0_ = std::min(ky0_, ky), ky1_ = std::max(ky1_, ky + 1);
            kx0_ = std::min(kx0_, kx), kx1_ = std::max(kx1_, kx + 1);
          }
  if (ky1_ == 0) ky0_ = ky1_ = kx0_ = kx1_ = 0;  // all zero: the bias alone
  const int kh = ky1_ - ky0_, kw = kx1_ - kx0_;
  w_.resize(static_cast<size_t>(kh) * kw * kInputChannels * c);
  for (int ky = 0; ky < kh; ++ky)
    for (int kx = 0; kx < kw; ++kx)
      for (int ci = 0; ci < kInputChannels; ++ci)
        for (int64_t o = 0; o < c; ++o)
          w_[((ky * kw + kx) * kInputChannels + ci) * c + o] =
              src[((o * kInputChannels + ci) * k + ky0_ + ky) * k + kx0_ + kx];
  bias_.assign(c, 0.f);
  if (bias && bias->defined()) {
    const at::Tensor b = bias->contiguous();
    std::copy(b.data_ptr<float>(), b.data_ptr<float>() + c, bias_.begin());
  }
}

int64_t InputConvRows::out_side(int64_t in) const { return models::out_side(in, kernel_, stride_, pad_); }

bool InputConvRows::makes_planar_rows() const { return channels_ == 24 && stride_ == 2 && avx512_kernels_on(); }

int InputConvRows::planar_row_scratch_floats(int width) { return input_conv_planes_floats(width); }

void InputConvRows::planar_row(const float* image, int height, int width, int oy, float* planar, float* planes) const {
  const Taps taps{stride_, pad_, kx0_, kx1_ - kx0_, ky1_ - ky0_, w_.data(), bias_.data()};
  input_conv_planar_row24_avx512(image, height, width, oy, static_cast<int>(out_side(width)), taps, ky0_, planar,
                                 planes);
}

void InputConvRows::row(const float* image, int height, int width, int oy, float* out) const {
  const Taps taps{stride_, pad_, kx0_, kx1_ - kx0_, ky1_ - ky0_, w_.data(), bias_.data()};
  const int out_width = static_cast<int>(out_side(width));
  if (avx512_kernels_on())
    return input_conv_row_avx512(static_cast<int>(channels_), image, height, width, oy, out_width, taps, ky0_, out);
  // BlazeFace's 5 taps a row (its 6x6 kernel less the zero column) unrolled.
  const bool five = taps.kw == 5;
  switch (channels_) {
    case 16:
      (five ? conv_row<2, 5> : conv_row<2, 0>)(image, height, width, oy, out_width, taps, ky0_, out);
      break;
    case 24:
      (five ? conv_row<3, 5> : conv_row<3, 0>)(image, height, width, oy, out_width, taps, ky0_, out);
      break;
    default:
      (five ? conv_row<4, 5> : conv_row<4, 0>)(image, height, width, oy, out_width, taps, ky0_, out);
      break;
  }
}

at::Tensor input_conv_relu_reference(const at::Tensor& x, const at::Tensor& weight,
                                     const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                                     at::IntArrayRef padding) {
  return at::relu(at::conv2d(x.permute({0, 3, 1, 2}), weight, bias, stride, padding));
}

bool input_conv_has_kernel(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                           at::IntArrayRef stride, at::IntArrayRef padding) {
  if (!cpu::has_avx2_fma() || x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != at::kFloat ||
      x.size(3) != kInputChannels)
    return false;
  if (weight.dim() != 4 || weight.scalar_type() != at::kFloat || !weight.device().is_cpu() ||
      weight.size(1) != kInputChannels || weight.size(2) != weight.size(3) || weight.size(2) > kMaxKernelSide)
    return false;
  const int64_t c = weight.size(0);
  if (c != 16 && c != 24 && c != 32) return false;
  if (bias && bias->defined() && (bias->scalar_type() != at::kFloat || bias->numel() != c)) return false;
  if (stride.size() != 2 || stride[0] != stride[1] || stride[0] < 1 || stride[0] > kMaxKernelSide) return false;
  if (padding.size() != 2 || padding[0] != padding[1] || padding[0] < 0 || padding[0] >= weight.size(2)) return false;
  return out_side(x.size(1), weight.size(2), stride[0], padding[0]) >= 1 &&
         out_side(x.size(2), weight.size(3), stride[0], padding[0]) >= 1;
}

at::Tensor input_conv_relu(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                           at::IntArrayRef stride, at::IntArrayRef padding) {
  if (!input_conv_has_kernel(x, weight, bias, stride, padding))
    return input_conv_relu_reference(x, weight, bias, stride, padding);
  return input_conv_rows(weight, bias, stride[0], padding[0])->run(x);
}

std::shared_ptr<const InputConvRows> input_conv_rows(const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                                                     int64_t stride, int64_t padding) {
  static WeightCache<InputConvRows> cache;
  // stride <= kMaxKernelSide and padding < the kernel's side (input_conv_has_kernel): one number.
  const int variant = static_cast<int>(stride * 64 + padding);
  return cache.get({weight, bias ? *bias : at::Tensor()}, variant,
                   [&] { return InputConvRows(weight, bias, stride, padding); });
}

at::Tensor InputConvRows::run(const at::Tensor& image) const {
  const at::Tensor in = image.contiguous();
  const int64_t n = in.size(0), h = in.size(1), w = in.size(2), ho = out_side(h), wo = out_side(w);
  at::Tensor out = at::empty({n, channels_, ho, wo}, in.options().memory_format(at::MemoryFormat::ChannelsLast));
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  parallel_claimed(n * ho, 4, [&](ChunkLane& chunks) {
    for (int64_t begin, end; chunks.claim(begin, end);)
      for (int64_t r = begin; r < end; ++r) {
        const int64_t img = r / ho, oy = r % ho;
        row(src + img * h * w * kInputChannels, static_cast<int>(h), static_cast<int>(w), static_cast<int>(oy),
            dst + (img * ho + oy) * wo * channels_);
      }
  });
  return out;
}

const char* input_conv_relu_op() { return "facekit::input_conv_relu"; }

TORCH_LIBRARY_FRAGMENT(facekit, m) {
  m.def("input_conv_relu(Tensor x, Tensor weight, Tensor? bias, int[] stride, int[] padding) -> Tensor",
        &input_conv_relu);
}

}  // namespace facekit::models
