#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "facekit/error.h"
#include "facekit/image.h"
#include "image/cv_image.h"

namespace facekit {

void check_image_size(const ImageSize& s, const DecodeOptions& options) {
  const int64_t pixels = int64_t(s.width) * s.height;
  if (pixels > options.max_pixels)
    throw Error(ErrorCode::kImageTooLarge, "image has " + std::to_string(pixels) + " pixels (" +
                                               std::to_string(s.width) + "x" + std::to_string(s.height) + "), limit " +
                                               std::to_string(options.max_pixels));
  const int long_side = std::max(s.width, s.height), short_side = std::min(s.width, s.height);
  if (options.max_aspect_ratio > 0 && int64_t(long_side) > int64_t(options.max_aspect_ratio) * short_side)
    throw Error(ErrorCode::kImageTooLarge, "image is " + std::to_string(s.width) + "x" + std::to_string(s.height) +
                                               ": sides differ more than " +
                                               std::to_string(options.max_aspect_ratio) + " times");
}

Image decode_image(const uint8_t* data, size_t size, const DecodeOptions& options) {
  if (!data || size == 0) throw Error(ErrorCode::kInvalidImage, "empty image");
  if (size > static_cast<size_t>(INT32_MAX)) throw Error(ErrorCode::kImageTooLarge, "image bytes too large");
  const ImageSize header = read_image_size(data, size);
  check_image_size(header, options);  // before the decoder allocates anything
  cv::Mat img;
  try {
    cv::Mat buf(1, static_cast<int>(size), CV_8UC1, const_cast<uint8_t*>(data));
    // IMREAD_COLOR applies the EXIF orientation and converts grey/alpha to BGR.
    img = cv::imdecode(buf, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::kInvalidImage, std::string("cannot decode image: ") + e.what());
  }
  if (img.empty()) throw Error(ErrorCode::kInvalidImage, "bytes are not a decodable image");
  if (int64_t(img.cols) * img.rows != int64_t(header.width) * header.height)  // a header that lied
    throw Error(ErrorCode::kInvalidImage, "decoded size differs from the image header's");
  return from_mat(img);
}

Image decode_image_base64(std::string_view text, const DecodeOptions& options) {
  const auto bytes = decode_base64(text);
  return decode_image(bytes.data(), bytes.size(), options);
}

Image read_image(const std::string& path, const DecodeOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(ErrorCode::kInvalidArgument, "not a file: " + path);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::kInvalidArgument, "cannot read " + path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return decode_image(bytes.data(), bytes.size(), options);
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  if (image.empty()) throw Error(ErrorCode::kInvalidArgument, "empty image");
  std::vector<uint8_t> out;
  cv::imencode(".jpg", as_mat(image), out, {cv::IMWRITE_JPEG_QUALITY, quality});
  return out;
}

}  // namespace facekit
