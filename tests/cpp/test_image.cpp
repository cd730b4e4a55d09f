// Image input: base64 and image decoding take bytes and return values or typed errors.
#include <gtest/gtest.h>

#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "facekit/error.h"
#include "facekit/image.h"
#include "image/area_resize.h"
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
    } catch (const facekit::Error& e) {  // a damaged frame header may also claim a huge size
      EXPECT_TRUE(e.code() == ErrorCode::kInvalidImage || e.code() == ErrorCode::kImageTooLarge) << e.what();
    }
  }
}

TEST(ImageHeader, SizeOfEveryAcceptedFormatWithoutDecoding) {
  const cv::Mat img(37, 53, CV_8UC3, cv::Scalar(10, 200, 30));
  for (const char* ext : {".jpg", ".png", ".bmp", ".webp", ".tiff", ".ppm", ".pgm"}) {
    std::vector<uchar> buf;
    cv::Mat src = img;
    if (std::string(ext) == ".pgm") cv::cvtColor(img, src, cv::COLOR_BGR2GRAY);
    ASSERT_TRUE(cv::imencode(ext, src, buf)) << ext;
    const auto size = facekit::read_image_size(buf.data(), buf.size());
    EXPECT_EQ(size.width, 53) << ext;
    EXPECT_EQ(size.height, 37) << ext;
    EXPECT_EQ(facekit::decode_image(buf.data(), buf.size()).width, 53) << ext;
    for (size_t cut : {size_t{8}, size_t{12}, size_t{20}}) {  // truncated headers: typed errors only
      try {
        facekit::read_image_size(buf.data(), std::min(cut, buf.size()));
      } catch (const facekit::Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidImage) << ext;
      }
    }
  }
  const std::string gif = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
  EXPECT_EQ(code_of([&] { facekit::read_image_size(reinterpret_cast<const uint8_t*>(gif.data()), gif.size()); }),
            ErrorCode::kInvalidImage);
}

TEST(ImageHeader, ClaimedSizeAndAspectAreCheckedBeforeDecoding) {
  // A PNG header claiming 30000 x 30000 followed by nothing: refused by size, not by decoding.
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                              0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 2, 0, 0, 0};
  EXPECT_EQ(facekit::read_image_size(png.data(), png.size()).width, 30000);
  EXPECT_EQ(code_of([&] { facekit::decode_image(png.data(), png.size()); }), ErrorCode::kImageTooLarge);
  facekit::DecodeOptions o;
  EXPECT_EQ(code_of([&] { facekit::check_image_size({8000, 1}, o); }), ErrorCode::kImageTooLarge);
  EXPECT_NO_THROW(facekit::check_image_size({1600, 100}, o));
  EXPECT_EQ(code_of([&] { facekit::check_image_size({1601, 100}, o); }), ErrorCode::kImageTooLarge);
  o.max_aspect_ratio = 0;  // off
  EXPECT_NO_THROW(facekit::check_image_size({8000, 1}, o));
}

TEST(ImageHeader, RandomHeadersNeverCrash) {
  std::mt19937 rng(5);
  const std::vector<std::string> magics = {std::string("\xff\xd8\xff", 3), std::string("\x89PNG\r\n\x1a\n", 8), "BM",
                                           "RIFF\x10\x00\x00\x00WEBPVP8 ", std::string("II*\0", 4),
                                           std::string("MM\0*", 4), "P5", "P6 "};
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = magics[i % magics.size()];
    const size_t extra = rng() % 64;
    for (size_t k = 0; k < extra; ++k) bytes.push_back(static_cast<char>(rng()));
    try {
      const auto s = facekit::read_image_size(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      EXPECT_GT(s.width, 0);
      EXPECT_GT(s.height, 0);
    } catch (const facekit::Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidImage);
    }
  }
}

// The detector's pyramid levels come from image::resize_area, whose bytes must be OpenCV's
// INTER_AREA bytes (they set detector boxes and the readings that follow them).
TEST(AreaResize, SameBytesAsOpenCvOnRandomAndRealImages) {
  std::mt19937 rng(7);
  auto check = [](const cv::Mat& src, cv::Size size) {
    cv::Mat ours, theirs;
    facekit::image::resize_area(src, ours, size);
    cv::resize(src, theirs, size, 0, 0, cv::INTER_AREA);
    ASSERT_EQ(ours.size(), size);
    ASSERT_EQ(ours.type(), theirs.type());
    EXPECT_EQ(cv::norm(ours, theirs, cv::NORM_INF), 0) << src.size() << " -> " << size;
  };
  for (int i = 0; i < 60; ++i) {
    const int w = 2 + static_cast<int>(rng() % 700), h = 2 + static_cast<int>(rng() % 500);
    cv::Mat noise(h, w, CV_8UC3);
    cv::randu(noise, 0, 256);
    const cv::Size size(1 + static_cast<int>(rng() % w), 1 + static_cast<int>(rng() % h));
    check(noise, size);
  }
  // Real photos at the sizes the pyramid asks for (ratios 1.2 to 30, whole on one axis only,
  // a region of interest that is not continuous), a constant image (sums of equal terms).
  const cv::Mat head = cv::imread(facekit::testing::shared("faces-large/face/celebahq1024-27705.jpg"));
  const cv::Mat blink = cv::imread(facekit::testing::shared("blink/both_blink.jpg"));
  ASSERT_FALSE(head.empty());
  ASSERT_FALSE(blink.empty());
  for (cv::Size size : {cv::Size(320, 320), cv::Size(107, 107), cv::Size(36, 36), cv::Size(400, 400),
                        cv::Size(853, 853), cv::Size(512, 341), cv::Size(1000, 1)})
    check(head, size);
  for (cv::Size size : {cv::Size(288, 216), cv::Size(96, 72), cv::Size(32, 24), cv::Size(366, 200)}) check(blink, size);
  check(head(cv::Rect(13, 7, 900, 611)), {301, 203});
  check(cv::Mat(99, 77, CV_8UC3, cv::Scalar(255, 128, 1)), {10, 9});
  // Whole ratios over 2x2 (OpenCV's scalar fast path, here): the group photo's coarse level at
  // min_face 20 (1920x1080 -> 640x360), unequal factors, a region of interest, noise.
  for (cv::Size size : {cv::Size(340, 340), cv::Size(204, 204), cv::Size(170, 170), cv::Size(255, 340),
                        cv::Size(1020, 204), cv::Size(34, 34)})
    check(head(cv::Rect(0, 0, 1020, 1020)), size);
  check(head(cv::Rect(4, 0, 1020, 1020)), {340, 255});
  cv::Mat wide(1080, 1920, CV_8UC3);
  cv::randu(wide, 0, 256);
  check(wide, {640, 360});
  check(wide, {384, 216});
  check(cv::Mat(90, 90, CV_8UC3, cv::Scalar(255, 255, 255)), {30, 30});
  // Paths handed to OpenCV: the 2x2 ratio, other whole ratios, upscaling, one channel.
  check(head, {512, 512});
  check(head, {256, 256});
  check(blink, {1000, 700});
  cv::Mat grey;
  cv::cvtColor(head, grey, cv::COLOR_BGR2GRAY);
  check(grey, {300, 300});
}
