#include "analyze/glasses.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "analyze/glasses_weights.h"

namespace facekit::analyze {
namespace {

static_assert(glasses_weights::kFeatures == kGlassesFeatures, "regenerate glasses_weights.h");

// Boxes (x0, y0, x1, y1), end-exclusive, in the ArcFace 112 template (eyes at y = 51.6,
// x = 38.3 / 73.5). Keep in step with bench/accuracy/glasses.py.
struct Box {
  int x0, y0, x1, y1;
};
constexpr Box kRef{24, 20, 88, 96};
constexpr Box kCheek[2] = {{26, 72, 48, 86}, {64, 72, 86, 86}};
constexpr Box kLens[2] = {{26, 44, 50, 60}, {62, 44, 86, 60}};
constexpr Box kUnder[2] = {{26, 60, 50, 68}, {62, 60, 86, 68}};
constexpr Box kOuter[2] = {{16, 44, 26, 62}, {86, 44, 96, 62}};
constexpr Box kNose{50, 62, 62, 76};
constexpr Box kBridge{52, 44, 60, 58};
constexpr Box kRowEdges[7] = {{50, 40, 62, 62}, {24, 32, 52, 48}, {60, 32, 88, 48}, {24, 56, 52, 72},
                              {60, 56, 88, 72}, {8, 40, 22, 62},  {90, 40, 104, 62}};
constexpr Box kColEdges[4] = {{12, 42, 30, 64}, {82, 42, 100, 64}, {44, 42, 56, 62}, {56, 42, 68, 62}};
constexpr Box kAbsGy[6] = {{50, 42, 62, 58}, {8, 44, 22, 60},  {90, 44, 104, 60},
                           {24, 60, 52, 70}, {60, 60, 88, 70}, {30, 74, 82, 86}};
constexpr Box kOldBridge{50, 44, 62, 58};

// Pixels of the boxes, one set.
std::vector<double> pixels(const cv::Mat& img, std::initializer_list<Box> boxes) {
  std::vector<double> v;
  for (const Box& b : boxes)
    for (int y = b.y0; y < b.y1; ++y) {
      const float* row = img.ptr<float>(y);
      for (int x = b.x0; x < b.x1; ++x) v.push_back(row[x]);
    }
  return v;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double stddev(const std::vector<double>& v) {  // population, as numpy's std
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

double fraction_below(const std::vector<double>& v, double limit) {
  return static_cast<double>(std::count_if(v.begin(), v.end(), [limit](double x) { return x < limit; })) /
         static_cast<double>(v.size());
}

// numpy.percentile's default (linear interpolation between order statistics); `sorted` ascending.
double percentile(const std::vector<double>& sorted, double q) {
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// Max over the box's rows (axis 1) or columns (axis 0) of |mean signed gradient|: a long
// straight edge (a frame's rim, bridge or temple) adds up, texture cancels out.
double coherent_edge(const cv::Mat& grad, const Box& b, bool rows) {
  double best = 0;
  const int outer = rows ? b.y1 - b.y0 : b.x1 - b.x0, inner = rows ? b.x1 - b.x0 : b.y1 - b.y0;
  for (int i = 0; i < outer; ++i) {
    double s = 0;
    for (int j = 0; j < inner; ++j)
      s += rows ? grad.at<float>(b.y0 + i, b.x0 + j) : grad.at<float>(b.y0 + j, b.x0 + i);
    best = std::max(best, std::abs(s / inner));
  }
  return best;
}

double mean_abs(const cv::Mat& grad, const Box& b) {
  double s = 0;
  for (int y = b.y0; y < b.y1; ++y)
    for (int x = b.x0; x < b.x1; ++x) s += std::abs(grad.at<float>(y, x));
  return s / static_cast<double>((b.y1 - b.y0) * (b.x1 - b.x0));
}

// Per-thread buffers: the images are reused from call to call (fresh ones cost more in page
// faults than the arithmetic).
struct Workspace {
  cv::Mat grey, raw, blurred, gx, gy, raw_gy;
};

Workspace& workspace() {
  thread_local Workspace w;
  return w;
}

const cv::Mat& grey_float(const cv::Mat& aligned, Workspace& w) {
  if (aligned.rows != 112 || aligned.cols != 112 || aligned.depth() != CV_8U ||
      (aligned.channels() != 3 && aligned.channels() != 1))
    throw std::invalid_argument("glasses: need a 112x112 8-bit BGR or grey aligned crop");
  if (aligned.channels() == 3) {
    cv::cvtColor(aligned, w.grey, cv::COLOR_BGR2GRAY);
    w.grey.convertTo(w.raw, CV_32F);
  } else {
    aligned.convertTo(w.raw, CV_32F);
  }
  return w.raw;
}

float old_bridge(const cv::Mat& raw, Workspace& w) {
  cv::Sobel(raw, w.raw_gy, CV_32F, 0, 1, 3);
  return static_cast<float>(mean_abs(w.raw_gy, kOldBridge));
}

}  // namespace

float bridge_gradient(const cv::Mat& aligned_bgr112) {
  Workspace& w = workspace();
  return old_bridge(grey_float(aligned_bgr112, w), w);
}

std::array<float, kGlassesFeatures> glasses_features(const cv::Mat& aligned_bgr112) {
  Workspace& w = workspace();
  const cv::Mat& raw = grey_float(aligned_bgr112, w);
  const cv::Mat &g = w.blurred, &gx = w.gx, &gy = w.gy;
  cv::GaussianBlur(raw, w.blurred, cv::Size(3, 3), 0);
  cv::Sobel(g, w.gx, CV_32F, 1, 0, 3);
  cv::Sobel(g, w.gy, CV_32F, 0, 1, 3);

  const double sd = stddev(pixels(g, {kRef})) + 1.0;
  const auto cheek = pixels(g, {kCheek[0], kCheek[1]});
  auto lens = pixels(g, {kLens[0], kLens[1]});
  const auto under = pixels(g, {kUnder[0], kUnder[1]});
  const double cheek_mean = mean(cheek), cm = cheek_mean + 1.0;
  const double lm = mean(lens), um = mean(under);
  const double nose = mean(pixels(g, {kNose})) + 1.0;
  const double lens_sd = stddev(lens);
  const double lens_dark = fraction_below(lens, 0.5 * cm);
  std::sort(lens.begin(), lens.end());
  const double p10 = percentile(lens, 10), p25 = percentile(lens, 25), p75 = percentile(lens, 75),
               p90 = percentile(lens, 90);

  std::array<float, kGlassesFeatures> f{};
  int i = 0;
  auto put = [&](double v) { f[i++] = static_cast<float>(v); };
  put((lm - cheek_mean) / sd);
  put(lens_sd / sd);
  put(lm / 255);
  put(p10 / 255);
  put(p90 / 255);
  put(lm / cm);
  put(lens_dark);
  put(p90 / cm);
  put(cheek_mean / 255);
  put((mean(pixels(g, {kBridge})) - cheek_mean) / sd);
  for (const Box& b : kRowEdges) put(coherent_edge(gy, b, true) / sd);
  for (const Box& b : kColEdges) put(coherent_edge(gx, b, false) / sd);
  for (const Box& b : kAbsGy) put(mean_abs(gy, b) / sd);
  put(um / cm);
  put((um - cheek_mean) / sd);
  put(fraction_below(under, 0.6 * cm));
  put(mean(pixels(g, {kOuter[0], kOuter[1]})) / cm);
  put((p75 - p25) / sd);
  put(lm / nose);
  put(um / nose);
  const double old = old_bridge(raw, w);
  put(old / 100);
  put(std::log1p(old));
  return f;
}

std::array<float, 3> glasses_scores(const cv::Mat& aligned_bgr112) {
  const auto f = glasses_features(aligned_bgr112);
  std::array<float, 3> s = glasses_weights::kGlassesB;
  for (int i = 0; i < kGlassesFeatures; ++i)
    for (int k = 0; k < 3; ++k) s[k] += f[i] * glasses_weights::kGlassesW[i][k];
  return s;
}

GlassesKind glasses_kind(const cv::Mat& aligned_bgr112) {
  const auto s = glasses_scores(aligned_bgr112);
  return static_cast<GlassesKind>(std::max_element(s.begin(), s.end()) - s.begin());
}

}  // namespace facekit::analyze
