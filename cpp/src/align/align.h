#pragma once
// Similarity alignment of 5 landmarks onto a descriptor's canonical template.
#include <opencv2/core.hpp>

#include <array>

namespace facekit::align {

/// ArcFace's 112x112 template (insightface `arcface_dst`): eyes, nose tip, mouth corners.
extern const std::array<cv::Point2f, 5> kArcFace112;

/// Least-squares similarity (rotation, uniform scale, translation) taking src onto dst
/// (Umeyama 1991, the estimator insightface uses). Returns a 2x3 CV_64F matrix.
cv::Mat similarity_transform(const std::array<cv::Point2f, 5>& src, const std::array<cv::Point2f, 5>& dst);

/// The face warped onto the ArcFace template scaled to `size` x `size` pixels.
cv::Mat aligned_crop(const cv::Mat& bgr, const std::array<cv::Point2f, 5>& landmarks, int size);

}  // namespace facekit::align
