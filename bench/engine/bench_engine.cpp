// Per-stage latency of the engine on a 640x480 one-face photo and a 1920x1280 group photo.
// usage: facekit_bench_engine ONE_FACE.jpg GROUP.jpg [runs=20] [min_face max_face]
//   (detect's face range: DetectOptions' defaults unless given; max_face 0 = no maximum)
// Stages: decode (JPEG bytes -> BGR), detect (pyramid -> BlazeFace -> FaceMesh -> pose,
// blur, glasses), extract (alignment -> faceres: descriptor + gender + age, all faces batched).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "detect/pyramid.h"
#include "facekit/engine.h"
#include "facekit/image.h"

namespace {

double median_ms(int runs, const std::function<void()>& f) {
  f();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

std::vector<uint8_t> jpeg_of(const cv::Mat& m) {
  std::vector<uint8_t> out;
  cv::imencode(".jpg", m, out, {cv::IMWRITE_JPEG_QUALITY, 92});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ONE_FACE.jpg GROUP.jpg [runs] [min_face max_face]\n", argv[0]);
    return 2;
  }
  const int runs = argc > 3 ? std::atoi(argv[3]) : 20;
  facekit::DetectOptions range;
  if (argc > 5) {
    range.min_face = std::atoi(argv[4]);
    range.max_face = std::atoi(argv[5]);
  }
  facekit::Engine engine;
  // The one-face photo, centre-cropped to 4:3 and resized to 640x480.
  cv::Mat one = cv::imread(argv[1]);
  const int h = std::min(one.rows, one.cols * 3 / 4), w = h * 4 / 3;
  cv::resize(one(cv::Rect((one.cols - w) / 2, (one.rows - h) / 2, w, h)), one, cv::Size(640, 480), 0, 0, cv::INTER_AREA);
  cv::Mat group = cv::imread(argv[2]);
  std::printf("| image | faces | detector passes | decode ms | detect ms | extract ms (all faces) | total ms |\n|---|---|---|---|---|---|---|\n");
  for (auto [label, mat] : {std::pair<const char*, cv::Mat>{"640x480, one face", one}, {"group photo", group}}) {
    const auto bytes = jpeg_of(mat);
    facekit::Image img;
    const double t_decode = median_ms(runs, [&] { img = facekit::decode_image(bytes.data(), bytes.size()); });
    std::vector<facekit::Face> faces;
    const double t_detect = median_ms(runs, [&] { faces = engine.detect(img, range); });
    std::vector<facekit::Landmarks5> lms;
    for (const auto& f : faces) lms.push_back(f.landmarks);
    const double t_extract = lms.empty() ? 0 : median_ms(runs, [&] { engine.extract(img, lms); });
    const auto windows = facekit::detect::plan_passes(img.width, img.height, static_cast<int>(range.min_face * 0.8f),
                                                                range.max_face > 0 ? range.max_face : 2 * std::max(img.width, img.height));
    std::string passes = std::to_string(windows.size()) + ":";
    for (const auto& p : windows) passes += " " + std::to_string(p.width) + "x" + std::to_string(p.height);
    std::printf("| %s (%dx%d) | %zu | %s | %.1f | %.1f | %.1f | %.1f |\n", label, img.width, img.height, faces.size(),
                passes.c_str(), t_decode, t_detect, t_extract, t_decode + t_detect + t_extract);
  }
  return 0;
}
