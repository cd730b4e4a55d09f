#pragma once
// Work shared out on a team as chunks each thread claims when it is ready for more, instead of
// fixed halves: a thread that starts late (woken from its wait, or descheduled a moment on a
// busy machine) then takes fewer chunks, and the team still ends together. With fixed halves
// the other thread waited out the difference at the end of every layer (perf on a 1024 px
// headshot: the second thread idle in 30 % of the first one's samples).
#include <algorithm>
#include <atomic>
#include <cstdint>

#include <ATen/Parallel.h>

namespace facekit {

/// The chunks of [0, n), `chunk` indices each (the last one shorter), handed out in order.
class ClaimedChunks {
 public:
  ClaimedChunks(int64_t n, int64_t chunk) : n_(n), chunk_(std::max<int64_t>(1, chunk)) {}
  /// The next unclaimed chunk as [begin, end); false once none is left.
  bool claim(int64_t& begin, int64_t& end) {
    const int64_t b = next_.fetch_add(chunk_, std::memory_order_relaxed);
    if (b >= n_) return false;
    begin = b, end = std::min(n_, b + chunk_);
    return true;
  }
  int64_t chunks() const { return (n_ + chunk_ - 1) / chunk_; }

 private:
  const int64_t n_, chunk_;
  std::atomic<int64_t> next_{0};
};

/// Runs `body(claims)` once on each thread of the team (at most one per chunk); each call
/// claims chunks of [0, n) until none is left, so the body sets up its scratch once per
/// thread. Every index is in exactly one chunk, whichever thread takes it.
template <class Body>
void parallel_claimed(int64_t n, int64_t chunk, const Body& body) {
  if (n <= 0) return;
  ClaimedChunks claims(n, chunk);
  const int64_t team = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), claims.chunks()));
  at::parallel_for(0, team, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) body(claims);
  });
}

}  // namespace facekit
