#pragma once
/// Pedestrian (person) detection with NanoDet (COCO class "person").
#include <memory>
#include <vector>

#include "facekit/models.h"
#include "facekit/types.h"

namespace facekit {

struct Person {
  Box box;  ///< original image pixels, clipped
  float score = 0.f;
};

struct PersonOptions {
  float threshold = 0.35f;  ///< class score to keep a box
  float nms_iou = 0.5f;
};

class PersonDetector {
 public:
  /// Shares the runtime's loaded models (nanodet).
  explicit PersonDetector(const ModelRuntime& models);
  /// People in an image of any size (letterboxed to the model's 416x416), best first.
  std::vector<Person> detect(const Image& image, const PersonOptions& options = {}) const;

 private:
  const ModelRuntime& models_;
};

}  // namespace facekit
