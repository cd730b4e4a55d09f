#pragma once
// The index keeps each feature as IEEE half floats beside its int8 code (stored_vector.h): the
// walk compares codes, and the candidates it keeps are re-scored on these. Rounding moves a
// cosine by ~1e-4 at most (far below what a score or threshold can show).
//
// The dot product is picked at run time: AVX2 + FMA + F16C where the CPU has them (every x86
// CPU since 2013), portable C++ elsewhere, so one wheel runs everywhere and fast where it can.
#include <cstddef>
#include <cstdint>

namespace facekit::registry {

using Half = uint16_t;

/// Rounds `n` floats to half precision (nearest even).
void to_half(const float* in, Half* out, size_t n);

/// hnswlib's distance signature: 1 - dot(a, b) over *static_cast<const size_t*>(dim) halves.
using HalfDistance = float (*)(const void* a, const void* b, const void* dim);

/// The fastest kernel this CPU runs.
HalfDistance best_half_distance();
/// The portable kernel (tests compare the two).
HalfDistance portable_half_distance();
/// "avx2-fma-f16c" or "portable": which kernel best_half_distance() returns (logs, benches).
const char* half_kernel_name();

}  // namespace facekit::registry
