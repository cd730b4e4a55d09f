#include "models/kernel_isa.h"

#include <atomic>

#include "common/env_switch.h"

namespace facekit::models {

namespace {
std::atomic<int> avx512_override{-1};  // set_avx512_kernels_for_testing: -1 none, 0 off, 1 on
}  // namespace

bool cpu_has_avx512() {
#if defined(__x86_64__)
  static const bool ok = (__builtin_cpu_init(), __builtin_cpu_supports("avx512f"));
  return ok;
#else
  return false;
#endif
}

bool avx512_kernels_on() {
  static const bool wanted = env_switch_on("FACEKIT_AVX512");
  const int forced = avx512_override.load(std::memory_order_relaxed);
  return cpu_has_avx512() && (forced < 0 ? wanted : forced == 1);
}

void set_avx512_kernels_for_testing(std::optional<bool> on) { avx512_override.store(on ? (*on ? 1 : 0) : -1); }

}  // namespace facekit::models
