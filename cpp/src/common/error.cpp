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
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

const char* version() { return FACEKIT_VERSION; }

}  // namespace facekit
