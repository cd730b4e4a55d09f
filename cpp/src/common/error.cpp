#include "facekit/error.h"
#include "facekit/version.h"

namespace facekit {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kInvalidImage: return "invalid_image";
    case ErrorCode::kImageTooLarge: return "image_too_large";
    case ErrorCode::kNoFace: return "no_face";
    case ErrorCode::kMultipleFaces: return "multiple_faces";
    case ErrorCode::kModelUnavailable: return "model_unavailable";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kDeadlineExceeded: return "deadline_exceeded";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

int protocol_error_code(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 10005;
    case ErrorCode::kInvalidImage: return 10007;
    case ErrorCode::kImageTooLarge: return 10007;
    case ErrorCode::kNoFace: return 10002;
    case ErrorCode::kMultipleFaces: return 10003;
    case ErrorCode::kModelUnavailable:
    case ErrorCode::kNotFound:
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal: return 10004;
  }
  return 10004;
}

const char* version() { return FACEKIT_VERSION; }

}  // namespace facekit
