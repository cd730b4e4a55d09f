#pragma once
/// A time limit on the calling thread's engine work. The server sets one per request; every
/// model run checks it first and throws Error(kDeadlineExceeded) once it has passed, so a
/// request past its deadline stops at the next model call and frees its thread.
#include <chrono>

namespace facekit {

class ScopedDeadline {
 public:
  /// From now until destruction, work on this thread must end by `at`.
  explicit ScopedDeadline(std::chrono::steady_clock::time_point at);
  ~ScopedDeadline();  ///< restores the previous deadline (none by default)
  ScopedDeadline(const ScopedDeadline&) = delete;
  ScopedDeadline& operator=(const ScopedDeadline&) = delete;

 private:
  std::chrono::steady_clock::time_point previous_;
};

/// Throws Error(kDeadlineExceeded) when this thread's deadline has passed.
void check_deadline();

}  // namespace facekit
