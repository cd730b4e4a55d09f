// Image input: base64 and image decoding take bytes and return values or typed errors.
#include <gtest/gtest.h>

#include <random>

#include "facekit/error.h"
#include "facekit/image.h"
#include "test_support.h"

using facekit::ErrorCode;
using facekit::testing::code_of;

namespace {
std::vector<uint8_t> tiny_png() {
  facekit::Image img;
  img.width = 7;
  img.height = 5;
  img.bgr.assign(7 * 5 * 3, 0);
  for (size_t i = 0; i < img.bgr.size(); ++i) img.bgr[i] = static_cast<uint8_t>(i * 7);
  return facekit::encode_jpeg(img, 100);
}
}  // namespace

TEST(Base64, RoundTripsEveryLength) {
  std::mt19937 rng(1);
  for (size_t n = 0; n < 40; ++n) {
    std::vector<uint8_t> bytes(n);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    EXPECT_EQ(facekit::decode_base64(facekit::encode_base64(bytes)), bytes) << n;
  }
}

TEST(Base64, KnownVectorsAndLenientWhitespaceAndPadding) {
  auto s = [](const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); };
  EXPECT_EQ(s(facekit::decode_base64("Zm9vYmFy")), "foobar");
  EXPECT_EQ(s(facekit::decode_base64("Zm9vYg==")), "foob");
  EXPECT_EQ(s(facekit::decode_base64("Zm9vYg")), "foob");
  EXPECT_EQ(s(facekit::decode_base64("Zm9v\nYmFy\r\n")), "foobar");
  EXPECT_EQ(s(facekit::decode_base64("data:image/png;base64,Zm9v")), "foo");
}

TEST(Base64, RejectsGarbage) {
  for (const char* bad : {"Zm9v!mFy", "Z", "Zm9vY===", "Zm=9v", "data:image/png,Zm9v", "Zm9vYg=x"})
    EXPECT_EQ(code_of([&] { facekit::decode_base64(bad); }), ErrorCode::kInvalidImage) << bad;
}

TEST(Decode, DecodesAnEncodedImage) {
  auto bytes = tiny_png();
  auto img = facekit::decode_image(bytes.data(), bytes.size());
  EXPECT_EQ(img.width, 7);
  EXPECT_EQ(img.height, 5);
  EXPECT_EQ(img.bgr.size(), 7u * 5 * 3);
}

TEST(Decode, RejectsEmptyTruncatedAndNonImageBytes) {
  EXPECT_EQ(code_of([] { facekit::decode_image(nullptr, 0); }), ErrorCode::kInvalidImage);
  const std::string text = "definitely not an image";
  EXPECT_EQ(code_of([&] { facekit::decode_image(reinterpret_cast<const uint8_t*>(text.data()), text.size()); }),
            ErrorCode::kInvalidImage);
  auto bytes = tiny_png();
  EXPECT_EQ(code_of([&] { facekit::decode_image(bytes.data(), 20); }), ErrorCode::kInvalidImage);
}

TEST(Decode, EnforcesThePixelLimit) {
  auto bytes = tiny_png();
  facekit::DecodeOptions o;
  o.max_pixels = 34;
  EXPECT_EQ(code_of([&] { facekit::decode_image(bytes.data(), bytes.size(), o); }), ErrorCode::kImageTooLarge);
}

TEST(Decode, RandomBytesNeverCrash) {
  std::mt19937 rng(3);
  auto jpeg = tiny_png();
  for (int i = 0; i < 300; ++i) {
    auto bytes = jpeg;
    for (int k = 0; k < 1 + i % 8; ++k) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    try {
      facekit::decode_image(bytes.data(), bytes.size());
    } catch (const facekit::Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidImage);
    }
  }
}
