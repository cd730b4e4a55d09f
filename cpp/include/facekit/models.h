#pragma once
/// The model runtime: the converted TorchScript models named by manifest.json, loaded
/// once, checksummed, warmed up, safe to call from many threads.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace facekit {

struct RuntimeOptions {
  std::string model_dir;        ///< folder with manifest.json; empty: FACEKIT_MODEL_DIR or the built-in default
  int num_threads = 0;          ///< intra-op threads for inference; 0 = all cores
  bool verify_checksums = true; ///< SHA-256 of each file against the manifest at load
  bool warm_up = true;          ///< run each model once at load (the first call is slow)
  /// Run the models measured faster as oneDNN graphs that way (same outputs to float rounding),
  /// and the others with their residual additions in place (the same outputs, bit for bit).
  bool optimize_graphs = true;
};

/// What the manifest says about one model.
struct ModelInfo {
  std::string name, file, sha256, task, package, origin, weights_licence, package_licence;
  /// SHA-256 of the source weight files' digests (the package's bytes, by path): the same on
  /// every machine, unlike `sha256`, which covers the converted file (conversions of the same
  /// weights differ in their bytes). Identifies what a model computes (registry model ids).
  std::string weights_id;
  std::vector<int64_t> input_shape;  ///< batch first; the batch dimension is dynamic
  int spatial_multiple = 0;          ///< > 0: any height and width that are multiples of it (fully convolutional)
  std::string layout;                ///< "NHWC" or "NCHW"
  std::string colour;                ///< "RGB" or "BGR"
  float scale = 1.f;                 ///< input = (pixel - mean) * scale
  float mean[3] = {0.f, 0.f, 0.f};
  std::vector<std::string> output_names;
  int64_t bytes = 0;
  /// For an int8 model: the float model it was quantised from (its weights_id is that
  /// model's, as it computes the same function to int8 rounding); empty for float models.
  std::string quantized_from;
};

/// A dense float tensor, row-major.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  int64_t numel() const;
};

class ModelRuntime {
 public:
  /// Loads every model in the manifest. Throws Error(kModelUnavailable) naming the missing
  /// or corrupt file.
  explicit ModelRuntime(const RuntimeOptions& options = {});
  ~ModelRuntime();
  ModelRuntime(const ModelRuntime&) = delete;
  ModelRuntime& operator=(const ModelRuntime&) = delete;

  const std::vector<ModelInfo>& models() const;
  const ModelInfo& info(const std::string& name) const;
  const std::string& model_dir() const;

  /// Runs `name` on `input` (a batch in the model's input layout) and returns its outputs
  /// in manifest order. Thread-safe.
  std::vector<Tensor> run(const std::string& name, const Tensor& input) const;

  class Impl;
  /// Internal: the engine's own code reaches the torch modules through this.
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/// Reads and validates manifest.json in `model_dir` without loading any model.
std::vector<ModelInfo> read_manifest(const std::string& model_dir);

/// The model folder used when none is given: $FACEKIT_MODEL_DIR, else the build's default.
std::string default_model_dir();

}  // namespace facekit

namespace facekit {
/// Resizes a whole BGR image (8-bit, 3 channels, rows packed) to the model's input and
/// applies its colour order, mean, scale and layout.
Tensor prepare_input(const ModelInfo& model, const uint8_t* bgr, int width, int height);
}  // namespace facekit
