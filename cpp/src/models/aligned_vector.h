#pragma once
// Vectors whose data starts on a 64-byte cache line, for the hand-written kernels' weights and
// row buffers. A 16-float load that straddles two lines costs two of the core's loads, and the
// kernels are load-bound: with the pair kernel's weights and rows on 16-byte boundaries (what
// std::vector gets from malloc) most of its 16-float loads straddled (docs/BENCHMARKS.md,
// session 27).
#include <cstddef>
#include <new>
#include <vector>

namespace facekit::models {

constexpr std::size_t kCacheLine = 64;

template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}  // NOLINT: rebinding, as std::allocator
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kCacheLine))); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t(kCacheLine)); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const CacheLineAllocator<U>&) const noexcept {
    return false;
  }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

/// `floats` rounded up to whole cache lines: the stride of rows kept one after another in a
/// buffer, so that each row starts on a line as the buffer does.
constexpr std::ptrdiff_t line_stride(std::ptrdiff_t floats) {
  constexpr std::ptrdiff_t per_line = kCacheLine / sizeof(float);
  return (floats + per_line - 1) / per_line * per_line;
}

}  // namespace facekit::models
