#pragma once
// dlib's metric-learning ResNet (face-api's face_recognition net, 128-d) on a box made from
// the 5 landmarks, and its fusion with an identity net (MobileFaceNet, or faceres for the
// earlier descriptor) into the engine's accurate descriptor.
#include <functional>
#include <string>
#include <vector>

#include "analyze/face_ref.h"
#include "models/runtime_impl.h"

namespace facekit::analyze {

constexpr int kDlibSide = 150;
/// Share of the fused cosine that comes from dlib: 1 / (impostor cosine standard deviation)
/// of each descriptor, normalised, on the pooled impostor pairs of faces-dev and ORL
/// (bench/accuracy/verification.py, docs/ACCURACY.md): MobileFaceNet 0.147, dlib 0.032.
constexpr float kDlibWeightWithMobileFaceNet = 0.82f;
/// The same rule with faceres (0.071) as the identity net: the earlier "faceres+dlib" descriptor.
constexpr float kDlibWeightWithFaceres = 0.68f;

/// The dlib model the runtime has: "face_recognition_int8" when `int8` and it is loaded, else
/// "face_recognition"; empty when neither is.
std::string dlib_model(const ModelRuntime::Impl& models, bool int8);

/// The 150 px RGB crop dlib's net is fed: face-api's alignDlib box from the eye centres and
/// the mouth centre (side = mean eye-to-mouth distance / 0.45, top-left = their centroid -
/// (0.5, 0.43) side), axis-aligned, sampled in one warp, black outside the image.
cv::Mat dlib_crop(const cv::Mat& bgr, const std::array<cv::Point2f, 5>& landmarks);

/// Runs the dlib net's one call wherever the caller schedules it (the engine: beside its
/// identity net).
using RunCall = std::function<void(const std::function<void()>&)>;

/// The dlib net on each face as cropped and as mirrored: unit 128-d descriptors, the
/// normalised mean of each face's two. The crops and the mirrors are one batch, in one model
/// call handed to `run` (made in place without it); an image's output does not depend on its
/// batch (ModelRuntime.DlibOutputsDoNotDependOnTheBatch).
std::vector<std::vector<float>> run_dlib(const ModelRuntime::Impl& models, const std::string& model,
                                         const std::vector<FaceRef>& faces, const RunCall& run = {});

/// unit(sqrt(1 - w) identity, sqrt(w) dlib) for unit inputs, w = `dlib_weight`: its cosine is
/// the weighted mean of the two descriptors' cosines.
std::vector<float> fuse(const std::vector<float>& identity, const std::vector<float>& dlib, float dlib_weight);

}  // namespace facekit::analyze
