#pragma once
// Every code a reply's `error_message` can carry (shared/spec/interfaces.md), success codes
// included, in one table: the protocol and the handlers name codes from it, the transport
// answers its own refusals with it, and `facekit_server --wire-codes` prints it for the Python
// client's table to be tested against (tests/conformance/test_wire_tables.py).
#include <cstddef>
#include <string>

namespace facekit::server {

enum WireCode : int {
  // Success and result codes, per interface.
  kRegistered = 101,
  kRegisteredPartly = 102,
  kFound = 201,
  kNotFound = 202,
  kDeleted = 301,
  kNothingDeleted = 302,
  kPresent = 401,
  kAbsent = 402,
  kSamePerson = 501,
  kDifferentPeople = 502,
  kDetected = 601,
  kFeatures = 701,
  kGenders = 801,
  kAges = 901,
  kLiveness = 1001,
  kPedestrians = 1101,
  kHairstyles = 1201,
  kCounts = 1301,
  // Errors.
  kUnknownKey = 10001,
  kNoFace = 10002,
  kManyFaces = 10003,
  kServerError = 10004,
  kBadParameter = 10005,
  kBadJson = 10006,
  kBadImage = 10007,
  kRateLimited = 10008,
  kEmptyArray = 10009,
  kForbidden = 10010,
};

struct WireCodeInfo {
  WireCode code;
  int interface_id;  ///< the interface answering it; -1: an error any interface may answer
  const char* meaning;
};

inline constexpr WireCodeInfo kWireCodes[] = {
    {kRegistered, 0, "every person registered"},
    {kRegisteredPartly, 0, "some persons not registered (failed_face_id, failed_message)"},
    {kFound, 1, "faces above the threshold"},
    {kNotFound, 1, "no face above the threshold"},
    {kDeleted, 2, "at least one face deleted"},
    {kNothingDeleted, 2, "no face matched"},
    {kPresent, 3, "registered"},
    {kAbsent, 3, "not registered"},
    {kSamePerson, 4, "the same person"},
    {kDifferentPeople, 4, "not the same person"},
    {kDetected, 5, "faces detected"},
    {kFeatures, 6, "features extracted"},
    {kGenders, 7, "gender of each image"},
    {kAges, 8, "age of each image"},
    {kLiveness, 9, "liveness checked"},
    {kPedestrians, 10, "persons detected"},
    {kHairstyles, 11, "hairstyle of each image"},
    {kCounts, 12, "registry counts"},
    {kUnknownKey, -1, "unknown api_key"},
    {kNoFace, -1, "no face found"},
    {kManyFaces, -1, "more than one face"},
    {kServerError, -1, "server error"},
    {kBadParameter, -1, "parameter error"},
    {kBadJson, -1, "not a JSON object"},
    {kBadImage, -1, "invalid base64 image"},
    {kRateLimited, -1, "rate limit exceeded"},
    {kEmptyArray, -1, "empty array"},
    {kForbidden, -1, "not authorised"},
};

/// The code as the wire writes it: "101", "10005".
inline std::string wire_text(WireCode code) { return std::to_string(static_cast<int>(code)); }

/// A failure to answer with a wire code (thrown by parsing and handlers).
struct ProtocolError {
  WireCode code;
  std::string message;
};

}  // namespace facekit::server
