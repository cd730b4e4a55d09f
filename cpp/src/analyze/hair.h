#pragma once
// Hairstyle (shortHair / longHair / hat / braids): three square head crops around the face box, each
// through faceres (1024-d descriptor, L2-normalised), into a 4-class logistic regression
// (hair_weights.h, trained and measured by bench/accuracy/hair.py; docs/ACCURACY.md). The weights
// were learned from research data (CelebA-HQ, Figaro-1k) and inherit its terms.
#include <array>

#include <opencv2/core.hpp>

#include "facekit/types.h"
#include "models/runtime_impl.h"

namespace facekit::analyze {

/// Softmax probabilities in HairStyle order (kShort, kLong, kHat, kBraids).
std::array<float, 4> hair_probabilities(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& face);

HairStyle classify_hair(const ModelRuntime::Impl& models, const cv::Mat& bgr, const Box& face);

}  // namespace facekit::analyze
