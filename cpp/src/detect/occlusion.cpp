#include "detect/occlusion.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <utility>

namespace facekit::detect {

namespace {
// Each face the cover holds has this many pixels of its input around it at least.
constexpr int kCoverMargin = 8;
// The hidden regions are read at this resolution (level pixels).
constexpr int kCell = 8;
// A head and torso in eye spacings (pupil to pupil, ~63 mm in adults): a head is ~2.5 wide
// with its ears, its crown ~1.8 above the eyes and its chin ~1.9 below; shoulders ~7 wide, a
// chest ~5, chin to waist ~8. The torso is kept narrow (3.2): a face seen over a shoulder or
// beside a neck stays in view.
constexpr float kHeadHalfWidth = 1.3f, kHeadAboveEyes = 1.8f, kHeadBelowEyes = 2.2f;
constexpr float kTorsoHalfWidth = 1.6f, kTorsoLength = 8.f;
}  // namespace

std::vector<cv::Rect2f> hidden_regions(const std::vector<Detection>& coarse, float min_occluder) {
  std::vector<cv::Rect2f> out;
  for (const Detection& d : coarse) {
    const float side = std::max(d.box.width, d.box.height);
    if (side < min_occluder || d.score < kOccluderMinScore) continue;
    // From the eyes, which hold their place and spacing better than a coarse level's box (a
    // 1024 px headshot's face: box 825 px wide, its mesh 674).
    const cv::Point2f eyes = d.keypoints[1] - d.keypoints[0];
    const cv::Point2f mid = (d.keypoints[0] + d.keypoints[1]) * 0.5f;
    const float e = std::hypot(eyes.x, eyes.y);
    const cv::Rect2f head(mid.x - kHeadHalfWidth * e, mid.y - kHeadAboveEyes * e, 2 * kHeadHalfWidth * e,
                          (kHeadAboveEyes + kHeadBelowEyes) * e);
    out.push_back(head);
    const float roll = std::abs(std::atan2(eyes.y, eyes.x)) * 180.f / static_cast<float>(CV_PI);
    if (roll <= kUprightDegrees)
      out.emplace_back(mid.x - kTorsoHalfWidth * e, head.br().y, 2 * kTorsoHalfWidth * e, kTorsoLength * e);
  }
  return out;
}

bool inside_any(const std::vector<cv::Rect2f>& regions, cv::Point2f point) {
  return std::any_of(regions.begin(), regions.end(), [&](const cv::Rect2f& r) { return r.contains(point); });
}

std::vector<cv::Rect> visible_cover(cv::Size level, const std::vector<cv::Rect2f>& hidden, float biggest) {
  // Cells of kCell px wholly inside a hidden region; a partly hidden cell counts as visible.
  const int cw = (level.width + kCell - 1) / kCell, ch = (level.height + kCell - 1) / kCell;
  std::vector<uint8_t> visible(static_cast<size_t>(cw) * ch, 1);
  for (const cv::Rect2f& r : hidden) {
    const int x0 = std::max(0, static_cast<int>(std::ceil(r.x / kCell)));
    const int y0 = std::max(0, static_cast<int>(std::ceil(r.y / kCell)));
    const int x1 = std::min(cw, static_cast<int>(std::floor(r.br().x / kCell)));
    const int y1 = std::min(ch, static_cast<int>(std::floor(r.br().y / kCell)));
    for (int y = y0; y < y1; ++y)
      std::fill(visible.begin() + y * cw + x0, visible.begin() + y * cw + std::max(x0, x1), 0);
  }
  std::vector<int> sum(static_cast<size_t>(cw + 1) * (ch + 1), 0);  // summed-area table
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x)
      sum[(y + 1) * (cw + 1) + x + 1] =
          visible[y * cw + x] + sum[y * (cw + 1) + x + 1] + sum[(y + 1) * (cw + 1) + x] - sum[y * (cw + 1) + x];
  auto any_visible = [&](int x0, int y0, int x1, int y1) {  // cells [x0, x1) x [y0, y1)
    x0 = std::max(x0, 0), y0 = std::max(y0, 0), x1 = std::min(x1, cw), y1 = std::min(y1, ch);
    if (x0 >= x1 || y0 >= y1) return false;
    return sum[y1 * (cw + 1) + x1] - sum[y0 * (cw + 1) + x1] - sum[y1 * (cw + 1) + x0] + sum[y0 * (cw + 1) + x0] > 0;
  };
  // A grid cell is needed when a visible pixel lies within `reach` of it: a face centred
  // there, up to `biggest` px, reaches into the cell. Runs of needed cells, merged down the
  // rows, share the visible pixels out: each visible cell lies in exactly one run-rectangle.
  const int reach = static_cast<int>(std::ceil(biggest / 2)) + kCoverMargin;
  const int gw = (level.width + kStride - 1) / kStride, gh = (level.height + kStride - 1) / kStride;
  std::vector<cv::Rect> runs_of_cells;      // grid cells
  std::map<std::pair<int, int>, int> open;  // run [x0, x1) of grid cells -> first grid row
  for (int gy = 0; gy <= gh; ++gy) {
    std::vector<std::pair<int, int>> runs;
    for (int gx = 0; gy < gh && gx < gw;) {
      auto needed = [&](int x) {
        return any_visible((x * kStride - reach) / kCell - 1, (gy * kStride - reach) / kCell - 1,
                           ((x + 1) * kStride + reach) / kCell + 1, ((gy + 1) * kStride + reach) / kCell + 1);
      };
      if (!needed(gx)) {
        ++gx;
        continue;
      }
      int end = gx + 1;
      while (end < gw && needed(end)) ++end;
      runs.emplace_back(gx, end);
      gx = end;
    }
    for (auto it = open.begin(); it != open.end();) {  // runs that stop here are rectangles
      if (std::find(runs.begin(), runs.end(), it->first) == runs.end()) {
        const auto [x0, x1] = it->first;
        runs_of_cells.emplace_back(x0, it->second, x1 - x0, gy - it->second);
        it = open.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& r : runs) open.emplace(r, gy);  // no-op for a run still open
  }
  // Each run-rectangle scans the box of its visible cells reached out by `reach`: every face
  // centred in it whole, also one that crosses into the next run, which the run-rectangle
  // itself cut (a face beside a head just under the band above it). In kCell steps, not the
  // grid's: the strips beside a headshot's head 168 px wide, not 192.
  const int lw = (level.width + kCell - 1) / kCell * kCell, lh = (level.height + kCell - 1) / kCell * kCell;
  std::vector<cv::Rect> done;
  for (const cv::Rect& g : runs_of_cells) {
    int x0 = INT_MAX, y0 = INT_MAX, x1 = -1, y1 = -1;  // visible cells inside, [x0, x1) x [y0, y1)
    for (int y = g.y * kStride / kCell; y < std::min(ch, g.br().y * kStride / kCell); ++y)
      for (int x = g.x * kStride / kCell; x < std::min(cw, g.br().x * kStride / kCell); ++x)
        if (visible[y * cw + x])
          x0 = std::min(x0, x), x1 = std::max(x1, x + 1), y0 = std::min(y0, y), y1 = std::max(y1, y + 1);
    if (x1 < 0) continue;  // needed for a neighbour's faces only: they are that one's
    const int cells = (reach + kCell - 1) / kCell;
    const int left = std::max(0, (x0 - cells) * kCell), top = std::max(0, (y0 - cells) * kCell);
    const int right = std::min(lw, (x1 + cells) * kCell), bottom = std::min(lh, (y1 + cells) * kCell);
    done.emplace_back(left, top, right - left, bottom - top);
  }
  return done;
}

std::vector<Pack> pack_cover(std::vector<Pass> passes) {
  std::stable_sort(passes.begin(), passes.end(), [](const Pass& a, const Pass& b) { return a.height > b.height; });
  std::vector<Pack> out;
  int column_x = 0, column_y = 0, column_w = 0;  // the last column of the last pack
  auto area = [](int w, int h) { return static_cast<int64_t>(std::max(w, kTrainedSide)) * std::max(h, kTrainedSide); };
  for (const Pass& p : passes) {
    if (p.width > kMaxPassSide || p.height > kMaxPassSide || static_cast<int64_t>(p.width) * p.height > kMaxPassPixels)
      return {};
    // Joined where that costs less than a pass of its own.
    Pack* k = out.empty() ? nullptr : &out.back();
    const int64_t alone = area(p.width, p.height) + kCallPixels;
    bool placed = false;
    if (k && column_y + p.height <= k->height && column_x + std::max(column_w, p.width) <= kMaxPassSide) {
      const int w = std::max(k->width, column_x + std::max(column_w, p.width));  // under the last one
      if (area(w, k->height) - area(k->width, k->height) < alone && area(w, k->height) <= kMaxPassPixels) {
        k->origin.emplace_back(column_x, column_y);
        column_w = std::max(column_w, p.width);
        column_y += p.height;
        k->width = w;
        placed = true;
      }
    }
    if (!placed && k && k->width + p.width <= kMaxPassSide) {  // a new column
      const int w = k->width + p.width, h = std::max(k->height, p.height);
      if (area(w, h) - area(k->width, k->height) < alone && area(w, h) <= kMaxPassPixels) {
        k->origin.emplace_back(k->width, 0);
        column_x = k->width, column_y = p.height, column_w = p.width;
        k->width = w, k->height = h;
        placed = true;
      }
    }
    if (!placed) {
      out.emplace_back();
      k = &out.back();
      k->origin.emplace_back(0, 0);
      column_x = 0, column_y = p.height, column_w = p.width;
      k->width = p.width, k->height = p.height;
    }
    k->passes.push_back(p);
  }
  // The cover's sides are kCell steps: each input to the model's stride.
  auto input_side = [](int side) { return std::max(kTrainedSide, (side + kStride - 1) / kStride * kStride); };
  for (Pack& k : out) k.width = input_side(k.width), k.height = input_side(k.height);
  return out;
}

int64_t cost_of(const std::vector<Pack>& packs) {
  int64_t c = 0;
  for (const Pack& k : packs) c += static_cast<int64_t>(k.width) * k.height + kCallPixels;
  return c;
}

namespace {
// `r` cut along its longer side into as few overlapping pieces as fit one forward pass (no side
// over kMaxPassSide, at most kMaxPassPixels), each a multiple of kStride: the pieces overlap
// by a level's biggest face and more, so a face one of them cuts at an inner edge (dropped
// there) lies whole in the next.
void split_to_fit(const cv::Rect& r, std::vector<cv::Rect>& out) {
  const bool fits =
      r.width <= kMaxPassSide && r.height <= kMaxPassSide && static_cast<int64_t>(r.width) * r.height <= kMaxPassPixels;
  if (fits) {
    out.push_back(r);
    return;
  }
  const int overlap = (static_cast<int>(std::ceil(kLevelBiggestFace * 1.1f)) + kStride - 1) / kStride * kStride;
  const bool across = r.width >= r.height;
  const int length = across ? r.width : r.height;
  const int side = across ? r.height : r.width;
  const int most = std::min<int64_t>(kMaxPassSide, kMaxPassPixels / side) / kStride * kStride;
  const int n = (length - overlap + (most - overlap) - 1) / (most - overlap);
  const int piece = std::min(most, ((length + (n - 1) * overlap + n - 1) / n + kStride - 1) / kStride * kStride);
  for (int i = 0; i < n; ++i) {
    const int start = n == 1 ? 0 : (length - piece) * i / (n - 1) / kStride * kStride;
    split_to_fit(across ? cv::Rect(r.x + start, r.y, piece, r.height) : cv::Rect(r.x, r.y + start, r.width, piece),
                 out);
  }
}
}  // namespace

std::vector<Pack> finest_packs(cv::Size image, const std::vector<Pass>& finest, const std::vector<Detection>& coarse,
                               std::vector<cv::Rect2f>& hidden) {
  std::vector<Pack> packs = pack_passes(finest, kTrainedSide);
  hidden.clear();
  if (finest.empty()) return packs;
  const double scale = finest[0].scale;
  hidden = hidden_regions(coarse, kMinOccluderAtInput / static_cast<float>(scale));
  if (hidden.empty()) return packs;
  std::vector<cv::Rect2f> at_level;
  for (const cv::Rect2f& r : hidden) at_level.emplace_back(r.x * scale, r.y * scale, r.width * scale, r.height * scale);
  std::vector<Pass> cut;
  std::vector<cv::Rect> rects;
  for (const cv::Rect& r : visible_cover(scaled_size(image, scale), at_level, kLevelBiggestFace))
    split_to_fit(r, rects);
  for (const cv::Rect& r : rects) cut.push_back({scale, -r.x, -r.y, r.width, r.height});
  std::vector<Pack> cover = pack_cover(cut);
  if ((cut.empty() || !cover.empty()) && cost_of(cover) < cost_of(packs)) return cover;
  return packs;
}

}  // namespace facekit::detect
