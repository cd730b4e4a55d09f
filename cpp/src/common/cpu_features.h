#pragma once
// What the CPU facekit runs on can do, asked once. The hand-written kernels (AVX2, FMA, F16C)
// check it before they run; where it cannot, LibTorch's or OpenCV's own operators do the work.

namespace facekit::cpu {

// __builtin_cpu_init first: these may run before the constructors that would otherwise call it
// (a static initialiser asking for the registry's half-float path).
#if defined(__x86_64__) || defined(__i386__)
inline bool has_avx2() {
  static const bool ok = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
  return ok;
}

inline bool has_avx2_fma() {
  static const bool ok = has_avx2() && __builtin_cpu_supports("fma");
  return ok;
}

inline bool has_avx2_fma_f16c() {
  static const bool ok = has_avx2_fma() && __builtin_cpu_supports("f16c");
  return ok;
}
#else
inline bool has_avx2() { return false; }
inline bool has_avx2_fma() { return false; }
inline bool has_avx2_fma_f16c() { return false; }
#endif

}  // namespace facekit::cpu
