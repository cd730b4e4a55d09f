#include "common/heap_huge_pages.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/env_switch.h"
#include "common/huge_pages.h"

// Defined by AddressSanitizer's runtime only: it brings its own allocator, not glibc's heap.
extern "C" void __asan_init() __attribute__((weak));

namespace facekit {

namespace {

constexpr uintptr_t kHugePage = 2u << 20;

bool huge_pages_on() {
  static const bool on = env_switch_on("FACEKIT_HUGE_PAGES") && &__asan_init == nullptr;
  return on;
}

// The start of the "[heap]" mapping (0 if there is none: a heap of mmapped arenas).
uintptr_t heap_start() {
  static const uintptr_t start = [] {
    uintptr_t from = 0;
    if (std::FILE* f = std::fopen("/proc/self/maps", "r")) {
      char line[512];
      while (std::fgets(line, sizeof line, f))
        if (std::strstr(line, "[heap]")) {
          from = std::strtoull(line, nullptr, 16);
          break;
        }
      std::fclose(f);
    }
    return from;
  }();
  return start;
}

std::atomic<uintptr_t> g_advised_end{0};
std::mutex g_advise_mutex;

}  // namespace

void advise_heap_huge_pages() {
  if (!huge_pages_on()) return;
  const auto end = reinterpret_cast<uintptr_t>(sbrk(0));
  if (end <= g_advised_end.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(g_advise_mutex);
  const uintptr_t start = heap_start();
  if (start == 0 || end <= g_advised_end.load()) return;
  // From the 2 MB page holding the last advised end: what lies before it keeps its advice.
  const uintptr_t from = std::max(start, g_advised_end.load() & ~(kHugePage - 1));
  prefer_huge_pages(reinterpret_cast<void*>(from), end - from);
  g_advised_end.store(end);
}

void reserve_heap_on_huge_pages(unsigned long bytes) {
  if (!huge_pages_on()) return;
  // Freed at once: with trimming off (M_TRIM_THRESHOLD) the heap keeps the block as free,
  // untouched memory at its top.
  if (void* p = std::malloc(bytes)) std::free(p);
  advise_heap_huge_pages();
}

}  // namespace facekit
