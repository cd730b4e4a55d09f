// Images from requests: base64 -> header -> pixel budget -> decode.
#include "facekit/error.h"
#include "facekit/image.h"
#include "handlers/handlers.h"

namespace facekit::server {

Image decode(const std::string& image_b64, const DecodeOptions& options) {
  try {
    const auto bytes = decode_base64(image_b64);
    const ImageSize size = read_image_size(bytes.data(), bytes.size());  // the header only
    if (!spend_request_pixels(int64_t(size.width) * size.height))
      throw ProtocolError{kBadImage, "the request's images exceed max_request_pixels"};
    return decode_image(bytes.data(), bytes.size(), options);  // checks the size against options
  } catch (const Error&) {
    throw ProtocolError{kBadImage, "image is not valid base64, not an image, or too large"};
  }
}

}  // namespace facekit::server
