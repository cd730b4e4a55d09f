#include "models/quantize_kernel.h"

#include "common/cpu_features.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <ATen/Parallel.h>
#include <torch/library.h>

namespace facekit::models {

namespace {

// ATen's quantize_val<quint8> (its fallback without FBGEMM), value by value:
// zero_point + nearbyint(value * (1.0f / scale)) in float, clamped to 0..255.
inline uint8_t quantize_one(float value, float inv_scale, float zero_point) {
  const float q = zero_point + std::nearbyint(value * inv_scale);
  return static_cast<uint8_t>(std::min(255.f, std::max(0.f, q)));
}

__attribute__((target("avx2"))) void quantize_range(const float* __restrict in, uint8_t* __restrict out, int64_t n,
                                                    float inv_scale, float zero_point) {
  const __m256 inv = _mm256_set1_ps(inv_scale), zp = _mm256_set1_ps(zero_point);
  const __m256 lo = _mm256_setzero_ps(), hi = _mm256_set1_ps(255.f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 r = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(in + i), inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // NaN: max_ps returns its second operand, 0, as ATen's clamp of a NaN's integer does.
    const __m256 q = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(zp, r), lo), hi);
    const __m256i v = _mm256_cvtps_epi32(q);  // whole numbers 0..255: exact
    const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(w, w));
  }
  for (; i < n; ++i) out[i] = quantize_one(in[i], inv_scale, zero_point);
}

// ATen's dequantisation of quint8 (its Vectorized path): (float(q) - zero_point) * scale, in
// float.
__attribute__((target("avx2"))) void dequantize_range(const uint8_t* __restrict in, float* __restrict out, int64_t n,
                                                      float scale, float zero_point) {
  const __m256 zp = _mm256_set1_ps(zero_point), s = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + i)));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(q), zp), s));
  }
  for (; i < n; ++i) out[i] = (static_cast<float>(in[i]) - zero_point) * scale;
}

}  // namespace

at::Tensor dequantize(const at::Tensor& x) {
  const auto format = x.is_quantized() ? x.suggest_memory_format() : at::MemoryFormat::Contiguous;
  if (!cpu::has_avx2() || x.scalar_type() != at::kQUInt8 || !x.device().is_cpu() ||
      x.qscheme() != at::kPerTensorAffine || !x.is_contiguous(format) || x.q_zero_point() < 0 ||
      x.q_zero_point() > 255)
    return at::dequantize(x);
  at::Tensor out = at::empty(x.sizes(), x.options().dtype(at::kFloat).memory_format(format));
  const auto* in = reinterpret_cast<const uint8_t*>(x.data_ptr<c10::quint8>());
  float* dst = out.data_ptr<float>();
  const float scale = static_cast<float>(x.q_scale()), zero_point = static_cast<float>(x.q_zero_point());
  at::parallel_for(0, x.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    dequantize_range(in + begin, dst + begin, end - begin, scale, zero_point);
  });
  return out;
}

at::Tensor quantize_per_tensor(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                               at::ScalarType dtype) {
  const auto format = x.suggest_memory_format();
  if (!cpu::has_avx2() || dtype != at::kQUInt8 || x.scalar_type() != at::kFloat || !x.device().is_cpu() ||
      !x.is_contiguous(format) || scale.numel() != 1 || zero_point.numel() != 1)
    return at::quantize_per_tensor(x, scale, zero_point, dtype);
  const double s = scale.item<double>();
  const int64_t z = zero_point.item<int64_t>();
  if (z < 0 || z > 255) return at::quantize_per_tensor(x, scale, zero_point, dtype);
  at::Tensor q = at::_empty_affine_quantized(x.sizes(), x.options().dtype(at::kQUInt8), s, z, format);
  const float inv_scale = 1.0f / static_cast<float>(s);
  const float* in = x.data_ptr<float>();
  auto* out = reinterpret_cast<uint8_t*>(q.data_ptr<c10::quint8>());
  at::parallel_for(0, x.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    quantize_range(in + begin, out + begin, end - begin, inv_scale, static_cast<float>(z));
  });
  return q;
}

const char* quantize_per_tensor_op() { return "facekit::quantize_per_tensor"; }
const char* dequantize_op() { return "facekit::dequantize"; }

TORCH_LIBRARY_FRAGMENT(facekit, m) {
  m.def("quantize_per_tensor(Tensor x, Tensor scale, Tensor zero_point, ScalarType dtype) -> Tensor",
        &quantize_per_tensor);
  m.def("dequantize(Tensor x) -> Tensor", &dequantize);
}

}  // namespace facekit::models
