#pragma once
// Internal face of ModelRuntime for the engine's own code: torch types allowed here.
#include <torch/script.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "facekit/models.h"

namespace facekit {

class ModelRuntime::Impl {
 public:
  explicit Impl(const RuntimeOptions& options);

  /// Runs a model under InferenceMode; returns its outputs in manifest order.
  std::vector<at::Tensor> forward(const std::string& name, const at::Tensor& input) const;
  const ModelInfo& info(const std::string& name) const;
  /// Whether the models folder has this model (optional models: the side-view detector, ...).
  bool has(const std::string& name) const { return index_.count(name) > 0; }

  /// Runs two independent pieces of model work at once, `first` on this thread and `second` on
  /// a helper thread, each with a team of one, when all threads are free (no other call in
  /// flight, no other process busy); otherwise one after the other here. Two one-thread calls
  /// side by side each run at about their one-thread speed, while one call gains little from a
  /// second thread (BlazeFace 8.4 -> 7.9 ms; docs/BENCHMARKS.md). The helper keeps this
  /// thread's deadline; an exception of either is rethrown once both have ended.
  void side_by_side(const std::function<void()>& first, const std::function<void()>& second) const;

  std::string model_dir;
  std::vector<ModelInfo> infos;

 private:
  // TorchScript modules are safe to run from many threads at once; forward() is not
  // const in the API, hence mutable.
  mutable std::unordered_map<std::string, torch::jit::Module> modules_;
  std::unordered_map<std::string, size_t> index_;
};

/// Process-wide settings for fast CPU inference (threads, BLAS, malloc), applied once.
void configure_inference_process(int num_threads);

}  // namespace facekit
