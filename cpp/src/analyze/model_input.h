#pragma once
// One face crop into its slot of a batch tensor (NHWC float), normalised as the model's
// manifest says: (pixel - mean) * scale, channels in the crop's order (the caller converts
// them to the model's colour order first).
#include <opencv2/core.hpp>

#include "models/runtime_impl.h"

namespace facekit::analyze {

inline void write_input(const ModelInfo& m, const cv::Mat& crop8u, at::Tensor slot) {
  cv::Mat f(crop8u.rows, crop8u.cols, CV_32FC3, slot.data_ptr<float>());
  crop8u.convertTo(f, CV_32FC3);  // into the tensor's memory, then normalised in place
  cv::subtract(f, cv::Scalar(m.mean[0], m.mean[1], m.mean[2]), f);
  cv::multiply(f, cv::Scalar::all(m.scale), f);
}

}  // namespace facekit::analyze
