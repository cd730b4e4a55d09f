// Strict base64: a parser that takes bytes and returns bytes or a typed error (fuzzable).
#include <array>

#include "facekit/error.h"
#include "facekit/image.h"

namespace facekit {

namespace {

constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kTable = make_table();

std::string_view strip_data_url(std::string_view s) {
  if (s.substr(0, 5) == "data:") {
    const auto comma = s.find(',');
    if (comma == std::string_view::npos || s.substr(0, comma).find(";base64") == std::string_view::npos)
      throw Error(ErrorCode::kInvalidImage, "data URL without ;base64,");
    return s.substr(comma + 1);
  }
  return s;
}

}  // namespace

std::vector<uint8_t> decode_base64(std::string_view text) {
  text = strip_data_url(text);
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0, symbols = 0, padding = 0;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const int v = kTable[c];
    if (v < 0 || padding) throw Error(ErrorCode::kInvalidImage, "invalid base64 character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
    }
  }
  if (symbols % 4 == 1 || padding > 2 || (padding && (symbols + padding) % 4 != 0))
    throw Error(ErrorCode::kInvalidImage, "invalid base64 length");
  return out;
}

std::string encode_base64(const std::vector<uint8_t>& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int k = 3; k >= 0; --k) out += alphabet[(v >> (6 * k)) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = bytes[i] << 16;
    if (i + 1 < bytes.size()) v |= bytes[i + 1] << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace facekit
