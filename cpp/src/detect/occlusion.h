#pragma once
// Where a small face cannot be seen: behind a person much nearer the camera. A face the finest
// pyramid level looks for (at most kLevelBiggestFace px at its input) inside the head or the
// torso of a face kMinOccluderAtInput px or more (5.2x bigger) would be 5.2x farther away than
// that person for a face of the same real size, 2.6x for a baby's (about half an adult's):
// behind them, hidden. So once the coarser levels have found the big faces, the finest level,
// nine tenths of the detector's time, scans only the rest of the photo. What it gives up: a
// small face printed on a shirt, or on a poster or screen behind a close-up's head.
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "detect/blazeface.h"

namespace facekit::detect {

/// The smallest face (detector box side, at the finest level's input) whose head and torso
/// hide that level's faces: twice the biggest the finest level finds reliably (kMaxFaceAtInput).
/// It finds bigger ones too: at 1.5x, two faces of shared/data (obama2.jpg, 279 px; a
/// hair-dev braids photo, 269 px) lost the finest level's box to a coarser level's (yaw
/// -18 -> -32 degrees); at 2x every face of the 765 photos of shared/data and the six group photos
/// comes out as before (docs/ACCURACY.md).
constexpr float kMinOccluderAtInput = 2.f * kMaxFaceAtInput;
/// A hiding face's detector score at least: a false detection must not hide real faces (the
/// group photos' false detections score 0.63-0.78, their faces 0.9 and more).
constexpr float kOccluderMinScore = 0.85f;
/// The torso is placed under the head only for a face this upright (eye line within this many
/// degrees of level): a person lying down or leaning far has it elsewhere.
constexpr float kUprightDegrees = 30.f;

/// The regions (image pixels) hidden by the faces of `coarse` (detections of the coarser levels)
/// whose box side is `min_occluder` px or more and whose score is kOccluderMinScore or more:
/// each one's head and, when upright, its torso under it, placed and sized from the eyes
/// (occlusion.cpp).
std::vector<cv::Rect2f> hidden_regions(const std::vector<Detection>& coarse, float min_occluder);

/// Rectangles of a level (its pixels; sides multiples of 8 px, possibly past its edge by less
/// than 8) that hold, whole, every face up to `biggest` px whose centre is outside `hidden`
/// (level pixels): the kStride grid cells within biggest / 2 + a margin of a pixel outside
/// `hidden`, as maximal runs of a row merged with the same runs of the rows under them, each
/// run-rectangle then the box of the visible pixels in it reached out by that much (so
/// neighbouring rectangles overlap where a face may cross from one into the other). Empty when
/// `hidden` covers the level.
std::vector<cv::Rect> visible_cover(cv::Size level, const std::vector<cv::Rect2f>& hidden, float biggest);

/// True when `point` lies in one of `regions`.
bool inside_any(const std::vector<cv::Rect2f>& regions, cv::Point2f point);

/// `passes` (one level's, cut by visible_cover) as forward passes: tallest first, side by side,
/// each next one under the one before where it fits the column; a new input where the next
/// would add more padding than kCallPixels (a forward pass's fixed cost in pixels). Each input
/// at least kTrainedSide on both sides, at most kMaxPassSide and kMaxPassPixels. Empty when a
/// pass is over those bounds.
std::vector<Pack> pack_cover(std::vector<Pass> passes);

/// What a forward pass's fixed cost is worth in input pixels (BlazeFace, 2 threads: ~1.5 ms
/// a call, ~45 ms a megapixel).
constexpr int64_t kCallPixels = 32768;

/// The cost of `packs` in input pixels: their pixels and kCallPixels a pack.
int64_t cost_of(const std::vector<Pack>& packs);

/// The forward passes of the finest level of an image of `image` size (`finest`: that level's
/// passes, from plan_passes), given `coarse`, the coarser levels' detections after NMS: cut
/// around the regions their big faces hide where that costs less (cost_of), else
/// pack_passes(finest). `hidden` gets those regions (image pixels; empty when no face hides
/// anything): the finest level's detections centred there are parts of those faces.
std::vector<Pack> finest_packs(cv::Size image, const std::vector<Pass>& finest, const std::vector<Detection>& coarse,
                               std::vector<cv::Rect2f>& hidden);

}  // namespace facekit::detect
