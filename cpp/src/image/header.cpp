// Image dimensions from the first bytes of a file, before any decoding: so that a request's
// cost is bounded (pixels, aspect ratio) before a decoder allocates anything. Only the formats
// whose header is read here are accepted; everything else is refused as not an image.
#include <cstring>
#include <string>

#include "facekit/error.h"
#include "facekit/image.h"

namespace facekit {

namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::kInvalidImage, what); }

uint32_t be16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
uint32_t le16(const uint8_t* p) { return (uint32_t(p[1]) << 8) | p[0]; }
uint32_t le24(const uint8_t* p) { return (uint32_t(p[2]) << 16) | (uint32_t(p[1]) << 8) | p[0]; }
uint32_t le32(const uint8_t* p) { return (uint32_t(p[3]) << 24) | (uint32_t(p[2]) << 16) | (uint32_t(p[1]) << 8) | p[0]; }

ImageSize sized(uint64_t w, uint64_t h, const char* format) {
  if (w == 0 || h == 0 || w > (1u << 30) || h > (1u << 30))
    bad(std::string(format) + " header gives an impossible size " + std::to_string(w) + "x" + std::to_string(h));
  return {static_cast<int>(w), static_cast<int>(h)};
}

// Markers until a start-of-frame (any SOFn but DHT C4, JPG C8, DAC CC); each segment is
// skipped by its length, so scanning is linear in the header, not the image.
ImageSize jpeg_size(const uint8_t* d, size_t n) {
  size_t i = 2;
  while (i + 4 <= n) {
    if (d[i] != 0xFF) bad("JPEG marker expected");
    const uint8_t m = d[i + 1];
    if (m == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    if (m == 0xD9 || m == 0xDA) bad("JPEG without a frame header");
    const size_t len = be16(d + i + 2);
    if (len < 2) bad("JPEG segment too short");
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      if (i + 9 > n) bad("JPEG frame header truncated");
      return sized(be16(d + i + 7), be16(d + i + 5), "JPEG");
    }
    i += 2 + len;
  }
  bad("JPEG header truncated");
}

ImageSize tiff_size(const uint8_t* d, size_t n) {
  const bool little = d[0] == 'I';
  auto u16 = [&](size_t at) { return little ? le16(d + at) : be16(d + at); };
  auto u32 = [&](size_t at) { return little ? le32(d + at) : be32(d + at); };
  const size_t ifd = u32(4);
  if (ifd + 2 > n) bad("TIFF directory outside the file");
  const size_t count = u16(ifd);
  uint64_t w = 0, h = 0;
  for (size_t k = 0; k < count; ++k) {
    const size_t e = ifd + 2 + 12 * k;
    if (e + 12 > n) bad("TIFF directory truncated");
    const uint32_t tag = u16(e), type = u16(e + 2);
    if (tag != 256 && tag != 257) continue;
    const uint64_t v = type == 3 ? u16(e + 8) : type == 4 ? u32(e + 8) : 0;
    (tag == 256 ? w : h) = v;
  }
  return sized(w, h, "TIFF");
}

// "P1".."P6": width and height are the first two decimal tokens after the magic ('#' starts
// a comment that runs to the end of the line).
ImageSize pnm_size(const uint8_t* d, size_t n) {
  size_t i = 2;
  uint64_t v[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    for (;;) {
      if (i >= n) bad("PNM header truncated");
      if (d[i] == '#') {
        while (i < n && d[i] != '\n' && d[i] != '\r') ++i;
      } else if (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r' || d[i] == '\v' || d[i] == '\f') {
        ++i;
      } else {
        break;
      }
    }
    size_t digits = 0;
    while (i < n && d[i] >= '0' && d[i] <= '9' && digits < 11) v[k] = v[k] * 10 + (d[i++] - '0'), ++digits;
    if (digits == 0) bad("PNM size is not a number");
  }
  return sized(v[0], v[1], "PNM");
}

ImageSize webp_size(const uint8_t* d, size_t n) {
  if (n < 30) bad("WebP header truncated");
  if (std::memcmp(d + 12, "VP8 ", 4) == 0) {
    if (d[23] != 0x9d || d[24] != 0x01 || d[25] != 0x2a) bad("WebP VP8 frame tag missing");
    return sized(le16(d + 26) & 0x3fff, le16(d + 28) & 0x3fff, "WebP");
  }
  if (std::memcmp(d + 12, "VP8L", 4) == 0) {
    if (d[20] != 0x2f) bad("WebP lossless signature missing");
    const uint32_t b = le32(d + 21);
    return sized((b & 0x3fff) + 1, ((b >> 14) & 0x3fff) + 1, "WebP");
  }
  if (std::memcmp(d + 12, "VP8X", 4) == 0) return sized(le24(d + 24) + 1, le24(d + 27) + 1, "WebP");
  bad("WebP chunk not understood");
}

}  // namespace

ImageSize read_image_size(const uint8_t* d, size_t n) {
  if (!d || n < 8) bad("too short to be an image");
  if (d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return jpeg_size(d, n);
  if (std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) {
    if (n < 24 || std::memcmp(d + 12, "IHDR", 4) != 0) bad("PNG without IHDR");
    return sized(be32(d + 16), be32(d + 20), "PNG");
  }
  if (d[0] == 'B' && d[1] == 'M') {
    if (n < 26) bad("BMP header truncated");
    const uint32_t dib = le32(d + 14);
    if (dib == 12) return sized(le16(d + 18), le16(d + 20), "BMP");
    const int32_t w = static_cast<int32_t>(le32(d + 18)), h = static_cast<int32_t>(le32(d + 22));
    return sized(w < 0 ? 0 : static_cast<uint64_t>(w), h < 0 ? uint64_t(-int64_t(h)) : uint64_t(h), "BMP");
  }
  if (n >= 16 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) return webp_size(d, n);
  if ((std::memcmp(d, "II*\0", 4) == 0) || (std::memcmp(d, "MM\0*", 4) == 0)) return tiff_size(d, n);
  if (d[0] == 'P' && d[1] >= '1' && d[1] <= '6') return pnm_size(d, n);
  bad("not a JPEG, PNG, BMP, WebP, TIFF or PNM image");
}

}  // namespace facekit
