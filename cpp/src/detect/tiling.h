#pragma once
// Which square windows of an image the fixed-input (256 px) face detector looks at, so that
// every face between min_face and max_face pixels appears at a size the detector sees.
#include <vector>

namespace facekit::detect {

struct Window {
  int x = 0, y = 0, side = 0;  ///< square in original pixels; may extend past the image (padded)
};

/// Smallest face (px at the detector input) found reliably, and the largest (shared/models-provenance.md:
/// blazeface-back needs >= ~16x24 px at 256; faces above ~85% of the input are cut).
constexpr float kMinFaceAtInput = 22.f;
constexpr float kMaxFaceAtInput = 200.f;
constexpr int kInputSide = 256;

std::vector<Window> plan_windows(int width, int height, int min_face, int max_face);

}  // namespace facekit::detect
