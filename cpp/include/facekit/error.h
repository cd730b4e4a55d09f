#pragma once
/// facekit's one error vocabulary. Every public call reports failure by throwing
/// facekit::Error; each boundary (Python, the zmq server) translates ErrorCode once.
#include <stdexcept>
#include <string>

namespace facekit {

enum class ErrorCode {
  kInvalidArgument,   ///< a value out of range, a wrong shape or type
  kInvalidImage,      ///< bytes or base64 that do not decode to an image
  kImageTooLarge,     ///< more pixels than the configured limit
  kNoFace,            ///< no face where one is required
  kMultipleFaces,     ///< more than one face where exactly one is required
  kModelUnavailable,  ///< a model file is missing, unreadable or fails its checksum
  kNotFound,          ///< a named thing (model, group, face) does not exist
  kDeadlineExceeded,  ///< the work ran past the caller's deadline (facekit/deadline.h)
  kUnavailable,       ///< a service facekit depends on (the PostgreSQL registry) cannot be reached; retry
  kInternal,          ///< a bug: an invariant broke
};

/// Short stable name of a code ("no_face"), for logs and Python.
const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace facekit

namespace facekit {
/// The wire protocol's error code (interfaces.md) for an engine error: the one table
/// shared by the server and the Python exceptions.
int protocol_error_code(ErrorCode code);
}  // namespace facekit
