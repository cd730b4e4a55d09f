#include "detect/tiling.h"

#include <algorithm>
#include <cmath>

namespace facekit::detect {

namespace {

// Starts of windows of `side` covering [0, length) with at least `overlap` shared pixels.
std::vector<int> starts(int length, int side, int overlap) {
  if (side >= length) return {(length - side) / 2};  // one window, centred (padded both sides)
  const int stride = std::max(1, side - overlap);
  const int n = static_cast<int>(std::ceil(static_cast<double>(length - side) / stride)) + 1;
  std::vector<int> s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<int>(std::lround(static_cast<double>(i) * (length - side) / (n - 1))));
  return s;
}

}  // namespace

std::vector<Window> plan_windows(int width, int height, int min_face, int max_face) {
  const int long_side = std::max(width, height);
  min_face = std::max(min_face, 8);
  max_face = std::max(max_face, min_face + 1);
  std::vector<Window> out;
  // Finest level: the largest window in which min_face still appears >= kMinFaceAtInput.
  int side = std::min(long_side, static_cast<int>(min_face * kInputSide / kMinFaceAtInput));
  while (true) {
    const bool whole = side >= long_side;
    // Largest face this level must catch: bigger ones are left to the next, coarser level.
    // (and can overlap its windows by the largest face: at most half a window).
    const bool last = whole || (side * kMaxFaceAtInput / kInputSide >= max_face && side / 2 >= max_face * 1.15f);
    const int biggest = last ? max_face : static_cast<int>(side * kMaxFaceAtInput / kInputSide / 3);
    const int overlap = std::min(side / 2, static_cast<int>(biggest * 1.15f));
    if (whole) {
      out.push_back({(width - long_side) / 2, (height - long_side) / 2, long_side});
    } else {
      for (int y : starts(height, side, overlap))
        for (int x : starts(width, side, overlap)) out.push_back({x, y, side});
    }
    if (last) break;
    side = std::min(long_side, side * 3);
  }
  return out;
}

}  // namespace facekit::detect
