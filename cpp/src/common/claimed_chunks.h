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

/// The chunks of [0, n), `chunk` indices each (the last one shorter), handed out in order from
/// the front or from the back until the two ends meet.
class ClaimedChunks {
 public:
  ClaimedChunks(int64_t n, int64_t chunk)
      : n_(n), chunk_(std::max<int64_t>(1, chunk)), ends_(static_cast<uint64_t>(chunks())) {}
  /// The next unclaimed chunk from the front (or from the back) as [begin, end); false once
  /// none is left.
  bool claim(int64_t& begin, int64_t& end, bool from_back = false) {
    uint64_t now = ends_.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t front = now >> 32, back = now & 0xffffffffu;
      if (front >= back) return false;
      const uint64_t next = from_back ? now - 1 : now + (uint64_t{1} << 32);
      if (ends_.compare_exchange_weak(now, next, std::memory_order_relaxed)) {
        const int64_t c = static_cast<int64_t>(from_back ? back - 1 : front);
        begin = c * chunk_, end = std::min(n_, begin + chunk_);
        return true;
      }
    }
  }
  int64_t chunks() const { return (n_ + chunk_ - 1) / chunk_; }

 private:
  const int64_t n_, chunk_;
  std::atomic<uint64_t> ends_;  ///< next chunk from the front << 32 | one past the last unclaimed
};

/// One thread's end of a ClaimedChunks.
class ChunkLane {
 public:
  ChunkLane(ClaimedChunks& chunks, bool from_back) : chunks_(chunks), from_back_(from_back) {}
  bool claim(int64_t& begin, int64_t& end) { return chunks_.claim(begin, end, from_back_); }

 private:
  ClaimedChunks& chunks_;
  const bool from_back_;
};

/// Runs `body(lane)` once on each thread of the team (at most one per chunk); each call claims
/// chunks of [0, n) through its ChunkLane until none is left, so the body sets up its scratch
/// once per thread. Every index is in exactly one chunk, whichever thread takes it. The team's
/// last thread claims from the back, the others from the front: a layer's thread then makes
/// about the same rows as in the layer before, which it made itself and holds in its cache. With
/// both threads claiming from the front, chunks alternated between them and a thread read
/// about half of its input from the other core's cache.
template <class Body>
void parallel_claimed(int64_t n, int64_t chunk, const Body& body) {
  if (n <= 0) return;
  ClaimedChunks claims(n, chunk);
  const int64_t team = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), claims.chunks()));
  at::parallel_for(0, team, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      ChunkLane lane(claims, team > 1 && i == team - 1);
      body(lane);
    }
  });
}

}  // namespace facekit
