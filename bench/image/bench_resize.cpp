// image::resize_area (OpenCV's INTER_AREA, byte for byte) against cv::resize on the same
// photo and sizes, each in a phase of its own; median ms and whether the bytes agree.
// usage: facekit_bench_resize PHOTO [runs=30] [WxH...] (default: the pyramid levels of a
// 1024x1024 headshot from 64 px and the coarse level of a 1920x1080 photo from 32 px, the
// photo resized to each source size first)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "image/area_resize.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PHOTO [runs=30] [SRCWxSRCH:WxH...]\n", argv[0]);
    return 2;
  }
  const cv::Mat photo = cv::imread(argv[1]);
  if (photo.empty()) return 2;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 30;
  std::vector<std::pair<cv::Size, cv::Size>> cases;
  for (int a = 3; a < argc; ++a) {
    int sw, sh, w, h;
    if (std::sscanf(argv[a], "%dx%d:%dx%d", &sw, &sh, &w, &h) != 4) return 2;
    cases.push_back({{sw, sh}, {w, h}});
  }
  if (cases.empty())
    cases = {{{1024, 1024}, {320, 320}}, {{1024, 1024}, {107, 107}}, {{1024, 1024}, {36, 36}},
             {{1024, 1024}, {512, 512}}, {{1920, 1080}, {405, 228}}, {{732, 549}, {288, 216}}};
  auto median = [](std::vector<double> ms) {
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    return ms[ms.size() / 2];
  };
  std::printf("| source -> size | resize_area ms | cv::resize ms | ratio | same bytes |\n|---|---|---|---|---|\n");
  for (const auto& [from, to] : cases) {
    cv::Mat src, ours, theirs;
    cv::resize(photo, src, from, 0, 0, cv::INTER_LINEAR);
    // Each in a phase of its own: resize_area shares rows out on ATen's OpenMP team and
    // cv::resize on OpenCV's pool, and alternating calls met the other pool's threads still
    // spinning (resize_area 4.9 against 2.3 ms at 1920x1280 -> 540x360).
    auto time_runs = [&](const std::function<void()>& call) {
      std::vector<double> ms;
      for (int i = 0; i < runs + 2; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        call();
        if (i >= 2) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      return ms;
    };
    const auto a = time_runs([&] { facekit::image::resize_area(src, ours, to); });
    const auto b = time_runs([&] { cv::resize(src, theirs, to, 0, 0, cv::INTER_AREA); });
    const double ma = median(a), mb = median(b);
    std::printf("| %dx%d -> %dx%d | %.2f | %.2f | %.2f | %s |\n", from.width, from.height, to.width, to.height, ma, mb,
                ma / mb, cv::norm(ours, theirs, cv::NORM_INF) == 0 ? "yes" : "NO");
  }
  return 0;
}
