#include "models/weight_cache.h"

namespace facekit::models {

WeightState weight_state(const at::Tensor& t) {
  if (!t.defined()) return {};
  // Inference tensors keep no version counter (reading it throws); they cannot change outside
  // inference mode, and a model's weights are not changed in it.
  return {t.unsafeGetTensorImpl(), t.data_ptr(), t.is_inference() ? 0 : static_cast<int64_t>(t._version())};
}

}  // namespace facekit::models
