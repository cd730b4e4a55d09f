// Work claimed chunk by chunk (common/claimed_chunks.h): every index exactly once, and a thread
// that is held up leaves its share to the other one instead of a fixed half.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/claimed_chunks.h"

namespace {

TEST(ClaimedChunks, HandsOutEveryIndexOnce) {
  facekit::ClaimedChunks claims(10, 4);
  EXPECT_EQ(claims.chunks(), 3);
  std::vector<std::pair<int64_t, int64_t>> got;
  for (int64_t b, e; claims.claim(b, e);) got.emplace_back(b, e);
  const std::vector<std::pair<int64_t, int64_t>> want{{0, 4}, {4, 8}, {8, 10}};
  EXPECT_EQ(got, want);
  int64_t b = -1, e = -1;
  EXPECT_FALSE(claims.claim(b, e));
}

TEST(ClaimedChunks, BothEndsMeetWithoutOverlap) {
  facekit::ClaimedChunks claims(10, 4);  // chunks [0, 4) [4, 8) [8, 10)
  int64_t b = -1, e = -1;
  ASSERT_TRUE(claims.claim(b, e, true));
  EXPECT_EQ(std::make_pair(b, e), std::make_pair(int64_t{8}, int64_t{10}));  // the short last chunk
  ASSERT_TRUE(claims.claim(b, e));
  EXPECT_EQ(std::make_pair(b, e), std::make_pair(int64_t{0}, int64_t{4}));
  ASSERT_TRUE(claims.claim(b, e, true));
  EXPECT_EQ(std::make_pair(b, e), std::make_pair(int64_t{4}, int64_t{8}));
  EXPECT_FALSE(claims.claim(b, e));
  EXPECT_FALSE(claims.claim(b, e, true));
}

// A layer's rows go to the same thread as the layer before's: the team's first thread takes
// them from the top, its last from the bottom, so each one's rows form one run from its end.
TEST(ClaimedChunks, TheLastThreadClaimsFromTheBack) {
  at::set_num_threads(2);
  if (at::get_num_threads() < 2) GTEST_SKIP() << "needs a team of two";
  const int64_t n = 64;
  std::vector<int> owner(n, -1);
  facekit::parallel_claimed(n, 4, [&](facekit::ChunkLane& chunks) {
    const int me = at::get_thread_num();
    for (int64_t b, e; chunks.claim(b, e);)
      for (int64_t i = b; i < e; ++i) owner[i] = me;
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_GE(owner[i], 0) << i;
  // At most one change of owner down the rows: thread 0's run from the top, thread 1's from the bottom.
  int changes = 0;
  for (int64_t i = 1; i < n; ++i) changes += owner[i] != owner[i - 1];
  EXPECT_LE(changes, 1);
  if (changes == 1) {  // both took some (else one took all: a late start)
    EXPECT_EQ(owner.front(), 0);
    EXPECT_EQ(owner.back(), 1);
  }
}

TEST(ClaimedChunks, TeamCoversEveryIndexOnce) {
  at::set_num_threads(2);
  for (const int64_t n : {1, 3, 4, 5, 1003}) {
    std::vector<std::atomic<int>> seen(n);
    facekit::parallel_claimed(n, 4, [&](facekit::ChunkLane& chunks) {
      for (int64_t b, e; chunks.claim(b, e);)
        for (int64_t i = b; i < e; ++i) seen[i].fetch_add(1);
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i].load(), 1) << "n " << n << " index " << i;
  }
}

// The thread that claims first takes one chunk and then waits until the other has had time to
// take the rest: with claimed chunks the other takes the other 49 (with fixed halves it would have
// had 25 at most). The wait ends early once nothing is left, and gives up after 10 s (a team
// of one thread), so no schedule can hang the test.
TEST(ClaimedChunks, AHeldUpThreadLeavesItsShareToTheOther) {
  at::set_num_threads(2);
  if (at::get_num_threads() < 2) GTEST_SKIP() << "needs a team of two";
  std::atomic<int> first_thread{-1}, entered{0};
  std::atomic<int64_t> taken_by_first{0}, taken_by_other{0};
  facekit::parallel_claimed(50, 1, [&](facekit::ChunkLane& chunks) {
    const int me = at::get_thread_num();
    int expected = -1;
    const bool first = first_thread.compare_exchange_strong(expected, me);
    entered.fetch_add(1);
    int64_t b, e;
    if (first) {
      if (!chunks.claim(b, e)) return;
      taken_by_first.fetch_add(1);
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (taken_by_first + taken_by_other < 50 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (; chunks.claim(b, e);) (first ? taken_by_first : taken_by_other).fetch_add(1);
  });
  EXPECT_EQ(taken_by_first + taken_by_other, 50);
  if (entered.load() < 2) GTEST_SKIP() << "OpenMP gave the region one thread";
  // One, or none where the other drained the chunks between the first's win and its claim.
  EXPECT_LE(taken_by_first.load(), 1);
  EXPECT_GE(taken_by_other.load(), 49);
}

}  // namespace
