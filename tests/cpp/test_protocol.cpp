// Protocol::quick: the transport's cheap look at a request's bytes that decides whether it is
// answered on the transport's thread. It must pick out the quick interfaces without images
// and nothing else; a wrong "false" costs a hand-off, a wrong "true" an image decode on the
// transport's thread.
#include <gtest/gtest.h>

#include "protocol/protocol.h"

using facekit::server::Endpoint;
using facekit::server::Protocol;
using facekit::server::Request;
using facekit::server::ServerConfig;

namespace {
nlohmann::json answer_counts(const Request&) { return {{"error_message", "1301"}}; }

/// A face-endpoint protocol serving every face interface with one trivial handler.
void serve_all(Protocol& p) {
  for (const auto& spec : facekit::server::kInterfaces)
    if (spec.endpoint == Endpoint::kFace) p.set_handler(spec.id, answer_counts);
}
}  // namespace

TEST(ProtocolQuick, PicksQuickInterfacesWithoutImages) {
  ServerConfig config;
  Protocol p(config, Endpoint::kFace);
  EXPECT_FALSE(p.quick(R"({"interface":"1","feature":[0.1]})"));  // not served yet
  serve_all(p);
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

TEST(ProtocolQuick, CountsAreQuickOnlyOverALocalRegistry) {
  ServerConfig config;
  Protocol local(config, Endpoint::kFace, false), shared(config, Endpoint::kFace, true);
  serve_all(local);
  serve_all(shared);
  EXPECT_TRUE(local.quick(R"({"interface":"12"})"));
  EXPECT_FALSE(shared.quick(R"({"interface":"12"})"));  // counted in PostgreSQL
  EXPECT_TRUE(shared.quick(R"({"interface":"3","face_id":"1","group_id":"g"})"));
  EXPECT_FALSE(shared.quick(R"({"interface":"1","field":"feature","min_version":3})"));  // may wait
}

TEST(ProtocolHeavy, FollowsTheInterfaceTable) {
  ServerConfig config;
  Protocol p(config, Endpoint::kFace);
  serve_all(p);
  for (const auto& spec : facekit::server::kInterfaces) {
    if (spec.endpoint != Endpoint::kFace) continue;
    const std::string request = R"({"interface":")" + std::to_string(spec.id) + R"("})";
    EXPECT_EQ(p.heavy(request), spec.heavy) << request;
  }
  EXPECT_TRUE(p.heavy(R"({"interface":"5"})"));
  EXPECT_FALSE(p.heavy(R"({"interface":"12"})"));
  EXPECT_THROW(p.set_handler(10, answer_counts), std::invalid_argument);  // the pedestrian port's
}

TEST(ProtocolRateLimit, EachInterfaceCountsAgainstItsClass) {
  ServerConfig config;
  config.max_request_bytes = 1 << 16;
  Protocol p(config, Endpoint::kFace);
  serve_all(p);
  p.set_limiter(facekit::server::RateClass::kGeneral, std::make_shared<facekit::server::RateLimiter>(2));
  auto code = [&](const std::string& request) {
    return nlohmann::json::parse(p.handle(request))["error_message"].get<std::string>();
  };
  // Interface 12 is not limited; 1, 4 and 5 share one limit of 2 a second.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(code(R"({"interface":"12"})"), "1301");
  EXPECT_EQ(code(R"({"interface":"4","image_base64":["a","b"]})"), "1301");
  EXPECT_EQ(code(R"({"interface":"1","group_id":"g","score":0,"topk":1,"field":"feature","feature":[1]})"), "1301");
  EXPECT_EQ(code(R"({"interface":"5","image_base64":"a"})"), "10008");
  EXPECT_EQ(code(R"({"interface":"12"})"), "1301");
}
