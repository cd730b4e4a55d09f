#pragma once
// OpenCV's INTER_AREA reduction of 8-bit BGR images, the same bytes at a fraction of the cost.
//
// At a ratio that is not a whole number OpenCV 4.6 averages with a scalar loop that adds each
// source pixel into a buffer in memory (every add waits for the store before it): 3.5-5 ms per
// pyramid level of a 1024x1024 photo and 9 ms for 1920x1080 -> 405x228, whatever the target
// size. The detector makes each level from the photo by area averaging, and the levels' exact
// pixels set its boxes and, through them, FaceMesh-based readings (blink): so this computes
// OpenCV's weights, in OpenCV's order, with OpenCV's float roundings, keeping each output
// pixel's sum in registers. tests/cpp/test_image.cpp compares it with cv::resize byte for byte.
#include <opencv2/core.hpp>

namespace facekit::image {

/// cv::resize(src, dst, size, 0, 0, cv::INTER_AREA), byte for byte. Of an 8-bit 3-channel
/// image, the general path (a reduction on both axes by a ratio that is not a whole number on
/// both) and reductions by whole factors over 2x2 (OpenCV's scalar fast path) run here;
/// anything else is handed to cv::resize.
void resize_area(const cv::Mat& src, cv::Mat& dst, cv::Size size);

}  // namespace facekit::image
