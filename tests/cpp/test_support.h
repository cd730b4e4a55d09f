#pragma once
// Helpers shared by the test files: where the real photos are, and the code of a thrown Error.
#include <cstdlib>
#include <functional>
#include <string>

#include "facekit/error.h"

namespace facekit::testing {

/// A file under shared/data ($FACEKIT_SHARED_DATA overrides the build's path).
inline std::string shared(const std::string& rel) {
  const char* env = std::getenv("FACEKIT_SHARED_DATA");
  return std::string(env && *env ? env : FACEKIT_SHARED_DATA) + "/" + rel;
}

/// The ErrorCode `f` throws, or kInternal when it throws nothing.
inline ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kInternal;
}

}  // namespace facekit::testing
