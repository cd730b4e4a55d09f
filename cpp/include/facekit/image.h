#pragma once
/// Image decoding: bytes or base64 in, an Image or a typed Error out (never a crash).
#include <string>
#include <string_view>
#include <vector>

#include "facekit/types.h"

namespace facekit {

struct DecodeOptions {
  int64_t max_pixels = 40'000'000;  ///< larger images are rejected with kImageTooLarge
  /// Long side / short side above this is rejected (kImageTooLarge): a 20000x1 strip costs
  /// the detector as much as a 20000x256 photo (docs/RELIABILITY.md).
  int max_aspect_ratio = 16;
};

struct ImageSize {
  int width = 0, height = 0;
};

/// Width and height read from the header of a JPEG, PNG, BMP, WebP, TIFF or PNM image without
/// decoding it (before EXIF rotation). Throws Error(kInvalidImage) for any other or malformed
/// bytes: those formats are not accepted.
ImageSize read_image_size(const uint8_t* data, size_t size);
/// Throws Error(kImageTooLarge) if `size` breaks `options` (pixels, aspect ratio).
void check_image_size(const ImageSize& size, const DecodeOptions& options);

/// Strict base64 (RFC 4648, padding optional, whitespace ignored); a `data:image/...;base64,`
/// prefix is stripped. Throws Error(kInvalidImage) on any other character or bad length.
std::vector<uint8_t> decode_base64(std::string_view text);
std::string encode_base64(const std::vector<uint8_t>& bytes);

/// JPEG, PNG, BMP, WebP, TIFF, PNM, EXIF orientation applied, as BGR. The size is read from
/// the header and checked against `options` before anything is decoded.
Image decode_image(const uint8_t* data, size_t size, const DecodeOptions& options = {});
Image decode_image_base64(std::string_view text, const DecodeOptions& options = {});
/// Reads a file from disk (a path that cannot be read is kInvalidArgument).
Image read_image(const std::string& path, const DecodeOptions& options = {});
/// JPEG-encodes an image (quality 0..100).
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 90);

}  // namespace facekit
