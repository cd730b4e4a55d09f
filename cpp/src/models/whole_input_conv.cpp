#include "models/whole_input_conv.h"

#include <ATen/Parallel.h>
#include <immintrin.h>
#include <torch/library.h>

#include "common/cpu_features.h"

namespace facekit::models {

namespace {

// Output rows a thread takes at least: a row is k multiply-adds (288 for FaceMesh's heads).
constexpr int64_t kRowGrain = 64;

__attribute__((target("avx2,fma"))) inline float sum8(__m256 v) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// y[o] = bias[o] + w[o] . x for o in [begin, end): four rows at a time, so that four chains of
// multiply-adds overlap. The weights are read once, in place: 1.6 MB for the mesh head, which
// is what bounds it.
__attribute__((target("avx2,fma"))) void rows_times_vector(const float* w, int64_t k, const float* x, const float* bias,
                                                           float* y, int64_t begin, int64_t end) {
  const int64_t k8 = k / 8 * 8;
  int64_t o = begin;
  for (; o + 4 <= end; o += 4) {
    const float* r0 = w + o * k;
    const float *r1 = r0 + k, *r2 = r1 + k, *r3 = r2 + k;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t i = 0; i < k8; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + i), v, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + i), v, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + i), v, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + i), v, a3);
    }
    float s[4] = {sum8(a0), sum8(a1), sum8(a2), sum8(a3)};
    for (int64_t i = k8; i < k; ++i)
      s[0] += r0[i] * x[i], s[1] += r1[i] * x[i], s[2] += r2[i] * x[i], s[3] += r3[i] * x[i];
    for (int j = 0; j < 4; ++j) y[o + j] = (bias ? bias[o + j] : 0.f) + s[j];
  }
  for (; o < end; ++o) {
    const float* r = w + o * k;
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = 0; i < k8; i += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(r + i), _mm256_loadu_ps(x + i), a);
    float s = sum8(a);
    for (int64_t i = k8; i < k; ++i) s += r[i] * x[i];
    y[o] = (bias ? bias[o] : 0.f) + s;
  }
}

}  // namespace

at::Tensor whole_input_conv(const at::Tensor& x, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                            at::IntArrayRef stride) {
  const bool has_bias = bias && bias->defined();
  const bool as_product = x.dim() == 4 && weight.dim() == 4 && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
                          weight.scalar_type() == at::kFloat && x.size(1) == weight.size(1) &&
                          x.size(2) == weight.size(2) && x.size(3) == weight.size(3) &&
                          (!has_bias || (bias->scalar_type() == at::kFloat && bias->numel() == weight.size(0)));
  if (!as_product) return at::conv2d(x, weight, bias, stride);
  const int64_t n = x.size(0), out = weight.size(0);
  // NCHW order on both sides: the weight's own layout, read in place. One matrix-vector
  // product per image: as a matrix product, OpenBLAS copies (packs) the whole weight first.
  const at::Tensor rows = x.contiguous().reshape({n, -1});
  const at::Tensor w = weight.contiguous().reshape({out, -1});
  at::Tensor y = at::empty({n, out}, x.options());
  // With AVX2 + FMA, the rows shared out on the team's threads: OpenBLAS 0.3.21 does not know
  // this CPU and took its generic SSE3 kernel on one thread (the three heads 0.37 ms a mesh
  // call at two threads, facekit_bench_models with FACEKIT_BENCH_OPS=1).
  if (cpu::has_avx2_fma()) {
    const at::Tensor b = has_bias ? bias->contiguous() : at::Tensor();
    const float* wp = w.data_ptr<float>();
    const float* bp = has_bias ? b.data_ptr<float>() : nullptr;
    const int64_t k = w.size(1);
    const float* xp = rows.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    // A thread's rows (~74 KB at 64) stay in its cache from one image to the next.
    at::parallel_for(0, out, kRowGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = 0; i < n; ++i) rows_times_vector(wp, k, xp + i * k, bp, yp + i * out, begin, end);
    });
    return y.reshape({n, out, 1, 1});
  }
  for (int64_t i = 0; i < n; ++i) {
    at::Tensor yi = y[i];
    if (has_bias)
      at::addmv_out(yi, bias->reshape({out}), w, rows[i]);
    else
      at::mv_out(yi, w, rows[i]);
  }
  return y.reshape({n, out, 1, 1});
}

const char* whole_input_conv_op() { return "facekit::whole_input_conv"; }

TORCH_LIBRARY_FRAGMENT(facekit, m) {
  m.def("whole_input_conv(Tensor x, Tensor weight, Tensor? bias, int[] stride) -> Tensor", &whole_input_conv);
}

}  // namespace facekit::models
