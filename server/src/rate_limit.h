#pragma once
// Token bucket: `rate` requests per second, bursts up to one second's worth. A request over
// the limit is refused at once (10008) without queueing work.
#include <chrono>
#include <mutex>

namespace facekit::server {

class RateLimiter {
 public:
  explicit RateLimiter(double rate) : rate_(rate), tokens_(rate), last_(std::chrono::steady_clock::now()) {}
  bool try_acquire() {
    if (rate_ <= 0) return true;  // unlimited
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    tokens_ = std::min(rate_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  std::mutex mutex_;
  double rate_, tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace facekit::server
