#pragma once
// Row buffers a thread keeps from one call to the next, instead of allocating them in each
// parallel layer. The process has one malloc arena (models/runtime.cpp: M_ARENA_MAX), so when
// both threads of a team allocated their row buffers at the start of a layer and freed them at
// its end, one waited for the other's lock and slept in the kernel: 4,930 sleeps of the calling
// thread in 200 detections of a 1024 px headshot, 16 with these buffers
// (bench/engine/context_switches.py).
#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

namespace facekit {

namespace detail {

template <class T>
struct KeptBuffer {
  T* data = nullptr;
  size_t size = 0;
  KeptBuffer() = default;
  KeptBuffer(const KeptBuffer&) = delete;
  KeptBuffer& operator=(const KeptBuffer&) = delete;
  ~KeptBuffer() { ::operator delete(data, std::align_val_t(64)); }
  T* at_least(size_t n) {
    if (size < n) {
      ::operator delete(data, std::align_val_t(64));
      data = nullptr, size = 0;
      data = static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64)));
      size = n;
    }
    return data;
  }
};

}  // namespace detail

/// Buffers a call site may hold at once.
constexpr int kThreadBuffersPerSite = 8;

/// Buffer `slot` (< kThreadBuffersPerSite) of call site `Site` on the calling thread: `n`
/// elements on a 64-byte line, uninitialised (zeros with `zeroed`), kept for the thread's next
/// call for the same site and slot, which may overwrite them. `Site` is a type of the call
/// site's own (a local `struct Site;`), so that no other code, nor code the site calls, shares
/// the buffer.
template <class Site, class T = float>
T* thread_buffer(int slot, size_t n, bool zeroed = false) {
  static_assert(std::is_trivially_default_constructible_v<T> && std::is_trivially_destructible_v<T>,
                "a thread buffer holds plain numbers");
  static thread_local detail::KeptBuffer<T> kept[kThreadBuffersPerSite];
  T* p = kept[slot].at_least(n == 0 ? 1 : n);
  if (zeroed) std::memset(p, 0, n * sizeof(T));
  return p;
}

}  // namespace facekit
