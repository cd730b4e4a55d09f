// Image bytes from a client: the header reader, the size checks and OpenCV's decoders behind
// them must return an Image or a typed facekit::Error, never crash, leak or read out of bounds;
// the base64 layer in front of them likewise. A decoded image is never larger than its header.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "facekit/error.h"
#include "facekit/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  facekit::DecodeOptions options;
  options.max_pixels = 1 << 22;  // keeps each run quick; the limit logic is what is under test
  try {
    const auto header = facekit::read_image_size(data, size);
    if (header.width <= 0 || header.height <= 0) __builtin_trap();
  } catch (const facekit::Error&) {
  }
  try {
    const auto image = facekit::decode_image(data, size, options);
    if (image.empty() || int64_t(image.width) * image.height > options.max_pixels ||
        image.bgr.size() != size_t(image.width) * image.height * 3)
      __builtin_trap();
  } catch (const facekit::Error&) {
  }
  try {
    facekit::decode_base64(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const facekit::Error&) {
  }
  return 0;
}
