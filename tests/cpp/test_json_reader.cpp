// The server reads requests with simdjson and hands nlohmann::json to the handlers: every
// document must come out exactly as nlohmann's own parser reads it, and every invalid one
// must be refused, because validation (and so every error code) works on that value.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "protocol/json_reader.h"

using facekit::server::read_json;
using nlohmann::json;

namespace {

void expect_same_as_nlohmann(const std::string& text) {
  const json fast = read_json(text);
  const json reference = json::parse(text, nullptr, false);
  ASSERT_FALSE(reference.is_discarded()) << text;
  ASSERT_FALSE(fast.is_discarded()) << text;
  EXPECT_EQ(fast, reference) << text;
  EXPECT_EQ(fast.dump(), reference.dump()) << text;  // same number kinds (unsigned / signed / float)
}

}  // namespace

TEST(JsonReader, ReadsWhatNlohmannReads) {
  for (const char* text : {
           R"({"interface":"1","api_key":"k","group_id":"g","topk":5,"score":0,"field":"feature"})",
           R"({"a":[1,-2,3.5,-0.0,1e-7,1E+3,0],"b":{"c":[true,false,null]},"d":"\u00e9\n\"x\""})",
           R"({"n":18446744073709551615,"m":-9223372036854775808,"f":1.7976931348623157e308})",
           R"({"dup":1,"dup":2})",  // the last value wins in both
           R"([])", R"("just a string")", R"(42)", R"(  {"spaces" :  [ 1 , 2 ]  }  )",
           R"({"big":123456789012345678901234567890})",  // beyond 64 bits: nlohmann reads a double
       })
    expect_same_as_nlohmann(text);
}

TEST(JsonReader, ReadsFeatureVectorsExactly) {
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.f, 0.03f);
  json request = {{"interface", "1"}, {"field", "feature"}};
  std::vector<float> feature(1024);
  for (auto& v : feature) v = n(rng);
  request["feature"] = feature;
  expect_same_as_nlohmann(request.dump());
  EXPECT_EQ(read_json(request.dump())["feature"].get<std::vector<float>>(), feature);
}

TEST(JsonReader, RefusesWhatIsNotJson) {
  for (const char* text : {"", "   ", "{", R"({"a":1,})", R"({"a":01})", R"({'a':1})", R"({"a":1} x)",
                           "{\"a\":\"\xff\"}", R"({"a":NaN})", R"([1,2)", "nul", R"({"a":"\x"})"}) {
    EXPECT_TRUE(read_json(text).is_discarded()) << text;
    EXPECT_TRUE(json::parse(text, nullptr, false).is_discarded()) << text;  // the reference agrees
  }
}

TEST(JsonReader, RefusesNestingTooDeepInsteadOfOverflowingTheStack) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(read_json(deep).is_discarded());
  const std::string fine = std::string(500, '[') + std::string(500, ']');
  EXPECT_FALSE(read_json(fine).is_discarded());
}

TEST(JsonReader, ARawNulIsRefusedEvenWhereNlohmannStopsAtIt) {
  // Found by tests/fuzz/fuzz_request: nlohmann reads a NUL as the end of input.
  for (const std::string text : {std::string("{\"a\":1}\0junk", 12), std::string("{\"a\":1e999}\0junk", 16),
                                 std::string("300000000000001366160046058200827\0\0", 35)})
    EXPECT_TRUE(read_json(text).is_discarded()) << text;
}
