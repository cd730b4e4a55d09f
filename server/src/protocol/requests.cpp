#include "protocol/requests.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "facekit/registry.h"
#include "protocol/fields.h"
#include "protocol/interfaces.h"
#include "protocol/json_reader.h"

namespace facekit::server {

static_assert(std::variant_size_v<Request> == kInterfaceCount, "one request type per interface");
static_assert(std::is_same_v<std::variant_alternative_t<0, Request>, RegisterRequest> &&
                  std::is_same_v<std::variant_alternative_t<5, Request>, DetectRequest> &&
                  std::is_same_v<std::variant_alternative_t<10, Request>, PedestrianRequest> &&
                  std::is_same_v<std::variant_alternative_t<12, Request>, CountsRequest>,
              "a request's variant index is its interface id");

namespace {

const std::string& group_of(const Json& r) {
  const std::string& g = string_field(r, "group_id");
  if (g.empty() || g.size() > 256) bad("group_id must be 1-256 bytes");
  return g;
}

const std::string& face_id_of(const Json& r) {
  const std::string& id = string_field(r, "face_id");
  if (!Registry::valid_face_id(id)) bad("face_id must be 1-32 digits");
  return id;
}

/// The image array of interfaces 6 / 7 / 8 / 11: non-empty (10009), strings.
std::vector<std::string> image_array(Json& r) {
  const Json& images = array_field(r, "image_base64");
  if (images.empty()) throw ProtocolError{kEmptyArray, "image_base64 is empty"};
  return take_image_strings(r["image_base64"]);
}

std::string text_of(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

/// One person of interface 0: its fields' faults are its own (10005 in `invalid`).
RegisterRequest::Person parse_person(Json& face_id, Json& group, Json& images, const Json* landmarks) {
  RegisterRequest::Person p;
  p.face_id = text_of(face_id);
  p.group_id = text_of(group);
  try {
    if (!face_id.is_string() || !Registry::valid_face_id(p.face_id)) bad("face_id must be 1-32 digits");
    if (!group.is_string() || p.group_id.empty()) bad("group_id must be a non-empty string");
    if (!images.is_array() || images.empty() || images.size() > 5) bad("1-5 images a person");
    if (landmarks && !landmarks->is_null() && (!landmarks->is_array() || landmarks->size() != images.size()))
      bad("landmarks must match the images");
    p.images = take_image_strings(images);
    for (size_t i = 0; i < p.images.size(); ++i)
      p.landmarks.push_back(landmarks && !landmarks->is_null() && !(*landmarks)[i].is_null()
                                ? OptionalLandmarks(parse_landmarks((*landmarks)[i]))
                                : std::nullopt);
  } catch (const ProtocolError& e) {
    p.invalid = e.code;
    p.images.clear();
    p.landmarks.clear();
  }
  return p;
}

RegisterRequest parse_register(Json& r) {
  array_field(r, "face_id");
  array_field(r, "group_id");
  array_field(r, "image_base64");
  Json* landmarks = nullptr;
  if (auto it = r.find("landmarks"); it != r.end() && !it->is_null()) {
    if (!it->is_array()) bad("landmarks must be an array");
    landmarks = &*it;
  }
  Json &ids = r["face_id"], &groups = r["group_id"], &images = r["image_base64"];
  if (ids.size() != groups.size() || ids.size() != images.size() || (landmarks && landmarks->size() != ids.size()))
    bad("face_id, group_id, image_base64 (and landmarks) must have the same length");
  if (ids.empty()) bad("no person to register");
  RegisterRequest req;
  for (size_t i = 0; i < ids.size(); ++i)
    req.people.push_back(parse_person(ids[i], groups[i], images[i], landmarks ? &(*landmarks)[i] : nullptr));
  return req;
}

SearchRequest parse_search(Json& r, const ParseLimits& limits) {
  SearchRequest s;
  s.group_id = group_of(r);
  s.score = number_field(r, "score", 0, 100);
  s.topk = int_field(r, "topk", 1, 5);
  if (auto it = r.find("min_version"); it != r.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) bad("min_version must be a non-negative integer");
    s.min_version = it->get<int64_t>();
  }
  const auto mode = optional_string(r, "field").value_or("");
  if (mode == "feature") {
    const Json& f = array_field(r, "feature");
    if (f.empty()) throw ProtocolError{kEmptyArray, "feature is empty"};
    if (limits.feature_dimension > 0 && static_cast<int>(f.size()) != limits.feature_dimension)
      bad("feature has the wrong dimension");
    double norm = 0;
    for (const auto& v : f) {
      if (!v.is_number()) bad("feature values must be numbers");
      s.feature.push_back(v.get<float>());
      if (!std::isfinite(s.feature.back())) bad("feature values must be finite");
      norm += double(s.feature.back()) * s.feature.back();
    }
    if (norm <= 0) bad("feature is all zeros");
  } else if (mode.empty()) {
    const Json& images = array_field(r, "image_base64");
    if (images.empty()) throw ProtocolError{kEmptyArray, "image_base64 is empty"};
    if (images.size() > 3) bad("at most 3 query images");
    s.images = take_image_strings(r["image_base64"]);
    s.landmarks = optional_landmarks(r, s.images.size());
  } else {
    bad("field must be \"feature\" or absent");
  }
  return s;
}

DeleteRequest parse_delete(const Json& r) {
  DeleteRequest d;
  d.face_id = face_id_of(r);
  d.group_id = group_of(r);
  const auto mode = optional_string(r, "field").value_or("");
  if (mode != "range" && !mode.empty()) bad("field must be \"range\" or absent");
  d.range = mode == "range";
  return d;
}

QueryRequest parse_query(const Json& r) {
  QueryRequest q;
  q.face_id = face_id_of(r);
  q.group_id = group_of(r);
  return q;
}

CompareRequest parse_compare(Json& r) {
  const Json& images = array_field(r, "image_base64");
  if (images.size() != 2) bad("image_base64 must hold exactly 2 images");
  auto strings = take_image_strings(r["image_base64"]);
  const auto landmarks = optional_landmarks(r, 2);
  CompareRequest c;
  for (size_t i = 0; i < 2; ++i) {
    c.images[i] = std::move(strings[i]);
    c.landmarks[i] = landmarks[i];
  }
  return c;
}

DetectRequest parse_detect(Json& r) {
  DetectRequest d;
  string_field(r, "image_base64");
  const auto mode = optional_string(r, "field").value_or("");
  if (!mode.empty() && mode != "portrait" && mode != "track") bad("field must be portrait or track");
  d.mode = mode == "portrait" ? DetectRequest::Mode::kPortrait
           : mode == "track"  ? DetectRequest::Mode::kTrack
                              : DetectRequest::Mode::kDetect;
  d.min_face = optional_int(r, "minface_size", 1, 100000).value_or(80);
  d.max_face = optional_int(r, "maxface_size", 1, 100000).value_or(300);
  if (d.min_face >= d.max_face) bad("minface_size must be smaller than maxface_size");
  if (auto classify = optional_string(r, "classify")) {
    std::stringstream ss(*classify);
    std::string item;
    while (std::getline(ss, item, ',')) {
      item.erase(std::remove_if(item.begin(), item.end(), [](unsigned char c) { return std::isspace(c); }),
                 item.end());
      if (item == "gender") d.gender = true;
      else if (item == "age") d.age = true;
      else if (item == "hair") d.hair = true;
      else if (!item.empty()) bad("classify items are gender, age, hair");
    }
  }
  if (d.mode == DetectRequest::Mode::kTrack) {
    d.camera_id = string_field(r, "camera_id");
    if (d.camera_id.empty()) bad("camera_id is empty");
    d.image_id = optional_string(r, "image_id");
  }
  d.image = std::move(r["image_base64"].get_ref<std::string&>());
  return d;
}

LivenessRequest parse_liveness(Json& r) {
  const Json& live = array_field(r, "live");
  if (live.empty() || live.size() > 4) bad("live must hold 1 to 4 pairs");
  LivenessRequest l;
  for (auto& item : r["live"]) {
    if (!item.is_object()) bad("each live entry is an object {type, image1_base64, image2_base64}");
    const auto action = live_action_from_name(string_field(item, "type"));
    if (!action) bad("live type must be blink, nod, shake or mouth");
    for (const auto& p : l.pairs)
      if (p.action == *action) bad("each live type may appear once");
    string_field(item, "image1_base64");
    string_field(item, "image2_base64");
    l.pairs.push_back({*action, std::move(item["image1_base64"].get_ref<std::string&>()),
                       std::move(item["image2_base64"].get_ref<std::string&>())});
  }
  return l;
}

}  // namespace

Envelope parse_envelope(std::string_view bytes, const ParseLimits& limits) {
  if (bytes.size() > limits.max_request_bytes) throw ProtocolError{kBadParameter, "request too large"};
  Envelope e;
  e.document = read_json(bytes);
  if (e.document.is_discarded() || !e.document.is_object()) throw ProtocolError{kBadJson, "not a JSON object"};
  if (auto it = e.document.find("api_key"); it != e.document.end() && it->is_string()) e.api_key = it->get<std::string>();
  return e;
}

int interface_of(const Envelope& envelope) {
  auto it = envelope.document.find("interface");
  if (it == envelope.document.end() || !it->is_string()) throw ProtocolError{kBadParameter, "interface must be a string"};
  const std::string& s = it->get_ref<const std::string&>();
  if (s.empty() || s.size() > 2 || s.find_first_not_of("0123456789") != std::string::npos ||
      (s.size() == 2 && s[0] == '0'))
    throw ProtocolError{kBadParameter, "unknown interface"};
  const int id = std::stoi(s);
  if (id >= kInterfaceCount) throw ProtocolError{kBadParameter, "unknown interface"};
  return id;
}

Request parse_body(Envelope& envelope, const ParseLimits& limits) {
  Json& r = envelope.document;
  switch (interface_of(envelope)) {
    case 0: return parse_register(r);
    case 1: return parse_search(r, limits);
    case 2: return parse_delete(r);
    case 3: return parse_query(r);
    case 4: return parse_compare(r);
    case 5: return parse_detect(r);
    case 6: {
      FeaturesRequest f;
      f.images = image_array(r);
      f.landmarks = optional_landmarks(r, f.images.size());
      return f;
    }
    case 7: return GenderRequest{image_array(r)};
    case 8: return AgeRequest{image_array(r)};
    case 9: return parse_liveness(r);
    case 10:
      string_field(r, "image1_base64");
      return PedestrianRequest{std::move(r["image1_base64"].get_ref<std::string&>())};
    case 11: return HairRequest{image_array(r)};
    default: return CountsRequest{optional_string(r, "group_id")};
  }
}

std::variant<Request, ProtocolError> parse(std::string_view bytes, const ParseLimits& limits) {
  try {
    Envelope e = parse_envelope(bytes, limits);
    return parse_body(e, limits);
  } catch (const ProtocolError& e) {
    return e;
  }
}

}  // namespace facekit::server
