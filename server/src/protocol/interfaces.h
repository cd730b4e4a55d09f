#pragma once
// The thirteen interfaces and every rule that differs between them, in one table: which
// endpoint serves each, which rate limit it counts against, whether a key limited to some
// groups may call it without naming one, whether it is answered on the transport's thread
// (quick) and whether it may take long (heavy). The protocol, the transport set-up and
// `facekit_server --interfaces` read it; nothing else decides these per interface.
#include <cstddef>

namespace facekit::server {

enum class Endpoint { kFace, kPedestrian };

/// Which limiter a request counts against (docs/CONFIGURATION.md, max_requests, register_factor).
enum class RateClass { kNone, kGeneral, kRegister };

/// When a request that carries no image is answered on the transport's own thread: from
/// memory in well under a millisecond. `kLocalRegistry`: only while the registry is a local
/// SQLite file (a shared registry counts in PostgreSQL, which may take a round trip).
enum class Quick { kNever, kAlways, kLocalRegistry };

struct InterfaceSpec {
  int id;
  const char* name;
  Endpoint endpoint;
  RateClass rate;
  bool names_groups;  ///< touches groups: a key limited to some groups must name allowed ones
  Quick quick;
  bool heavy;         ///< can take long (detection, registration, liveness, pedestrians)
};

inline constexpr InterfaceSpec kInterfaces[] = {
    {0, "register", Endpoint::kFace, RateClass::kRegister, true, Quick::kNever, true},
    {1, "search", Endpoint::kFace, RateClass::kGeneral, true, Quick::kAlways, false},
    {2, "delete", Endpoint::kFace, RateClass::kNone, true, Quick::kNever, false},
    {3, "query", Endpoint::kFace, RateClass::kNone, true, Quick::kAlways, false},
    {4, "compare", Endpoint::kFace, RateClass::kGeneral, false, Quick::kNever, false},
    {5, "detect", Endpoint::kFace, RateClass::kGeneral, false, Quick::kNever, true},
    {6, "features", Endpoint::kFace, RateClass::kNone, false, Quick::kNever, false},
    {7, "gender", Endpoint::kFace, RateClass::kNone, false, Quick::kNever, false},
    {8, "age", Endpoint::kFace, RateClass::kNone, false, Quick::kNever, false},
    {9, "liveness", Endpoint::kFace, RateClass::kNone, false, Quick::kNever, true},
    {10, "pedestrians", Endpoint::kPedestrian, RateClass::kNone, false, Quick::kNever, true},
    {11, "hairstyle", Endpoint::kFace, RateClass::kNone, false, Quick::kNever, false},
    {12, "counts", Endpoint::kFace, RateClass::kNone, true, Quick::kLocalRegistry, false},
};

inline constexpr int kInterfaceCount = static_cast<int>(sizeof kInterfaces / sizeof kInterfaces[0]);

/// The row of interface `id` (0-12).
inline constexpr const InterfaceSpec& interface_spec(int id) { return kInterfaces[id]; }

static_assert([] {
  for (int i = 0; i < kInterfaceCount; ++i)
    if (kInterfaces[i].id != i) return false;
  return true;
}(), "kInterfaces is indexed by interface id");

}  // namespace facekit::server
