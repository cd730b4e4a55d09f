#pragma once
// Switches read from the environment once per process, for A/B runs and benchmarks.
#include <cstdlib>
#include <cstring>

namespace facekit {

/// True unless the environment variable `name` is "0": a behaviour that is on by default.
inline bool env_switch_on(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr || std::strcmp(v, "0") != 0;
}

}  // namespace facekit
