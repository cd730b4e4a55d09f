#pragma once
// Transparent huge pages for a block of memory, where the system has them on "madvise" or
// "always": 512x fewer page faults while it fills and fewer TLB misses (or, under a PVM
// hypervisor, fewer exits; common/heap_huge_pages.h).
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace facekit {

/// Advises the whole 2 MB pages inside [p, p + n) for huge pages (MADV_HUGEPAGE); the part
/// before the first and after the last whole 2 MB page keeps its 4 KB pages.
inline void prefer_huge_pages(void* p, size_t n) {
  constexpr uintptr_t kHuge = 2u << 20;
  const auto begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<uintptr_t>(p) + n) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace facekit
