// Buffers a thread keeps per call site (common/thread_buffer.h): reused by the same site and
// slot, never shared with another site, slot or thread, zeroed when asked.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

#include "common/thread_buffer.h"

namespace {

struct SiteA;
struct SiteB;

TEST(ThreadBuffer, ASiteAndSlotGetsItsOwnBufferBack) {
  float* a = facekit::thread_buffer<SiteA>(0, 100);
  a[0] = 1.5f, a[99] = 2.5f;
  float* again = facekit::thread_buffer<SiteA>(0, 50);  // smaller: the same buffer, as it was left
  EXPECT_EQ(again, a);
  EXPECT_EQ(again[0], 1.5f);
  EXPECT_NE(facekit::thread_buffer<SiteA>(1, 100), a);  // another slot
  EXPECT_NE(facekit::thread_buffer<SiteB>(0, 100), a);  // another site
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 64, 0u);
}

TEST(ThreadBuffer, ZeroedWhenAskedAndGrownWhenTooSmall) {
  float* a = facekit::thread_buffer<SiteA>(2, 16);
  for (int i = 0; i < 16; ++i) a[i] = 7.f;
  float* z = facekit::thread_buffer<SiteA>(2, 16, true);
  for (int i = 0; i < 16; ++i) ASSERT_EQ(z[i], 0.f) << i;
  float* big = facekit::thread_buffer<SiteA>(2, 1 << 16, true);
  for (int i = 0; i < (1 << 16); ++i) ASSERT_EQ(big[i], 0.f) << i;
  auto* ints = facekit::thread_buffer<SiteB, int32_t>(0, 8);
  EXPECT_NE(static_cast<void*>(ints), static_cast<void*>(facekit::thread_buffer<SiteB>(0, 8)));  // per element type
}

TEST(ThreadBuffer, EachThreadHasItsOwn) {
  float* mine = facekit::thread_buffer<SiteA>(3, 64);
  float* theirs = nullptr;
  std::thread t([&] { theirs = facekit::thread_buffer<SiteA>(3, 64); });
  t.join();
  EXPECT_NE(theirs, mine);
}

}  // namespace
