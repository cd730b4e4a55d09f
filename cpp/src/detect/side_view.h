#pragma once
// face-api's SSD MobileNet v1 (models/tfjs2torch/faceapi.py SsdMobilenetv1) as a second
// opinion for faces turned to the side, which BlazeFace finds but FaceMesh does not accept as
// faces (docs/ACCURACY.md, Profile faces).
#include <opencv2/core.hpp>

#include <vector>

#include "detect/blazeface.h"
#include "models/runtime_impl.h"

namespace facekit::detect {

/// Whether the model set holds the SSD (an older model folder may not).
bool has_side_view_detector(const ModelRuntime::Impl& models);

/// The SSD's faces in `bgr` scoring at least `min_score`, best first, boxes in image pixels
/// (keypoints unset), after NMS at `iou`. As face-api runs it: the photo zero-padded at the
/// bottom / right to a square and resized to 512 px.
std::vector<Detection> detect_side_views(const ModelRuntime::Impl& models, const cv::Mat& bgr, float min_score,
                                         float iou = 0.5f);

}  // namespace facekit::detect
