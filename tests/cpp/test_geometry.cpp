// Detector post-processing, window planning, alignment maths and score mapping.
#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "align/align.h"
#include "detect/blazeface.h"
#include "detect/tiling.h"

using facekit::detect::Detection;

TEST(Anchors, Has896InModelOrder) {
  const auto& a = facekit::detect::anchors();
  ASSERT_EQ(a.size(), 896u);
  EXPECT_FLOAT_EQ(a[0].x, 0.5f / 16);
  EXPECT_FLOAT_EQ(a[1].x, 0.5f / 16);  // two anchors per stride-16 cell
  EXPECT_FLOAT_EQ(a[2].x, 1.5f / 16);
  EXPECT_FLOAT_EQ(a[512].x, 0.5f / 8);  // stride-32 anchors follow
  EXPECT_FLOAT_EQ(a[895].y, 7.5f / 8);
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
  auto dets = facekit::detect::decode({s16, s32, r16, r32}, 0, 0.5f);
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

TEST(Tiling, SmallImageIsOneWindow) {
  auto w = facekit::detect::plan_windows(640, 480, 80, 300);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].side, 640);
  EXPECT_EQ(w[0].y, -80);  // centred, padded
}

TEST(Tiling, EveryFaceSizeFitsSomeWindowWholly) {
  using facekit::detect::kInputSide;
  for (auto [W, H, mn, mx] : {std::tuple{1920, 1280, 40, 300}, std::tuple{4000, 3000, 80, 300},
                              std::tuple{1920, 1080, 80, 1000}, std::tuple{800, 600, 20, 600}}) {
    auto windows = facekit::detect::plan_windows(W, H, mn, mx);
    for (int size : {mn, (mn + mx) / 2, mx}) {
      for (int fx = 0; fx + size <= W; fx += W / 7) {
        for (int fy = 0; fy + size <= H; fy += H / 5) {
          bool seen = false;
          for (const auto& w : windows) {
            const float at_input = size * float(kInputSide) / w.side;
            const bool inside = fx >= w.x && fy >= w.y && fx + size <= w.x + w.side && fy + size <= w.y + w.side;
            seen |= inside && at_input >= facekit::detect::kMinFaceAtInput - 0.5f &&
                    at_input <= facekit::detect::kMaxFaceAtInput + 0.5f;
          }
          EXPECT_TRUE(seen) << W << "x" << H << " face " << size << " at " << fx << "," << fy;
        }
      }
    }
  }
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
