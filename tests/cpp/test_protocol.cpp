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
