#include "detect/pyramid.h"

#include <algorithm>
#include <cmath>

namespace facekit::detect {

namespace {

int round_up(int v, int m) { return (v + m - 1) / m * m; }

// Starts of blocks of `side` covering [0, length) with `overlap` shared pixels; one centred
// block (a negative start) when `length` fits.
std::vector<int> block_starts(int length, int side, int overlap) {
  if (length <= side) return {-(side - length) / 2};
  const int stride = std::max(kStride, side - overlap);
  const int n = static_cast<int>(std::ceil(static_cast<double>(length - side) / stride)) + 1;
  std::vector<int> s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<int>(std::lround(static_cast<double>(i) * (length - side) / (n - 1))));
  return s;
}

}  // namespace

cv::Size scaled_size(cv::Size size, double scale) {
  return {std::max(1, static_cast<int>(std::lround(size.width * scale))),
          std::max(1, static_cast<int>(std::lround(size.height * scale)))};
}

namespace {
// Never upscaled: a face below ~kMinFaceAtInput px has too few pixels to gain from it, and
// the cost stays bounded by the image's own pixels.
double scale_for(float face_at_input, int min_face) {
  return std::min(1.0, static_cast<double>(face_at_input) / std::max(min_face, 4));
}
double finest_scale(int min_face) { return scale_for(kMinFaceAtInput, min_face); }
// ... and no more image pixels than kMaxScanPixels.
double scan_cap(int width, int height) {
  const double pixels = static_cast<double>(width) * height;
  return pixels > kMaxScanPixels ? std::sqrt(kMaxScanPixels / pixels) : 1.0;
}
double finest_scale(int width, int height, int min_face) {
  return std::min(finest_scale(min_face), scan_cap(width, height));
}
}  // namespace

int scanned_min_face(int width, int height, int min_face) {
  if (width <= 0 || height <= 0 || finest_scale(width, height, min_face) >= finest_scale(min_face)) return min_face;
  return std::max(min_face, static_cast<int>(std::ceil(kMinFaceAtInput / finest_scale(width, height, min_face))));
}

Pass whole_image_pass(int width, int height, int side) {
  const double scale = std::min(1.0, static_cast<double>(side) / std::max(width, height));
  const cv::Size size = scaled_size({width, height}, scale);
  const int w = round_up(size.width, kStride), h = round_up(size.height, kStride);
  return {scale, (w - size.width) / 2, (h - size.height) / 2, w, h};
}

int one_level_max_face(int min_face) {
  const double biggest = std::min<double>(kMaxFaceAtInput, kFaceShareOfInput * kTrainedSide);
  return std::max(std::max(min_face, 4) + 1, static_cast<int>(std::floor(biggest / finest_scale(min_face))));
}

std::vector<Pass> plan_passes(int width, int height, int min_face, int max_face) {
  std::vector<Pass> out;
  if (width <= 0 || height <= 0) return out;
  min_face = std::max(min_face, 4);
  max_face = std::max(max_face, min_face + 1);
  double scale = finest_scale(width, height, min_face);
  // The coarser levels: kLevelRatio apart from where the finest would be at kLevelFaceAtInput.
  double grid = std::min(scale_for(kLevelFaceAtInput, min_face), scan_cap(width, height));
  while (true) {
    const bool last = max_face * scale <= kMaxFaceAtInput;
    // The biggest face this level must catch whole: it sets the seam between blocks and,
    // on the last level, the padding around a face that fills the image (a tight crop).
    const double biggest = last ? max_face * scale : kLevelBiggestFace;
    const cv::Size image = scaled_size({width, height}, scale);
    const int sw = image.width, sh = image.height;
    // Context around a face (kFaceShareOfInput); the input the level shares is padded to
    // kTrainedSide (pack_passes).
    const int context = std::max(kMinPassSide, static_cast<int>(std::ceil(biggest / kFaceShareOfInput)));
    const int cw = round_up(std::max(sw, context), kStride), ch = round_up(std::max(sh, context), kStride);
    if (cw * ch <= kMaxPassPixels && cw <= kMaxPassSide && ch <= kMaxPassSide) {
      out.push_back({scale, (cw - sw) / 2, (ch - sh) / 2, cw, ch});  // centred in its padding
    } else {
      const int overlap = round_up(static_cast<int>(std::ceil(biggest * 1.1)), kStride);
      // As few blocks as fit, each no bigger than it must be: 1280 px is two of 704, not 1024.
      auto block_side = [&](int canvas, int length) {
        if (canvas <= kMaxBlockSide) return canvas;
        const int n = (length - overlap + (kMaxBlockSide - overlap) - 1) / (kMaxBlockSide - overlap);
        return std::min(kMaxBlockSide, round_up((length + (n - 1) * overlap + n - 1) / n, kStride));
      };
      const int bw = block_side(cw, sw), bh = block_side(ch, sh);
      for (int y : block_starts(sh, bh, overlap))
        for (int x : block_starts(sw, bw, overlap)) out.push_back({scale, -x, -y, bw, bh});
    }
    if (last) break;
    grid /= kLevelRatio;
    scale = grid;
  }
  // A level alone is centred in a kTrainedSide input, not in a corner of one.
  if (out.size() == 1 && (out[0].width < kTrainedSide || out[0].height < kTrainedSide)) {
    Pass& p = out[0];
    const int w = std::max(p.width, kTrainedSide), h = std::max(p.height, kTrainedSide);
    p.x += (w - p.width) / 2, p.y += (h - p.height) / 2, p.width = w, p.height = h;
  }
  return out;
}

std::vector<Pack> pack_passes(const std::vector<Pass>& passes, int min_side) {
  std::vector<Pack> out;
  int column_x = 0, column_y = 0, column_w = 0;  // the last column of the last pack
  for (const Pass& p : passes) {
    const bool small = p.width <= kPackMaxSide && p.height <= kPackMaxSide;
    Pack* k = out.empty() || !small ? nullptr : &out.back();
    if (k && (k->passes.front().width > kPackMaxSide || k->passes.front().height > kPackMaxSide)) k = nullptr;
    if (k && column_y + p.height <= k->height && column_x + std::max(column_w, p.width) <= kPackMaxWidth) {
      column_w = std::max(column_w, p.width);  // under the last one
    } else if (k && k->width + p.width <= kPackMaxWidth) {
      column_x = k->width, column_y = 0, column_w = p.width;  // a new column
    } else {
      out.emplace_back();
      k = &out.back();
      column_x = column_y = 0, column_w = p.width;
    }
    k->passes.push_back(p);
    k->origin.emplace_back(column_x, column_y);
    column_y += p.height;
    k->width = std::max(k->width, column_x + column_w);
    k->height = std::max(k->height, column_y);
  }
  for (Pack& k : out) k.width = std::max(k.width, min_side), k.height = std::max(k.height, min_side);
  return out;
}

}  // namespace facekit::detect
