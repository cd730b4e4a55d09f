#pragma once
// Which instruction set the hand-written kernels (blaze_block, input_conv, separable_conv) take:
// AVX-512 where the CPU has it, AVX2 + FMA otherwise. Both paths compute each output from the
// same products in the same order, so they give the same floats; AVX-512's 16-float vectors do
// twice the multiply-adds an instruction (on the 2-core Xeon, the same instructions a second).
#include <optional>

namespace facekit::models {

/// Whether the CPU has AVX-512F.
bool cpu_has_avx512();

/// Whether the kernels take their AVX-512 path: the CPU has it and FACEKIT_AVX512 is not "0"
/// (read once per process), unless a test chose.
bool avx512_kernels_on();

/// Tests: the AVX-512 path on or off from now on, whatever FACEKIT_AVX512 says (on needs the
/// CPU); nullopt: as FACEKIT_AVX512 says again.
void set_avx512_kernels_for_testing(std::optional<bool> on);

}  // namespace facekit::models
