// parse(bytes): every interface's typed request, and the wire error when the bytes are wrong
// (shared/spec/interfaces.md). The conformance suite checks the same rules through the real
// server; these pin the parser alone, fast and without models.
#include <gtest/gtest.h>

#include <set>

#include "protocol/interfaces.h"
#include "protocol/requests.h"
#include "protocol/wire_codes.h"

using namespace facekit::server;

namespace {

ParseLimits limits(int dimension = 3) {
  ParseLimits l;
  l.max_request_bytes = 1 << 20;
  l.feature_dimension = dimension;
  return l;
}

Request parsed(const std::string& bytes) {
  auto r = parse(bytes, limits());
  if (auto* e = std::get_if<ProtocolError>(&r)) ADD_FAILURE() << bytes << " -> " << e->code << " " << e->message;
  return std::get<Request>(r);
}

int error_of(const std::string& bytes, const ParseLimits& l = limits()) {
  auto r = parse(bytes, l);
  if (auto* e = std::get_if<ProtocolError>(&r)) return e->code;
  return 0;
}

const char* kLandmarks = R"({"x":[1,2,3,4,5],"y":[6,7,8,9,10]})";

}  // namespace

TEST(ParseRequest, EnvelopeErrors) {
  EXPECT_EQ(error_of("not json"), kBadJson);
  EXPECT_EQ(error_of("[1,2]"), kBadJson);
  EXPECT_EQ(error_of("{}"), kBadParameter);                        // no interface
  EXPECT_EQ(error_of(R"({"interface":3})"), kBadParameter);        // not a string
  EXPECT_EQ(error_of(R"({"interface":"13"})"), kBadParameter);     // unknown
  EXPECT_EQ(error_of(R"({"interface":"03"})"), kBadParameter);     // not canonical
  EXPECT_EQ(error_of(R"({"interface":"-1"})"), kBadParameter);
  ParseLimits tiny = limits();
  tiny.max_request_bytes = 10;
  EXPECT_EQ(error_of(R"({"interface":"12"})", tiny), kBadParameter);  // too large
}

TEST(ParseRequest, TheVariantIndexIsTheInterface) {
  EXPECT_EQ(parsed(R"({"interface":"12"})").index(), 12u);
  EXPECT_EQ(parsed(R"({"interface":"3","face_id":"7","group_id":"g"})").index(), 3u);
  EXPECT_EQ(parsed(R"({"interface":"10","image1_base64":"AAAA"})").index(), 10u);
}

TEST(ParseRequest, RegisterKeepsEachPersonsFaultToItself) {
  const auto r = std::get<RegisterRequest>(parsed(std::string(R"({"interface":"0",
      "face_id":["1","x",5,"4"], "group_id":["g","g","g",""],
      "image_base64":[["AAAA","BBBB"],["CCCC"],["DDDD"],["EEEE"]],
      "landmarks":[[null,)") + kLandmarks + R"(],null,null,null]})"));
  ASSERT_EQ(r.people.size(), 4u);
  EXPECT_FALSE(r.people[0].invalid);
  EXPECT_EQ(r.people[0].images, (std::vector<std::string>{"AAAA", "BBBB"}));
  ASSERT_EQ(r.people[0].landmarks.size(), 2u);
  EXPECT_FALSE(r.people[0].landmarks[0]);
  EXPECT_FLOAT_EQ((*r.people[0].landmarks[1])[4].y, 10.f);
  EXPECT_EQ(r.people[1].invalid, kBadParameter);  // face_id not digits
  EXPECT_EQ(r.people[2].invalid, kBadParameter);  // face_id not a string: echoed as its JSON text
  EXPECT_EQ(r.people[2].face_id, "5");
  EXPECT_EQ(r.people[3].invalid, kBadParameter);  // empty group
  // Whole-request errors: lengths differ, not arrays, nobody.
  EXPECT_EQ(error_of(R"({"interface":"0","face_id":["1"],"group_id":["g","h"],"image_base64":[["A"]]})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"0","face_id":"1","group_id":["g"],"image_base64":[["A"]]})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"0","face_id":[],"group_id":[],"image_base64":[]})"), kBadParameter);
  // Six images, or a landmark that is not {x:[5], y:[5]}: that person only.
  const auto six = std::get<RegisterRequest>(parsed(
      R"({"interface":"0","face_id":["1"],"group_id":["g"],"image_base64":[["A","A","A","A","A","A"]]})"));
  EXPECT_EQ(six.people[0].invalid, kBadParameter);
  const auto bad_landmark = std::get<RegisterRequest>(parsed(
      R"({"interface":"0","face_id":["1"],"group_id":["g"],"image_base64":[["A"]],"landmarks":[[{"x":[1]}]]})"));
  EXPECT_EQ(bad_landmark.people[0].invalid, kBadParameter);
}

TEST(ParseRequest, SearchByFeatureOrImages) {
  const auto f = std::get<SearchRequest>(parsed(
      R"({"interface":"1","group_id":"g","score":70.5,"topk":3,"field":"feature","feature":[0.1,0.2,0.3],"min_version":9})"));
  EXPECT_EQ(f.group_id, "g");
  EXPECT_DOUBLE_EQ(f.score, 70.5);
  EXPECT_EQ(f.topk, 3);
  EXPECT_EQ(f.min_version, 9);
  EXPECT_EQ(f.feature.size(), 3u);
  EXPECT_TRUE(f.images.empty());
  const auto i = std::get<SearchRequest>(parsed(R"({"interface":"1","group_id":"g","score":0,"topk":1,"image_base64":["A","B"]})"));
  EXPECT_TRUE(i.feature.empty());
  EXPECT_EQ(i.images.size(), 2u);
  EXPECT_EQ(i.landmarks.size(), 2u);
  const std::string head = R"({"interface":"1","group_id":"g","score":50,"topk":1,)";
  EXPECT_EQ(error_of(head + R"("field":"feature","feature":[]})"), kEmptyArray);
  EXPECT_EQ(error_of(head + R"("field":"feature","feature":[1,2]})"), kBadParameter);  // dimension 3
  EXPECT_EQ(error_of(head + R"("field":"feature","feature":[0,0,0]})"), kBadParameter);
  EXPECT_EQ(error_of(head + R"("field":"feature","feature":[1,"a",0]})"), kBadParameter);
  EXPECT_EQ(error_of(head + R"("image_base64":[]})"), kEmptyArray);
  EXPECT_EQ(error_of(head + R"("image_base64":["A","B","C","D"]})"), kBadParameter);
  EXPECT_EQ(error_of(head + R"("image_base64":[1]})"), kBadParameter);
  EXPECT_EQ(error_of(head + R"("field":"other","image_base64":["A"]})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"1","group_id":"g","score":101,"topk":1,"image_base64":["A"]})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"1","group_id":"g","score":50,"topk":6,"image_base64":["A"]})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"1","group_id":"","score":50,"topk":1,"image_base64":["A"]})"), kBadParameter);
  EXPECT_EQ(error_of(head + R"("image_base64":["A"],"min_version":-1})"), kBadParameter);
}

TEST(ParseRequest, DeleteQueryCounts) {
  const auto d = std::get<DeleteRequest>(parsed(R"({"interface":"2","face_id":"42","group_id":"g","field":"range"})"));
  EXPECT_TRUE(d.range);
  EXPECT_EQ(d.face_id, "42");
  EXPECT_FALSE(std::get<DeleteRequest>(parsed(R"({"interface":"2","face_id":"42","group_id":"g"})")).range);
  EXPECT_EQ(error_of(R"({"interface":"2","face_id":"42","group_id":"g","field":"all"})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"3","face_id":"4a","group_id":"g"})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"3","face_id":"123456789012345678901234567890123","group_id":"g"})"), kBadParameter);
  EXPECT_EQ(std::get<CountsRequest>(parsed(R"({"interface":"12","group_id":"g"})")).group_id, "g");
  EXPECT_FALSE(std::get<CountsRequest>(parsed(R"({"interface":"12"})")).group_id);
  EXPECT_EQ(error_of(R"({"interface":"12","group_id":5})"), kBadParameter);
}

TEST(ParseRequest, CompareTakesExactlyTwoImages) {
  const auto c = std::get<CompareRequest>(parsed(std::string(R"({"interface":"4","image_base64":["A","B"],"landmarks":[null,)") +
                                                 kLandmarks + "]}"));
  EXPECT_EQ(c.images[1], "B");
  EXPECT_FALSE(c.landmarks[0]);
  EXPECT_TRUE(c.landmarks[1]);
  EXPECT_EQ(error_of(R"({"interface":"4","image_base64":["A"]})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"4","image_base64":["A","B"],"landmarks":[null]})"), kBadParameter);
}

TEST(ParseRequest, DetectModesRangesAndClassify) {
  const auto d = std::get<DetectRequest>(parsed(
      R"({"interface":"5","image_base64":"A","minface_size":20,"maxface_size":2000,"classify":"gender, hair"})"));
  EXPECT_EQ(d.mode, DetectRequest::Mode::kDetect);
  EXPECT_EQ(d.min_face, 20);
  EXPECT_EQ(d.max_face, 2000);
  EXPECT_TRUE(d.gender);
  EXPECT_FALSE(d.age);
  EXPECT_TRUE(d.hair);
  const auto defaults = std::get<DetectRequest>(parsed(R"({"interface":"5","image_base64":"A"})"));
  EXPECT_EQ(defaults.min_face, 80);
  EXPECT_EQ(defaults.max_face, 300);
  const auto t = std::get<DetectRequest>(parsed(R"({"interface":"5","image_base64":"A","field":"track","camera_id":"c1"})"));
  EXPECT_EQ(t.mode, DetectRequest::Mode::kTrack);
  EXPECT_EQ(t.camera_id, "c1");
  EXPECT_FALSE(t.image_id);
  EXPECT_EQ(error_of(R"({"interface":"5","image_base64":"A","field":"track"})"), kBadParameter);  // camera_id
  EXPECT_EQ(error_of(R"({"interface":"5","image_base64":"A","minface_size":300,"maxface_size":300})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"5","image_base64":"A","classify":"mood"})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"5","image_base64":["A"]})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"5","image_base64":"A","field":"crowd"})"), kBadParameter);
}

TEST(ParseRequest, ImageArraysOfTheAttributeInterfaces) {
  for (const char* id : {"6", "7", "8", "11"}) {
    const std::string head = std::string(R"({"interface":")") + id + R"(",)";
    EXPECT_EQ(error_of(head + R"("image_base64":[]})"), kEmptyArray) << id;
    EXPECT_EQ(error_of(head + R"("image_base64":"A"})"), kBadParameter) << id;
    EXPECT_EQ(error_of(head + R"("image_base64":["A",null]})"), kBadParameter) << id;
    EXPECT_EQ(parsed(head + R"("image_base64":["A","B"]})").index(), static_cast<size_t>(std::stoi(id)));
  }
  EXPECT_EQ(std::get<FeaturesRequest>(parsed(R"({"interface":"6","image_base64":["A","B"]})")).landmarks.size(), 2u);
}

TEST(ParseRequest, LivenessPairs) {
  const auto l = std::get<LivenessRequest>(parsed(
      R"({"interface":"9","live":[{"type":"blink","image1_base64":"A","image2_base64":"B"},{"type":"nod","image1_base64":"C","image2_base64":"D"}]})"));
  ASSERT_EQ(l.pairs.size(), 2u);
  EXPECT_EQ(l.pairs[1].action, facekit::LiveAction::kNod);
  EXPECT_EQ(l.pairs[1].image2, "D");
  EXPECT_EQ(error_of(R"({"interface":"9","live":[]})"), kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"9","live":[{"type":"wink","image1_base64":"A","image2_base64":"B"}]})"), kBadParameter);
  EXPECT_EQ(error_of(
                R"({"interface":"9","live":[{"type":"nod","image1_base64":"A","image2_base64":"B"},{"type":"nod","image1_base64":"A","image2_base64":"B"}]})"),
            kBadParameter);
  EXPECT_EQ(error_of(R"({"interface":"9","live":[{"type":"nod","image1_base64":"A"}]})"), kBadParameter);
}

TEST(WireTables, CodesAreUniqueAndNameRealInterfaces) {
  std::set<int> seen;
  for (const auto& c : kWireCodes) {
    EXPECT_TRUE(seen.insert(c.code).second) << c.code;
    EXPECT_GE(c.interface_id, -1);
    EXPECT_LT(c.interface_id, kInterfaceCount);
    // Success codes are the interface's number + 1, then 01 / 02; errors are 100xx.
    if (c.interface_id >= 0) EXPECT_EQ(c.code / 100, c.interface_id + 1) << c.code;
    else EXPECT_EQ(c.code / 100, 100) << c.code;
  }
  for (const auto& i : kInterfaces) {
    bool has_success = false;
    for (const auto& c : kWireCodes) has_success = has_success || c.interface_id == i.id;
    EXPECT_TRUE(has_success) << "interface " << i.id << " has no success code";
  }
  EXPECT_EQ(wire_text(kBadParameter), "10005");
}
