#pragma once
// Hairstyle from person segmentation + colour (docs/ACCURACY.md measures it): hair of the
// colour seen above the forehead, inside the person mask, beside the neck below the chin
// -> long hair. Hats and braids have no labelled data to build a rule on: never predicted.
#include <opencv2/core.hpp>

#include "facekit/types.h"
#include "models/runtime_impl.h"

namespace facekit::analyze {

struct HairRule {
  float long_min_fraction = 0.13f;  ///< hair-coloured person pixels in the bands beside the neck
  float colour_distance = 25.f;     ///< Lab distance to the hair colour
};

/// The fraction of the bands beside the neck that are hair of the top-of-head colour.
float long_hair_fraction(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& face, const HairRule& rule = {});

HairStyle classify_hair(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& face, const HairRule& rule = {});

}  // namespace facekit::analyze
