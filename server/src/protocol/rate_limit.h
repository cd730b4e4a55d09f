#pragma once
// Sliding one-second window: at most `rate` requests admitted in any second, the first one
// included (a token bucket that starts full admits up to twice the rate in its first
// second). A request over the limit is refused at once (10008) without queueing work.
#include <chrono>
#include <cmath>
#include <mutex>
#include <vector>

namespace facekit::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  /// `rate` <= 0: unlimited. A fractional rate admits floor(rate) a second (at least 1).
  explicit RateLimiter(double rate)
      : unlimited_(rate <= 0),
        admitted_(unlimited_ ? 0 : std::max<size_t>(1, static_cast<size_t>(std::floor(rate))), Clock::time_point::min()) {}
  bool try_acquire() { return try_acquire(Clock::now()); }
  /// The admission times of the last `rate` requests form a ring: a request is admitted when
  /// the oldest of them is a second old or more.
  bool try_acquire(Clock::time_point now) {
    if (unlimited_) return true;
    std::lock_guard<std::mutex> lock(mutex_);
    Clock::time_point& oldest = admitted_[next_];
    if (oldest != Clock::time_point::min() && now - oldest < std::chrono::seconds(1)) return false;
    oldest = now;
    next_ = (next_ + 1) % admitted_.size();
    return true;
  }

 private:
  std::mutex mutex_;
  bool unlimited_;
  std::vector<Clock::time_point> admitted_;
  size_t next_ = 0;
};

}  // namespace facekit::server
