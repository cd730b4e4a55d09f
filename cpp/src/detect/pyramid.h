#pragma once
// Which scaled copies of an image the fully convolutional face detector runs on, so that every
// face between min_face and max_face pixels appears at a size the detector finds, at the least
// cost: the finest level is the only expensive one (each next level has 1/9 of its pixels), and
// no pixel is looked at twice within a level, except in the seams of a level too big for one
// forward pass.
#include <vector>

#include <opencv2/core.hpp>

namespace facekit::detect {

/// Face sizes (box side, px at the detector's input) BlazeFace (back) finds reliably: from
/// kMinFaceAtInput to kMaxFaceAtInput (a face must leave some context in the 256 px the model
/// was trained on). The finest level holds min_face at kMinFaceAtInput, each coarser level its
/// smallest face at kLevelFaceAtInput. 18 px found as many of the group photos' faces as 20 px
/// (209 of 220 over ten scale / min_face pairs; 16 px 206) with 0.81x the pixels; at every
/// level it read head pose worse (AFLW2000 mean yaw error 4.8 against 3 degrees: a face then
/// reaches FaceMesh from a coarser level), at the finest level alone it did not
/// (docs/ACCURACY.md, The smallest face at the detector's input).
constexpr float kMinFaceAtInput = 18.f;
constexpr float kLevelFaceAtInput = 20.f;
constexpr float kMaxFaceAtInput = 180.f;
/// Each coarser level covers faces from kLevelFaceAtInput to kLevelRatio times that; the last
/// level covers up to kMaxFaceAtInput.
constexpr float kLevelRatio = 3.f;
/// The biggest face a level that is not the last must hold whole (its seams and the context
/// around it): the next level's smallest, with a margin.
constexpr float kLevelBiggestFace = kLevelFaceAtInput * kLevelRatio * 1.15f;
/// The input side the model was trained on: no forward pass of a plan is smaller (in a
/// 224x160 input a 62 px face was missed that a 256x192 one finds).
constexpr int kTrainedSide = 256;
/// The smallest side of one level's part of that input. A coarse level's image is small (a
/// 1024 px photo from 64 px: 107 and 36 px): padded to 256 px each, two of them took more of
/// the headshot's input (320x832) than its finest level; at 128 px they stack beside it
/// (320x448), with the same recall and precision in every band of
/// bench/accuracy/detection_sizes.py (docs/ACCURACY.md).
constexpr int kMinPassSide = 128;
/// A face is found with some context around it: the input holds it at <= this share of its
/// side, and is never smaller than kTrainedSide.
constexpr double kFaceShareOfInput = 0.7;
/// The model's total stride: its input sides must be multiples of it.
constexpr int kStride = 32;
/// The largest side of one forward pass: a bigger level is cut into overlapping blocks, which
/// bounds the model's activation memory (~100 MiB at 1024x1024).
constexpr int kMaxBlockSide = 1024;
/// A level whose padded input holds at most kMaxPassPixels, no side over kMaxPassSide, runs as
/// one forward pass whatever its shape: no seam run twice. 1920x1080 at min_face 40: one
/// 1216x704 pass 57 ms against two 672x704 blocks 61 ms; at min_face 20 (full resolution) one
/// 1920x1088 pass 155-159 ms against four 1024x608 blocks 4 x 43-48 ms (facekit_bench_models,
/// 2 threads). The bound is the pass's activation memory: ~210 MiB more peak RSS at 1920x1088
/// than at 1024x608, within the 512 MiB a request may add (docs/RELIABILITY.md).
constexpr int kMaxPassPixels = 2 * kMaxBlockSide * kMaxBlockSide;
/// The most image pixels the finest level scans. A photo that holds more at the scale
/// min_face asks for is scanned at the scale that fits, so its smallest face found grows by the
/// square root of the excess (a 36 MP photo at min_face 20 or 40: faces from 61 px). This
/// bounds the detector's work whatever the photo and the range: the finest level is ~9/10 of
/// it, and BlazeFace costs ~0.25 s a megapixel on the 2-core machine. At 2048² the 36 MP
/// photo took 1.41-1.50 s through the server against the 1.5 s goal; at 1792², 1.07-1.22 s
/// (docs/RELIABILITY.md).
constexpr double kMaxScanPixels = 1792.0 * 1792.0;
constexpr int kMaxPassSide = 2 * kMaxBlockSide;

/// One forward pass: the image scaled by `scale`, whose pixel (0, 0) lands at (`x`, `y`) of a
/// `width` x `height` input (multiples of kStride); input pixels outside the image are padding.
/// `x`, `y` may be negative (a block starting inside the scaled image).
struct Pass {
  double scale = 1.0;
  int x = 0, y = 0, width = 0, height = 0;
};

/// Small passes (all sides <= kPackMaxSide) share one forward pass: a model call has a fixed
/// cost (~4 ms here) that a 256x256 input does not amortise.
constexpr int kPackMaxSide = 512, kPackMaxWidth = 1024;

/// Passes run as one forward pass: pass i's input occupies the rectangle at `origin[i]`, of
/// its width x height, in a width x height input; the rest of the input is padding.
struct Pack {
  std::vector<Pass> passes;
  std::vector<cv::Point> origin;
  int width = 0, height = 0;
};

/// `passes` (finest level first) grouped into forward passes, in order. A pass over
/// kPackMaxSide runs alone. Small ones go side by side up to kPackMaxWidth, each next one
/// stacked under the one before when both fit the height of the first: a 512 px level and two
/// 160 px ones are a 672x512 input. Each input is padded (right and below) to at least
/// `min_side` on both sides.
std::vector<Pack> pack_passes(const std::vector<Pass>& passes, int min_side = kTrainedSide);

/// The size of an image of `size` scaled by `scale` (at least 1x1), as the passes assume it.
cv::Size scaled_size(cv::Size size, double scale);

/// The passes that find every face whose detector box is min_face..max_face px in an
/// image of width x height, finest level first. The finest level is the image itself at
/// most (never upscaled): faces under kMinFaceAtInput px are found only as the model sees them;
/// and it holds at most kMaxScanPixels (see there).
std::vector<Pass> plan_passes(int width, int height, int min_face, int max_face);

/// The smallest face plan_passes(width, height, min_face, ...) is sure to find: min_face
/// unless kMaxScanPixels caps the finest level, then the face that level sees at kMinFaceAtInput.
int scanned_min_face(int width, int height, int min_face);

/// One pass over the whole image, its long side scaled to `side` (never up), centred in an
/// input padded to multiples of kStride.
Pass whole_image_pass(int width, int height, int side);

/// The largest max_face for which plan_passes(..., min_face, max_face) is one level on an
/// input no bigger than kTrainedSide where the scaled image fits it: the cheapest whole-image pass.
int one_level_max_face(int min_face);

}  // namespace facekit::detect
