#include "image/area_resize.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "common/claimed_chunks.h"
#include "common/cpu_features.h"
#include "common/thread_buffer.h"

// Built with -ffp-contract=off (cpp/CMakeLists.txt): a product and a sum must round separately,
// as in OpenCV's SSE2 build, never as one fused multiply-add.
//
// Rows are shared out on the models' OpenMP team (ATen's parallel_for), not OpenCV's pool
// (TBB): after a model call the team's threads spin a while, and a second pool's threads
// competing with them for the cores made the group photo's level (1920x1280 -> 540x360) take
// 5.0 ms against 3.2 ms with the team asleep (OMP_WAIT_POLICY=PASSIVE). On the team, detection
// at min_face 80 took 23.2 / 27.7 ms against 23.5 / 30.6 (face-api's sample1), 14.7 / 17.1
// against 16.2 / 18.8 (a 1024x1024 headshot; two runs of 25 and 40 calls, alternating).

namespace facekit::image {

namespace {

// Output rows a thread claims at a time (common/claimed_chunks.h): at least kRowGrain (a
// thread's start costs a few microseconds), about a sixteenth of the image (the general
// path reads again the source row two chunks share).
constexpr int64_t kRowGrain = 8;
int64_t chunk_rows(int64_t rows) { return std::max<int64_t>(kRowGrain, rows / 16); }

struct Tap {
  int src;      ///< source index (pixel or row)
  float alpha;  ///< its weight
};

// The taps of each destination index, in source order: destination d averages
// taps[first[d]] .. taps[first[d + 1] - 1]. The same weights as OpenCV's area table: the
// covered part of each source index over the cell's width, rounded to float.
struct Taps {
  std::vector<int> first;
  std::vector<Tap> taps;
};

Taps area_taps(int ssize, int dsize, double scale) {
  Taps t;
  t.first.resize(dsize + 1);
  t.taps.reserve(static_cast<size_t>(ssize) * 2);
  for (int d = 0; d < dsize; ++d) {
    t.first[d] = static_cast<int>(t.taps.size());
    const double from = d * scale, to = from + scale;
    const double cell = std::min(scale, ssize - from);
    int s1 = static_cast<int>(std::ceil(from)), s2 = static_cast<int>(std::floor(to));
    s2 = std::min(s2, ssize - 1);
    s1 = std::min(s1, s2);
    if (s1 - from > 1e-3) t.taps.push_back({s1 - 1, static_cast<float>((s1 - from) / cell)});
    for (int s = s1; s < s2; ++s) t.taps.push_back({s, static_cast<float>(1.0 / cell)});
    if (to - s2 > 1e-3) t.taps.push_back({s2, static_cast<float>(std::min(std::min(to - s2, 1.), cell) / cell)});
  }
  t.first[dsize] = static_cast<int>(t.taps.size());
  return t;
}

// The horizontal taps as a fixed number per destination pixel: each pixel's own, then taps of
// weight 0 on its last source pixel. Adding 0 * v (+0) to a sum of non-negative terms leaves
// it as it is, bit for bit, and every pixel's loop has the same length.
struct FixedTaps {
  int per_pixel = 0;
  std::vector<int> offset;   ///< float offset of the source pixel in its row (3 x its index)
  std::vector<float> alpha;  ///< its weight
};

FixedTaps fixed_taps(const Taps& x) {
  FixedTaps f;
  const int dw = static_cast<int>(x.first.size()) - 1;
  for (int d = 0; d < dw; ++d) f.per_pixel = std::max(f.per_pixel, x.first[d + 1] - x.first[d]);
  f.offset.resize(static_cast<size_t>(dw) * f.per_pixel);
  f.alpha.resize(f.offset.size());
  for (int d = 0; d < dw; ++d)
    for (int j = 0; j < f.per_pixel; ++j) {
      const int k = std::min(x.first[d] + j, x.first[d + 1] - 1);
      const size_t at = static_cast<size_t>(d) * f.per_pixel + j;
      f.offset[at] = 3 * x.taps[k].src;
      f.alpha[at] = x.first[d] + j < x.first[d + 1] ? x.taps[k].alpha : 0.f;
    }
  return f;
}

// A source row's bytes as floats (exact), plus one float of slack for the last pixel's load.
__attribute__((target("avx2"))) void to_floats(const uint8_t* row, int n, float* out) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + i));
    _mm256_storeu_ps(out + i, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)));
  }
  for (; i < n; ++i) out[i] = row[i];
  out[n] = 0.f;
}

// One source row (as floats) averaged across: out[3 d + c] for each destination pixel d, each
// sum kept in a register as its taps add up (OpenCV adds into memory: the same order, the
// same roundings). Four pixels at a time, so that four chains of additions overlap. `out`
// holds one float more than 3 x the destination width (the fourth lane's spill).
__attribute__((target("avx2"))) void average_row(const float* row, const FixedTaps& x, int dw, float* out) {
  const int n = x.per_pixel;
  const int* offset = x.offset.data();
  const float* alpha = x.alpha.data();
  int d = 0;
  for (; d + 4 <= dw; d += 4) {
    const size_t a = static_cast<size_t>(d) * n, b = a + n, c = b + n, e = c + n;
    __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps(), s2 = _mm_setzero_ps(), s3 = _mm_setzero_ps();
    for (int j = 0; j < n; ++j) {
      s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(row + offset[a + j]), _mm_broadcast_ss(alpha + a + j)));
      s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(row + offset[b + j]), _mm_broadcast_ss(alpha + b + j)));
      s2 = _mm_add_ps(s2, _mm_mul_ps(_mm_loadu_ps(row + offset[c + j]), _mm_broadcast_ss(alpha + c + j)));
      s3 = _mm_add_ps(s3, _mm_mul_ps(_mm_loadu_ps(row + offset[e + j]), _mm_broadcast_ss(alpha + e + j)));
    }
    // In pixel order: each store's fourth lane is overwritten by the next one.
    _mm_storeu_ps(out + 3 * d, s0);
    _mm_storeu_ps(out + 3 * d + 3, s1);
    _mm_storeu_ps(out + 3 * d + 6, s2);
    _mm_storeu_ps(out + 3 * d + 9, s3);
  }
  for (; d < dw; ++d) {
    const size_t a = static_cast<size_t>(d) * n;
    __m128 sum = _mm_setzero_ps();
    for (int j = 0; j < n; ++j)
      sum = _mm_add_ps(sum, _mm_mul_ps(_mm_loadu_ps(row + offset[a + j]), _mm_broadcast_ss(alpha + a + j)));
    _mm_storeu_ps(out + 3 * d, sum);
  }
}

// acc = beta * row (the first source row of an output row) or acc + beta * row.
__attribute__((target("avx"))) void accumulate(float* acc, const float* row, float beta, int n, bool first) {
  const __m256 b = _mm256_set1_ps(beta);
  int i = 0;
  if (first) {
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(acc + i, _mm256_mul_ps(b, _mm256_loadu_ps(row + i)));
    for (; i < n; ++i) acc[i] = beta * row[i];
  } else {
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(acc + i, _mm256_add_ps(_mm256_loadu_ps(acc + i), _mm256_mul_ps(b, _mm256_loadu_ps(row + i))));
    for (; i < n; ++i) acc[i] = acc[i] + beta * row[i];
  }
}

// saturate_cast<uchar>: round half to even (the default rounding mode), clamp to 0..255.
__attribute__((target("sse4.1"))) void store_row(const float* acc, uint8_t* out, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_cvtps_epi32(_mm_loadu_ps(acc + i)), b = _mm_cvtps_epi32(_mm_loadu_ps(acc + i + 4));
    const __m128i c = _mm_cvtps_epi32(_mm_loadu_ps(acc + i + 8)), d = _mm_cvtps_epi32(_mm_loadu_ps(acc + i + 12));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, d)));
  }
  for (; i < n; ++i) {
    const int v = static_cast<int>(std::nearbyint(acc[i]));
    out[i] = static_cast<uint8_t>(std::clamp(v, 0, 255));
  }
}

// A reduction by whole factors kx x ky (the source exactly kx x ky times the destination):
// OpenCV's fast path, which adds each output's kx * ky bytes in a scalar loop (3 ms for
// 1920x1080 -> 640x360, the group photo's coarse level at min_face 20; its 2x2 path has SIMD).
// Here each output row's ky source rows are first summed column by column, then each sum
// with its kx - 1 right neighbours of the same channel, eight at a time: the same integer
// sums, rounded as OpenCV rounds sum * (1.f / area) (to nearest, as cvRound).
__attribute__((target("avx2"))) void whole_area_row(const cv::Mat& src, int d, int kx, int ky, float scale,
                                                   int32_t* __restrict column, int32_t* __restrict average,
                                                   uint8_t* __restrict out) {
  const int n = 3 * src.cols, reach = 3 * (kx - 1);  // reach: the last neighbour's offset
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i acc = _mm256_setzero_si256();
    for (int r = 0; r < ky; ++r) {
      const uint8_t* p = src.ptr<uint8_t>(d * ky + r) + i;
      acc = _mm256_add_epi32(acc, _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(column + i), acc);
  }
  for (; i < n; ++i) {
    int32_t acc = 0;
    for (int r = 0; r < ky; ++r) acc += src.ptr<uint8_t>(d * ky + r)[i];
    column[i] = acc;
  }
  const int m = n - reach;  // sums that have all kx terms
  const __m256 vscale = _mm256_set1_ps(scale);
  for (i = 0; i + 8 <= m; i += 8) {
    __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(column + i));
    for (int j = 3; j <= reach; j += 3)
      acc = _mm256_add_epi32(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(column + i + j)));
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), vscale);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(average + i), _mm256_cvtps_epi32(f));
  }
  for (; i < m; ++i) {
    int32_t acc = 0;
    for (int j = 0; j <= reach; j += 3) acc += column[i + j];
    average[i] = cv::saturate_cast<int>(static_cast<float>(acc) * scale);
  }
  for (int x = 0; x < src.cols / kx; ++x)
    for (int c = 0; c < 3; ++c) out[3 * x + c] = cv::saturate_cast<uint8_t>(average[3 * kx * x + c]);
}

void resize_area_whole(const cv::Mat& src, cv::Mat& out, int kx, int ky) {
  const float scale = 1.f / static_cast<float>(kx * ky);
  out.create(src.rows / ky, src.cols / kx, CV_8UC3);
  parallel_claimed(out.rows, chunk_rows(out.rows), [&](ChunkLane& chunks) {
    struct Site;
    int32_t* column = thread_buffer<Site, int32_t>(0, 3 * static_cast<size_t>(src.cols), true);
    int32_t* average = thread_buffer<Site, int32_t>(1, 3 * static_cast<size_t>(src.cols), true);
    for (int64_t begin, end; chunks.claim(begin, end);)
      for (int d = static_cast<int>(begin); d < end; ++d)
        whole_area_row(src, d, kx, ky, scale, column, average, out.ptr<uint8_t>(d));
  });
}

}  // namespace

void resize_area(const cv::Mat& src, cv::Mat& dst, cv::Size size) {
  // cv::resize's own choice of path, on the same doubles.
  const double scale_x = 1. / (static_cast<double>(size.width) / src.cols);
  const double scale_y = 1. / (static_cast<double>(size.height) / src.rows);
  const double whole_x = std::nearbyint(scale_x), whole_y = std::nearbyint(scale_y);
  const bool whole = std::abs(scale_x - whole_x) < DBL_EPSILON && std::abs(scale_y - whole_y) < DBL_EPSILON;
  const int kx = static_cast<int>(whole_x), ky = static_cast<int>(whole_y);
  if (src.type() == CV_8UC3 && whole && kx * ky > 4 && src.cols == kx * size.width && src.rows == ky * size.height &&
      cpu::has_avx2()) {
    cv::Mat out;
    resize_area_whole(src, out, kx, ky);
    dst = out;
    return;
  }
  if (src.type() != CV_8UC3 || src.empty() || size.width <= 0 || size.height <= 0 || size == src.size() ||
      scale_x < 1 || scale_y < 1 || whole || !cpu::has_avx2()) {
    cv::resize(src, dst, size, 0, 0, cv::INTER_AREA);
    return;
  }
  const FixedTaps x = fixed_taps(area_taps(src.cols, size.width, scale_x));
  const Taps y = area_taps(src.rows, size.height, scale_y);
  cv::Mat out(size, CV_8UC3);
  const int n = 3 * size.width;
  // Output rows shared out among the team's threads: each output row's sum is its own, so the
  // split changes no byte.
  parallel_claimed(size.height, chunk_rows(size.height), [&](ChunkLane& chunks) {
    struct Site;
    float* source = thread_buffer<Site>(0, 3 * static_cast<size_t>(src.cols) + 1, true);
    float* row = thread_buffer<Site>(1, n + 1, true);
    float* acc = thread_buffer<Site>(2, n, true);
    int averaged = -1;  // the source row `row` holds: a row shared by two output rows is read once
    for (int64_t begin, end; chunks.claim(begin, end);)
      for (int d = static_cast<int>(begin); d < end; ++d) {
        for (int k = y.first[d]; k < y.first[d + 1]; ++k) {
          const Tap& t = y.taps[k];
          if (t.src != averaged) {
            to_floats(src.ptr<uint8_t>(t.src), 3 * src.cols, source);
            average_row(source, x, size.width, row);
          }
          averaged = t.src;
          accumulate(acc, row, t.alpha, n, k == y.first[d]);
        }
        store_row(acc, out.ptr<uint8_t>(d), n);
      }
  });
  dst = out;
}

}  // namespace facekit::image
