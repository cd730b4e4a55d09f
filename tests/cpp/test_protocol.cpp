// Protocol::quick: the transport's cheap look at a request's bytes that decides whether it is
// answered on the transport's thread. It must pick out the quick interfaces without images
// and nothing else; a wrong "false" costs a hand-off, a wrong "true" an image decode on the
// transport's thread.
#include <gtest/gtest.h>

#include "protocol.h"

using facekit::server::Protocol;
using facekit::server::ServerConfig;

TEST(ProtocolQuick, PicksQuickInterfacesWithoutImages) {
  ServerConfig config;
  Protocol p(config);
  EXPECT_FALSE(p.quick(R"({"interface":"1","feature":[0.1]})"));  // nothing marked yet
  p.mark_quick({1, 3, 12});
  EXPECT_TRUE(p.quick(R"({"interface":"1","api_key":"k","group_id":"g","feature":[0.1,0.2]})"));
  EXPECT_TRUE(p.quick(R"({"api_key":"k", "interface" : "12"})"));
  EXPECT_TRUE(p.quick("{\"interface\":\n\"3\",\"face_id\":\"7\"}"));
  EXPECT_FALSE(p.quick(R"({"interface":"1","image_base64":"/9j/4AAQ"})"));  // image mode search
  EXPECT_FALSE(p.quick(R"({"interface":"0","feature":[0.1]})"));            // registration writes
  EXPECT_FALSE(p.quick(R"({"interface":"2","face_id":"1"})"));
  EXPECT_FALSE(p.quick(R"({"interface":"123"})"));
  EXPECT_FALSE(p.quick(R"({"interface":1})"));  // not a string: the protocol answers 10005
  EXPECT_FALSE(p.quick(R"({"interface":"1)"));  // cut short
  EXPECT_FALSE(p.quick(R"({"interface")"));
  EXPECT_FALSE(p.quick(""));
  EXPECT_FALSE(p.quick(R"({"api_key":"k"})"));
}

TEST(RateLimit, NeverMoreThanTheRateInAnySecondTheFirstIncluded) {
  facekit::server::RateLimiter limit(20);
  const auto t0 = facekit::server::RateLimiter::Clock::now();
  auto at = [&](int ms) { return t0 + std::chrono::milliseconds(ms); };
  int admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += limit.try_acquire(at(i));  // a burst within 0.1 s
  EXPECT_EQ(admitted, 20);
  EXPECT_FALSE(limit.try_acquire(at(999)));
  admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += limit.try_acquire(at(1000 + i));  // the next second
  EXPECT_EQ(admitted, 20);
  // Steady 25 a second: 20 of every second's 25 pass.
  facekit::server::RateLimiter steady(20);
  admitted = 0;
  for (int i = 0; i < 250; ++i) admitted += steady.try_acquire(at(40 * i));
  EXPECT_EQ(admitted, 200);
  facekit::server::RateLimiter unlimited(0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(unlimited.try_acquire(at(0)));
}
