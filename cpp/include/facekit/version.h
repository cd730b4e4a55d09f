#pragma once
namespace facekit {
/// The library version, as in pyproject.toml.
const char* version();
}  // namespace facekit
