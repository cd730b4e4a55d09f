#pragma once
// MobileFaceNet's pointwise convolutions (separable_conv.h's pointwise_conv) with AVX-512:
// tiles of 12 pixels x 32 output channels (BLIS's Skylake-X sgemm tile), whose 24
// accumulators, two weight vectors and a broadcast input fit the 32 registers. Each output
// sums the same products in the same order as the AVX2 kernel: the same floats.
#include <cstdint>

#include "models/kernel_isa.h"

namespace facekit::models {

/// Whether the AVX-512 kernel takes `cout` output channels (a multiple of 32).
constexpr bool pointwise_avx512_takes(int64_t cout) { return cout > 0 && cout % 32 == 0; }

/// Pixels [begin, end) of `in` (cin floats a pixel, channels-last): w [cin][cout] products plus
/// bias [cout], plus `res` (same layout as `out`) when not null, through the PReLU of
/// slope [cout] when not null, into `out` (cout floats a pixel).
void pointwise_pixels_avx512(const float* in, int cin, const float* w, int cout, const float* bias, const float* slope,
                             const float* res, float* out, int64_t begin, int64_t end);

}  // namespace facekit::models
