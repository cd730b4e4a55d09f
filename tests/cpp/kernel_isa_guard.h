#pragma once
// For the tests that run a kernel on both of its paths: the AVX-512 switch back to what
// FACEKIT_AVX512 says when the test ends, however it ends.
#include "models/kernel_isa.h"

struct KernelIsaGuard {
  KernelIsaGuard() = default;
  KernelIsaGuard(const KernelIsaGuard&) = delete;
  KernelIsaGuard& operator=(const KernelIsaGuard&) = delete;
  ~KernelIsaGuard() { facekit::models::set_avx512_kernels_for_testing(std::nullopt); }
};
