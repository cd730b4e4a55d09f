// Detector post-processing, window planning, alignment maths and score mapping.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "align/align.h"
#include "detect/blazeface.h"
#include "detect/occlusion.h"
#include "detect/pyramid.h"
#include "detect/texture.h"
#include "facekit/error.h"

using facekit::detect::Detection;

TEST(Decode, AnchorsFollowTheInputSize) {
  // A 256x512 input: a 16x32 grid at stride 16 (2 anchors per cell), 8x16 at stride 32 (6).
  auto s16 = at::full({1, 16 * 32 * 2, 1}, -10.f), s32 = at::full({1, 8 * 16 * 6, 1}, -10.f);
  auto r16 = at::zeros({1, 16 * 32 * 2, 16}), r32 = at::zeros({1, 8 * 16 * 6, 16});
  s16[0][(1 * 32 + 3) * 2 + 1][0] = 3.f;  // row 1, column 3, second anchor: centre (56, 24)
  s32[0][(2 * 16 + 15) * 6 + 5][0] = 3.f;  // row 2, column 15, last anchor: centre (496, 80)
  auto dets = facekit::detect::decode({s16, s32, r16, r32}, 0, 512, 256, 0.5f);
  ASSERT_EQ(dets.size(), 2u);
  EXPECT_FLOAT_EQ(dets[0].keypoints[0].x, 56.f);
  EXPECT_FLOAT_EQ(dets[0].keypoints[0].y, 24.f);
  EXPECT_FLOAT_EQ(dets[1].keypoints[0].x, 496.f);
  EXPECT_FLOAT_EQ(dets[1].keypoints[0].y, 80.f);
  // Outputs that do not match the input size are refused, not read out of bounds.
  EXPECT_THROW(facekit::detect::decode({s16, s32, r16, r32}, 0, 256, 256, 0.5f), facekit::Error);
}

TEST(Decode, AppliesAnchorOffsetsAndThreshold) {
  auto s16 = at::full({1, 512, 1}, -10.f), s32 = at::full({1, 384, 1}, -10.f);
  auto r16 = at::zeros({1, 512, 16}), r32 = at::zeros({1, 384, 16});
  s16[0][2][0] = 2.f;  // anchor (1.5/16, 0.5/16) * 256 = (24, 8)
  r16[0][2][0] = 1.f;
  r16[0][2][1] = 2.f;
  r16[0][2][2] = 40.f;
  r16[0][2][3] = 30.f;
  r16[0][2][4] = -5.f;
  auto dets = facekit::detect::decode({s16, s32, r16, r32}, 0, 256, 256, 0.5f);
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_NEAR(dets[0].score, 1.f / (1.f + std::exp(-2.f)), 1e-6);
  EXPECT_NEAR(dets[0].box.x, 25.f - 20.f, 1e-4);
  EXPECT_NEAR(dets[0].box.y, 10.f - 15.f, 1e-4);
  EXPECT_NEAR(dets[0].box.width, 40.f, 1e-4);
  EXPECT_NEAR(dets[0].keypoints[0].x, 19.f, 1e-4);
}

TEST(Nms, KeepsBestOfOverlapsAndDistinctFaces) {
  std::vector<Detection> d(3);
  d[0].box = {0, 0, 10, 10};
  d[0].score = 0.7f;
  d[1].box = {1, 1, 10, 10};
  d[1].score = 0.9f;
  d[2].box = {50, 50, 10, 10};
  d[2].score = 0.8f;
  auto kept = facekit::detect::nms(d, 0.3f);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_FLOAT_EQ(kept[1].score, 0.8f);
}

// A detection inside a bigger, better-scoring one (a part of a face found at a finer level) is
// held by it; a neighbour overlapping less than half, or a bigger box after it, is not.
TEST(Detections, HoldersAreEarlierBiggerBoxesHoldingMostOfIt) {
  using facekit::detect::Detection;
  auto det = [](float x, float y, float side, float score) {
    Detection d;
    d.box = cv::Rect2f(x, y, side, side);
    d.score = score;
    return d;
  };
  const std::vector<Detection> dets = {det(250, 330, 620, 0.93f),  // the face
                                       det(420, 640, 260, 0.65f),  // its mouth and chin
                                       det(820, 300, 120, 0.64f),  // beside it, a third inside
                                       det(200, 300, 700, 0.61f),  // bigger, but after
                                       det(430, 650, 100, 0.60f)}; // inside the first, second and fourth
  const auto holders = facekit::detect::holders_of(dets);
  ASSERT_EQ(holders.size(), dets.size());
  EXPECT_TRUE(holders[0].empty());
  EXPECT_EQ(holders[1], std::vector<size_t>({0}));
  EXPECT_TRUE(holders[2].empty());
  EXPECT_TRUE(holders[3].empty());
  EXPECT_EQ(holders[4], std::vector<size_t>({0, 1, 3}));
}

TEST(Pyramid, SmallImageIsOnePassPerLevel) {
  using facekit::detect::kMinFaceAtInput;
  // 640x480, faces 80-300 px: at kMinFaceAtInput / 80 (144x108 at 18 / 80, centred in the
  // model's 256x256) a 300 px face is 68 px, within the detector's range: one pass. A
  // 2000 px maximum adds a level, on the coarser levels' grid (kLevelFaceAtInput / 80 / 3).
  auto p = facekit::detect::plan_passes(640, 480, 80, 300);
  ASSERT_EQ(p.size(), 1u);
  const double s = kMinFaceAtInput / 80.0;
  EXPECT_DOUBLE_EQ(p[0].scale, s);
  EXPECT_EQ(p[0].width, 256);
  EXPECT_EQ(p[0].height, 256);
  const cv::Size level = facekit::detect::scaled_size({640, 480}, s);
  EXPECT_EQ(p[0].x, (256 - level.width) / 2);  // centred in its padding
  EXPECT_EQ(p[0].y, (256 - level.height) / 2);
  p = facekit::detect::plan_passes(640, 480, 80, 2000);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_DOUBLE_EQ(p[1].scale, facekit::detect::kLevelFaceAtInput / 80.0 / facekit::detect::kLevelRatio);
  for (const auto& pass : p) EXPECT_TRUE(pass.width % facekit::detect::kStride == 0 && pass.height % facekit::detect::kStride == 0);
}

TEST(Pyramid, ALevelUnderTwoMegapixelsIsOnePassWhateverItsShape) {
  // 1920x1080 from 32 px (min_face 40): the finest level (1080x608 at 18 / 32) is wider than a
  // block: one pass over all of it, not two blocks whose seam is run twice. So is the same
  // photo at full resolution (1920x1088, 2 MP); 2048x1536 (3.1 MP) is cut into blocks.
  auto p = facekit::detect::plan_passes(1920, 1080, 32, 300);
  ASSERT_GE(p.size(), 1u);
  const cv::Size level = facekit::detect::scaled_size({1920, 1080}, facekit::detect::kMinFaceAtInput / 32.0);
  EXPECT_GT(p[0].width, facekit::detect::kMaxBlockSide);
  EXPECT_GE(p[0].width, level.width);
  EXPECT_GE(p[0].height, level.height);
  EXPECT_GE(p[0].x, 0);
  EXPECT_GE(p[0].y, 0);
  EXPECT_TRUE(p.size() == 1 || p[1].scale < p[0].scale);
  p = facekit::detect::plan_passes(1920, 1080, 8, 300);
  ASSERT_EQ(p[0].scale, 1.0);
  EXPECT_EQ(std::count_if(p.begin(), p.end(), [](const auto& q) { return q.scale == 1.0; }), 1);
  EXPECT_EQ(p[0].width, 1920);
  EXPECT_EQ(p[0].height, 1088);
  p = facekit::detect::plan_passes(2048, 1536, 8, 300);
  ASSERT_EQ(p[0].scale, 1.0);
  EXPECT_GT(std::count_if(p.begin(), p.end(), [](const auto& q) { return q.scale == 1.0; }), 1);
}

TEST(Pyramid, SmallPassesShareOneInputWithoutOverlapOrWaste) {
  using facekit::detect::pack_passes;
  using facekit::detect::plan_passes;
  // Portrait mode on a 1024x1024 headshot (from 40 px): a 480 px level and two coarse ones
  // (171 and 57 px images) in the context their biggest faces need (192 px each), stacked in
  // one column: a 672x480 input (736x480 when each coarse level took 256 px, 864x480 side by side).
  const auto passes = plan_passes(1024, 1024, 40, 2048);
  ASSERT_EQ(passes.size(), 3u);
  EXPECT_EQ(passes[1].width, 192);
  EXPECT_EQ(passes[2].width, 192);
  auto packs = pack_passes(passes);
  ASSERT_EQ(packs.size(), 1u);
  const auto& k = packs[0];
  EXPECT_EQ(k.width, 672);
  EXPECT_EQ(k.height, 480);
  ASSERT_EQ(k.passes.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const cv::Rect a(k.origin[i], cv::Size(k.passes[i].width, k.passes[i].height));
    EXPECT_EQ(a & cv::Rect(0, 0, k.width, k.height), a) << "pass " << i << " inside the input";
    for (size_t j = 0; j < i; ++j)
      EXPECT_TRUE((a & cv::Rect(k.origin[j], cv::Size(k.passes[j].width, k.passes[j].height))).empty());
    EXPECT_DOUBLE_EQ(k.passes[i].scale, passes[i].scale);  // in plan order
  }
  // From 64 px: a 288 px level and two 128 px ones under each other beside it (288x800 when
  // each took 256 px).
  packs = pack_passes(plan_passes(1024, 1024, 64, 2048));
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].width, 288 + 128);
  EXPECT_EQ(packs[0].height, 288);
  // No input under min_side: the padding goes right and below, the passes stay where they are.
  const std::vector<facekit::detect::Pass> small = {{0.25, 0, 0, 160, 128}, {0.25 / 3, 10, 10, 128, 128}};
  packs = pack_passes(small, facekit::detect::kTrainedSide);
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].width, 288);
  EXPECT_EQ(packs[0].height, facekit::detect::kTrainedSide);
  EXPECT_EQ(packs[0].origin[1], cv::Point(160, 0));
  EXPECT_EQ(pack_passes(small, 0)[0].height, 128);
  // A pass over kPackMaxSide runs alone; the coarse level after it gets its own input.
  packs = pack_passes(plan_passes(1920, 1080, 32, 600));
  ASSERT_EQ(packs.size(), 2u);
  EXPECT_EQ(packs[0].passes.size(), 1u);
  EXPECT_EQ(packs[0].width, packs[0].passes[0].width);
}

TEST(Pyramid, OneLevelMaxFaceIsTheCheapestWholeImagePass) {
  // Engine::largest_face's coarse pass on 640x480 from 60 px: one 256x256 call (not the
  // 512x288 of two levels packed); a little more needs a bigger input.
  const int max = facekit::detect::one_level_max_face(60);
  EXPECT_GE(max, 6 * 60);
  auto p = facekit::detect::plan_passes(640, 480, 60, max);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].width, facekit::detect::kTrainedSide);
  EXPECT_EQ(p[0].height, facekit::detect::kTrainedSide);
  const auto more = facekit::detect::plan_passes(640, 480, 60, max + 3);
  EXPECT_TRUE(more.size() > 1 || more[0].width > facekit::detect::kTrainedSide);
  EXPECT_EQ(facekit::detect::plan_passes(1024, 1024, 98, facekit::detect::one_level_max_face(98)).size(), 1u);
}

// The finest level scans at most kMaxScanPixels of the image whatever the photo and the range;
// the smallest face found grows by the square root of the excess, and not at all under the cap.
TEST(Pyramid, TheFinestLevelOfABigPhotoIsCapped) {
  using facekit::detect::kMaxScanPixels;
  for (auto [W, H, mn] : {std::tuple{6000, 6000, 20}, std::tuple{6000, 6000, 40}, std::tuple{7360, 4912, 20},
                          std::tuple{12000, 3000, 20}, std::tuple{3000, 2000, 20}}) {
    const auto passes = facekit::detect::plan_passes(W, H, mn, 6000);
    ASSERT_FALSE(passes.empty());
    const double s = passes.front().scale;
    EXPECT_LE(double(W) * H * s * s, kMaxScanPixels * 1.001) << W << "x" << H << " min " << mn;
    double scanned = 0;
    for (const auto& p : passes) scanned += double(p.width) * p.height;
    EXPECT_LE(scanned, 1.6 * kMaxScanPixels) << W << "x" << H << " min " << mn;  // coarser levels and seams
  }
  EXPECT_EQ(facekit::detect::scanned_min_face(6000, 6000, 20), 61);  // 18 px at a scale of 1792 / 6000
  EXPECT_EQ(facekit::detect::scanned_min_face(6000, 6000, 40), 61);
  EXPECT_EQ(facekit::detect::scanned_min_face(4000, 3000, 20), 35);  // a 12 MP phone photo
  EXPECT_EQ(facekit::detect::scanned_min_face(6000, 6000, 80), 80);  // a quarter: under the cap
  EXPECT_EQ(facekit::detect::scanned_min_face(1920, 1080, 20), 20);
  EXPECT_EQ(facekit::detect::scanned_min_face(640, 480, 8), 8);
}

TEST(Pyramid, EveryFaceSizeFitsSomePassWhollyAtADetectableSize) {
  using facekit::detect::kMaxFaceAtInput;
  using facekit::detect::kMinFaceAtInput;
  for (auto [W, H, mn, mx] : {std::tuple{1920, 1280, 40, 300}, std::tuple{6000, 4000, 20, 300}, std::tuple{640, 480, 8, 100},
                              std::tuple{1920, 1080, 80, 1000}, std::tuple{800, 600, 20, 600},
                              std::tuple{200, 200, 20, 400}, std::tuple{8000, 1, 20, 16000}}) {
    auto passes = facekit::detect::plan_passes(W, H, mn, mx);
    for (const auto& p : passes) {
      EXPECT_LE(p.width * p.height, facekit::detect::kMaxPassPixels);  // memory bounded per forward pass
      EXPECT_LE(p.width, facekit::detect::kMaxPassSide);
      EXPECT_LE(p.height, facekit::detect::kMaxPassSide);
    }
    const int lo = facekit::detect::scanned_min_face(W, H, mn);  // min_face, or more in a photo over the cap
    for (int size : {lo, (lo + mx) / 2, mx}) {
      // A face bigger than the image (a tight crop, a cut face) is centred on it.
      const int step_x = size > W ? 1 << 30 : std::max(1, W / 7), step_y = size > H ? 1 << 30 : std::max(1, H / 5);
      for (int fx = std::min(0, (W - size) / 2); fx + size <= std::max(W, size); fx += step_x) {
        for (int fy = std::min(0, (H - size) / 2); fy + size <= std::max(H, size); fy += step_y) {
          bool seen = false;
          for (const auto& p : passes) {
            const double at_input = size * p.scale;
            const double x0 = fx * p.scale + p.x, y0 = fy * p.scale + p.y;
            const bool inside = x0 >= -1 && y0 >= -1 && x0 + at_input <= p.width + 1 && y0 + at_input <= p.height + 1;
            // Faces below kMinFaceAtInput px are seen at full resolution (never upscaled).
            const bool big_enough = at_input >= kMinFaceAtInput - 0.5 || p.scale == 1.0;
            seen |= inside && big_enough && at_input <= kMaxFaceAtInput + 0.5;
          }
          EXPECT_TRUE(seen) << W << "x" << H << " face " << size << " at " << fx << "," << fy;
        }
      }
    }
  }
}

TEST(Texture, OnlyCellsThatVaryHoldAFace) {
  using facekit::detect::kTextureCell;
  // 1003x501: the last column and row of cells are partial.
  cv::Mat img(501, 1003, CV_8UC3, cv::Scalar(90, 120, 150));
  // Noise under the threshold (a +-1 checkerboard: std-dev 1 - 1/64 per cell after rounding) is flat.
  cv::Mat grey(501, 1003, CV_8U, cv::Scalar(120));
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) grey.at<uint8_t>(y, x) = static_cast<uint8_t>(120 + ((x + y) % 2 ? 0 : 1));
  EXPECT_FALSE(facekit::detect::TextureMap(grey).any_texture({0, 0, 1003, 501}));
  EXPECT_FALSE(facekit::detect::TextureMap(img).any_texture({0, 0, 1003, 501}));
  // One textured 8x8 square at (400, 200), on the cell grid, and one in the partial corner cell.
  img(cv::Rect(400, 200, kTextureCell, kTextureCell)).setTo(cv::Scalar(0, 0, 0));
  img(cv::Rect(404, 200, 4, kTextureCell)).setTo(cv::Scalar(255, 255, 255));
  img.at<cv::Vec3b>(500, 1002) = cv::Vec3b(255, 255, 255);
  const facekit::detect::TextureMap t(img);
  EXPECT_TRUE(t.any_texture({0, 0, 1003, 501}));
  EXPECT_TRUE(t.any_texture({400, 200, 1, 1}));
  EXPECT_TRUE(t.any_texture({300, 100, 101, 101}));  // touches the square's first pixel
  EXPECT_FALSE(t.any_texture({300, 100, 100, 100}));  // ends just before it
  EXPECT_FALSE(t.any_texture({408, 208, 500, 200}));
  EXPECT_TRUE(t.any_texture({1000, 498, 64, 64}));  // clipped to the image, the corner cell
  EXPECT_FALSE(t.any_texture({-50, -50, 40, 40}));  // outside the image
  EXPECT_FALSE(t.any_texture({0, 0, 0, 0}));
  // The rows of cells are worked out as queries reach them: the same answers in any order.
  const facekit::detect::TextureMap fresh(img);
  EXPECT_TRUE(fresh.any_texture({1000, 498, 64, 64}));
  EXPECT_FALSE(fresh.any_texture({408, 208, 500, 200}));
  EXPECT_FALSE(fresh.any_texture({300, 100, 100, 100}));
  EXPECT_TRUE(fresh.any_texture({400, 200, 1, 1}));
  EXPECT_TRUE(fresh.any_texture({0, 0, 1003, 501}));
}

TEST(Align, SimilarityRecoversAKnownTransform) {
  std::array<cv::Point2f, 5> src, dst;
  const double angle = 0.3, scale = 1.7, tx = 12, ty = -7;
  for (int i = 0; i < 5; ++i) {
    src[i] = facekit::align::kArcFace112[i];
    dst[i] = cv::Point2f(static_cast<float>(scale * (std::cos(angle) * src[i].x - std::sin(angle) * src[i].y) + tx),
                         static_cast<float>(scale * (std::sin(angle) * src[i].x + std::cos(angle) * src[i].y) + ty));
  }
  cv::Mat m = facekit::align::similarity_transform(src, dst);
  EXPECT_NEAR(m.at<double>(0, 0), scale * std::cos(angle), 1e-4);
  EXPECT_NEAR(m.at<double>(1, 0), scale * std::sin(angle), 1e-4);
  EXPECT_NEAR(m.at<double>(0, 2), tx, 1e-3);
  EXPECT_NEAR(m.at<double>(1, 2), ty, 1e-3);
}

TEST(Align, AlignedCropPutsTheEyesOnTheTemplate) {
  cv::Mat img(300, 300, CV_8UC3, cv::Scalar(0, 0, 0));
  std::array<cv::Point2f, 5> lm;
  for (int i = 0; i < 5; ++i) lm[i] = facekit::align::kArcFace112[i] * 2.f + cv::Point2f(40, 30);
  cv::circle(img, lm[0], 3, cv::Scalar(255, 255, 255), -1);
  cv::Mat crop = facekit::align::aligned_crop(img, lm, 112);
  cv::Point maxloc;
  cv::Mat grey;
  cv::cvtColor(crop, grey, cv::COLOR_BGR2GRAY);
  cv::minMaxLoc(grey, nullptr, nullptr, nullptr, &maxloc);
  EXPECT_NEAR(maxloc.x, 38.3, 2.0);
  EXPECT_NEAR(maxloc.y, 51.7, 2.0);
}

// A forward pass's input is made without a first fill of the whole tensor: the padding around
// the passes' parts, and only it, gets the padding value, whatever the layout of the parts.
TEST(Padding, FillsExactlyWhatNoPartCovers) {
  const std::vector<std::vector<cv::Rect>> layouts = {
      {},                                                          // a skipped pass: all padding
      {cv::Rect(0, 0, 40, 30)},                                    // the whole input
      {cv::Rect(3, 2, 20, 10)},                                    // centred in its padding
      {cv::Rect(0, 0, 17, 30), cv::Rect(17, 0, 9, 12), cv::Rect(17, 12, 9, 5), cv::Rect(30, 20, 10, 10)},
  };
  for (const auto& parts : layouts) {
    cv::Mat f(30, 40, CV_32FC3, cv::Scalar::all(7.f));  // what the parts hold
    facekit::detect::fill_outside(f, parts, -1.5f);
    for (int y = 0; y < f.rows; ++y)
      for (int x = 0; x < f.cols; ++x) {
        const bool covered = std::any_of(parts.begin(), parts.end(), [&](const cv::Rect& r) { return r.contains({x, y}); });
        const cv::Vec3f v = f.at<cv::Vec3f>(y, x);
        for (int c = 0; c < 3; ++c) ASSERT_EQ(v[c], covered ? 7.f : -1.5f) << parts.size() << " parts, at " << x << "," << y;
      }
  }
}

// The finest level's cover around big faces (detect/occlusion.h): every face up to the level's
// biggest whose centre is visible is held whole by some rectangle; hidden cells are not scanned.
TEST(Occlusion, CoverHoldsEveryVisibleFaceWholeAndSkipsTheHiddenMiddle) {
  using facekit::detect::kStride;
  using facekit::detect::visible_cover;
  const cv::Size level(1024, 1024);
  EXPECT_EQ(visible_cover(level, {}, 69), std::vector<cv::Rect>({{0, 0, 1024, 1024}}));
  EXPECT_TRUE(visible_cover(level, {{-10, -10, 1100, 1100}}, 69).empty());
  // A head-and-torso band down the middle: two strips, none of them over the middle.
  const std::vector<cv::Rect2f> hidden = {{120, -50, 786, 1200}};
  const auto cover = visible_cover(level, hidden, 69);
  ASSERT_EQ(cover.size(), 2u);
  int64_t area = 0;
  for (const auto& r : cover) {
    EXPECT_EQ(r.width % 8, 0);
    EXPECT_EQ(r.height % 8, 0);
    area += r.area();
  }
  // The visible pixels reached 43 px further (half of 69, and a margin of 8), in 8 px steps:
  // x < 120 to 168, x >= 904 (the cell 904..911 partly visible) from 856.
  EXPECT_EQ(cover[0], cv::Rect(0, 0, 168, 1024));
  EXPECT_EQ(cover[1], cv::Rect(856, 0, 168, 1024));
  EXPECT_LT(area, 1024 * 1024 / 2);
  // Every face centre outside the band, every size up to 69 px: inside one rectangle whole.
  auto every_face_whole = [](cv::Size level, const std::vector<cv::Rect2f>& hidden, const std::vector<cv::Rect>& cover) {
    for (int cy = 0; cy < level.height; cy += 3)
      for (int cx = 0; cx < level.width; cx += 5) {
        if (hidden[0].contains(cv::Point2f(cx, cy))) continue;
        for (const int side : {20, 50, 70}) {
          const cv::Rect face(cx - side / 2, cy - side / 2, side, side);
          const cv::Rect in_level = face & cv::Rect({0, 0}, level);
          const bool whole =
              std::any_of(cover.begin(), cover.end(), [&](const cv::Rect& r) { return (in_level & r) == in_level; });
          ASSERT_TRUE(whole) << cx << "," << cy << " side " << side;
        }
      }
  };
  every_face_whole(level, hidden, cover);
  // An L of visible pixels (a band across the top, a strip down the left): two run-rectangles
  // (grid rows 0-6 across, 7-14 on the left), each reached out from its visible pixels, so
  // that they overlap by the rows a face crossing from one into the other needs. Cut at the
  // runs' edge (y 224), a face centred at (100, 220) was in neither whole.
  const std::vector<cv::Rect2f> corner = {{200, 150, 500, 400}};
  const auto l = visible_cover({640, 480}, corner, 69);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], cv::Rect(0, 0, 640, 272));
  EXPECT_EQ(l[1], cv::Rect(0, 176, 248, 304));
  every_face_whole({640, 480}, corner, l);
}

TEST(Occlusion, HeadAndTorsoFromTheEyesOfBigConfidentUprightFaces) {
  using facekit::detect::Detection;
  using facekit::detect::hidden_regions;
  Detection d;
  d.box = {300, 200, 400, 400};
  d.score = 0.95f;
  d.keypoints[0] = {420, 330};  // eyes 160 px apart
  d.keypoints[1] = {580, 330};
  auto h = hidden_regions({d}, 300);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_TRUE(h[0].contains({500, 330}) && h[0].contains({500, 50}) && h[0].contains({500, 650}));  // crown, chin
  EXPECT_FALSE(h[0].contains({250, 330}));  // beside the ear
  EXPECT_TRUE(h[1].contains({500, 1200}));  // the chest
  EXPECT_FALSE(h[1].contains({200, 900}));  // beside the shoulder
  EXPECT_TRUE(hidden_regions({d}, 401).empty());  // too small to hide anything
  Detection weak = d;
  weak.score = 0.7f;
  EXPECT_TRUE(hidden_regions({weak}, 300).empty());
  Detection lying = d;  // eyes one above the other: no torso under the head
  lying.keypoints[1] = {420, 490};
  EXPECT_EQ(hidden_regions({lying}, 300).size(), 1u);
}

TEST(Occlusion, StripsShareOneForwardPassWhereThatCostsLess) {
  using facekit::detect::pack_cover;
  using facekit::detect::Pass;
  // Two full-height strips: one 384x1024 input, no padding.
  auto packs = pack_cover({{1.0, 0, 0, 192, 1024}, {1.0, -832, 0, 192, 1024}});
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].width, 384);
  EXPECT_EQ(packs[0].height, 1024);
  EXPECT_EQ(packs[0].origin[1], cv::Point(192, 0));
  // A wide short band beside them would pad 576 x 928 pixels: it gets its own input.
  packs = pack_cover({{1.0, 0, 0, 192, 1024}, {1.0, -832, 0, 192, 1024}, {1.0, -192, 0, 640, 96}});
  ASSERT_EQ(packs.size(), 2u);
  EXPECT_EQ(packs[1].width, 640);
  EXPECT_EQ(packs[1].height, facekit::detect::kTrainedSide);
  // A pass over the bounds of one forward pass: no packing (the caller keeps its plan).
  EXPECT_TRUE(pack_cover({{1.0, 0, 0, 2080, 64}}).empty());
}

namespace {
// The passes of a plan's finest level (the first ones, at its scale).
std::vector<facekit::detect::Pass> finest_level(const std::vector<facekit::detect::Pass>& passes) {
  std::vector<facekit::detect::Pass> finest;
  for (const auto& p : passes)
    if (p.scale == passes[0].scale) finest.push_back(p);
  return finest;
}
}  // namespace

// A 1024 px headshot at Engine.detect's defaults (the finest level at full size, 1024x1024):
// its face, found by the coarser levels, hides the middle, and the finest level scans the two
// sides in one forward pass of less than half the pixels. Without a big face, the plan as it was.
TEST(Occlusion, AHeadshotsFinestLevelScansBesideTheHeadOnly) {
  using facekit::detect::Detection;
  const auto finest = finest_level(facekit::detect::plan_passes(1024, 1024, 16, 2048));
  ASSERT_EQ(finest.size(), 1u);
  ASSERT_EQ(finest[0].width * finest[0].height, 1024 * 1024);
  Detection face;  // as the coarser levels found celebahq1024-27705.jpg's face
  face.box = {100, 150, 825, 825};
  face.score = 0.95f;
  face.keypoints[0] = {361, 490};
  face.keypoints[1] = {664, 490};
  std::vector<cv::Rect2f> hidden;
  const auto packs = facekit::detect::finest_packs({1024, 1024}, finest, {face}, hidden);
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_LT(static_cast<int64_t>(packs[0].width) * packs[0].height, 1024 * 1024 / 2);
  EXPECT_EQ(packs[0].passes.size(), 2u);
  EXPECT_TRUE(facekit::detect::inside_any(hidden, {512, 560}));
  EXPECT_FALSE(facekit::detect::inside_any(hidden, {40, 560}));
  Detection small = face;  // a face the finest level could find itself hides nothing
  small.box = {400, 400, 150, 150};
  const auto plain = facekit::detect::finest_packs({1024, 1024}, finest, {small}, hidden);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].width * plain[0].height, 1024 * 1024);
  EXPECT_TRUE(hidden.empty());
}

// A 12 MP selfie at the defaults: the finest level (2064x1548, the scan cap) is six blocks;
// beside and above a face filling its middle, the cut's pieces (the band over the head is wider
// than one forward pass) each fit one pass, overlapping where a band is split, for fewer pixels.
TEST(Occlusion, ABigPhotosCutFitsItsForwardPasses) {
  using facekit::detect::Detection;
  const auto finest = finest_level(facekit::detect::plan_passes(4032, 3024, 16, 8064));
  ASSERT_GT(finest.size(), 1u);
  std::vector<cv::Rect2f> hidden;
  const int64_t plain = facekit::detect::cost_of(facekit::detect::finest_packs({4032, 3024}, finest, {}, hidden));
  Detection face;  // eyes 1200 px apart, the head from y 330 down
  face.box = {1215, 940, 1841, 1841};
  face.score = 0.93f;
  face.keypoints[0] = {1416, 2490};
  face.keypoints[1] = {2616, 2490};  // 1.8 spacings under the crown
  const auto packs = facekit::detect::finest_packs({4032, 3024}, finest, {face}, hidden);
  ASSERT_FALSE(packs.empty());
  EXPECT_LT(facekit::detect::cost_of(packs), plain);
  bool split = false;
  for (const auto& k : packs) {
    EXPECT_LE(k.width, facekit::detect::kMaxPassSide);
    EXPECT_LE(static_cast<int64_t>(k.width) * k.height, facekit::detect::kMaxPassPixels);
    for (const auto& p : k.passes) split |= p.y == 0 && p.width < 2064 && p.width > 1024;
  }
  EXPECT_TRUE(split) << "the band over the head, 2080 px on the grid, in two pieces";
}
