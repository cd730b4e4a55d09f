#include <dlfcn.h>
#include <malloc.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "common/heap_huge_pages.h"
#include "facekit/deadline.h"
#include "facekit/error.h"
#include "models/graph_rewrite.h"
#include "models/runtime_impl.h"
#include "models/sha256.h"
#include "models/team_size.h"

namespace facekit {
namespace {

// Models that run faster as oneDNN (MKL-DNN) graphs (torch::jit::optimize_for_inference:
// frozen, convolutions prepacked and fused with their activations), measured at batch 1 on the
// 2-core machine (docs/BENCHMARKS.md): dlib's ResNet 10.0 -> 4.1 ms at 2 threads; faceres the
// same at 2 threads (9.0 vs 9.6 ms) but 15-17 -> 11-12.5 ms at one thread, where LibTorch
// sends its 1x1 convolutions down a slow path (calls run on one thread under load:
// models/team_size.h). The others measured slower (depthwise convolutions leave the oneDNN
// layout: BlazeFace 9 -> 13 ms, FaceMesh 6.7 -> 9 ms at one thread).
bool runs_faster_as_onednn(const std::string& model) { return model == "face_recognition" || model == "faceres"; }

// Models whose depthwise-separable convolutions run as facekit's kernels
// (models/separable_conv.h): MobileFaceNet 0.67x its plain graph at one thread where its
// oneDNN graph ran 0.88-0.90x, 0.55x against 0.90x at two (`facekit_bench_models models/dist
// 30 T mobilefacenet 112x112`, 2026-12-02); the descriptor alone 6.4-7.4 against 8.7-10.4 ms.
bool has_separable_kernels(const std::string& model) { return model == "mobilefacenet"; }

// int8 models are packed for oneDNN's quantised kernels at conversion
// (models/tfjs2torch/quantize.py); a LibTorch built without them cannot load one.
bool has_onednn_int8() {
  const auto& engines = at::globalContext().supportedQEngines();
  return std::find(engines.begin(), engines.end(), at::QEngine::ONEDNN) != engines.end();
}

}  // namespace

namespace {
int g_configured_threads = 1;

bool fixed_threads() {
  static const bool fixed = std::getenv("FACEKIT_FIXED_THREADS") != nullptr;  // benchmarks
  return fixed;
}

// One stderr line per model call (name, input shape, milliseconds): where a request's time
// goes, for bench/engine/stages.py. Read once; off unless set to a non-empty value.
bool log_model_calls() {
  static const bool on = [] {
    const char* v = std::getenv("FACEKIT_LOG_MODEL_CALLS");
    return v != nullptr && *v != '\0' && std::string(v) != "0";
  }();
  return on;
}
}  // namespace

void ModelRuntime::Impl::side_by_side(const std::function<void()>& first, const std::function<void()>& second) const {
  if (fixed_threads() || !models::all_threads_free(g_configured_threads)) {
    first();
    second();
    return;
  }
  models::run_side_by_side(first, second);
}

void configure_inference_process(int num_threads) {
  static std::once_flag once;
  std::call_once(once, [num_threads] {
    // glibc handing freed memory back to the OS made timings swing 2x (shared/models.md).
    if (!mallopt(M_MMAP_THRESHOLD, 1 << 30)) mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    // One arena: a thread's own arena lives in heaps of at most 64 MB, so every image-sized
    // block a worker thread allocates became a fresh mmap, page-faulted in and unmapped each
    // time (a 36 MP detection took 2.4-2.8 s on a worker thread, 0.6-0.8 s on the main thread
    // or with one arena; docs/RELIABILITY.md). Small blocks still come from per-thread caches;
    // the kernels' row buffers are kept per thread (common/thread_buffer.h), so that a team's
    // threads do not queue for the arena's lock at every layer.
    mallopt(M_ARENA_MAX, 1);
    // The heap on huge pages (common/heap_huge_pages.h): grown in steps of 64 MB, each advised
    // at the next model call before most of it is touched, and the first 512 MB advised now,
    // before the models' weights are read into it.
    mallopt(M_TOP_PAD, 64 << 20);
    reserve_heap_on_huge_pages(512ul << 20);
    // An int8 model is unpacked for the quantised engine current at its load.
    if (has_onednn_int8()) at::globalContext().setQEngine(at::QEngine::ONEDNN);
    // Torch parallelises across cores itself; OpenBLAS threads on top of that oversubscribe.
    using SetThreads = void (*)(int);
    if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(1);
    int n = num_threads > 0 ? num_threads : static_cast<int>(std::thread::hardware_concurrency());
    g_configured_threads = n > 0 ? n : 1;
    at::set_num_threads(g_configured_threads);
    // The profiling executor re-specialises graphs as threads and batch sizes vary: served
    // from several worker threads it made requests 5-8x slower (docs/BENCHMARKS.md). The
    // traced graphs are already static, so the simple executor loses nothing.
    if (!std::getenv("FACEKIT_JIT_PROFILING")) {
      torch::jit::getProfilingMode() = false;
      torch::jit::getExecutorMode() = false;
    }
  });
}

ModelRuntime::Impl::Impl(const RuntimeOptions& options)
    : model_dir(options.model_dir.empty() ? default_model_dir() : options.model_dir) {
  configure_inference_process(options.num_threads);
  infos = read_manifest(model_dir);
  // Without oneDNN's int8 kernels the int8 models are left out: their float models serve.
  if (!has_onednn_int8())
    infos.erase(std::remove_if(infos.begin(), infos.end(), [](const ModelInfo& m) { return !m.quantized_from.empty(); }),
                infos.end());
  for (size_t i = 0; i < infos.size(); ++i) {
    const ModelInfo& m = infos[i];
    const std::string path = model_dir + "/" + m.file;
    if (options.verify_checksums) {
      const std::string got = models::sha256_file(path);
      if (got != m.sha256)
        throw Error(ErrorCode::kModelUnavailable,
                    "checksum mismatch for " + path + ": " + got + " (manifest: " + m.sha256 + ")");
    }
    torch::jit::Module module;
    try {
      module = torch::jit::load(path);
    } catch (const c10::Error& e) {
      throw Error(ErrorCode::kModelUnavailable, "cannot load model " + path + ": " + e.what_without_backtrace());
    }
    module.eval();
    if (options.optimize_graphs && runs_faster_as_onednn(m.name) && at::hasMKLDNN())
      module = torch::jit::optimize_for_inference(module);
    else if (options.optimize_graphs && !m.quantized_from.empty())
      models::vectorise_quantize(module);  // the same bytes
    else if (options.optimize_graphs && has_separable_kernels(m.name)) {
      models::fuse_residual_additions(module);      // bit for bit
      models::fuse_separable_convolutions(module);  // to float rounding
    } else if (options.optimize_graphs) {
      if (models::fuse_residual_additions(module) > 0)  // bit for bit
        if (models::fuse_blaze_blocks(module) > 0)      // to float rounding
          models::chain_blaze_blocks(module);           // bit for bit
      models::fuse_whole_input_convolutions(module);    // to float rounding
      models::fuse_stride_two_blocks(module);           // to float rounding
      models::fuse_input_convolutions(module);          // to float rounding
      // What is left (BlazeFace's heads, 1x1 convolutions of 96 channels to 2, 6, 32 and 96,
      // and its last stride-2 pair; the iris and age/gender models' convolutions): LibTorch
      // hands small maps to OpenBLAS's generic kernel or to oneDNN at ~0.1 ms a call.
      models::fuse_separable_convolutions(module);  // to float rounding
    }
    modules_.emplace(m.name, std::move(module));
    index_.emplace(m.name, i);
    if (options.warm_up) {
      std::vector<int64_t> shape = m.input_shape;
      shape[0] = 1;
      forward(m.name, at::zeros(shape));
    }
  }
}

const ModelInfo& ModelRuntime::Impl::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(ErrorCode::kNotFound, "no model named " + name + " in " + model_dir);
  return infos[it->second];
}

std::vector<at::Tensor> ModelRuntime::Impl::forward(const std::string& name, const at::Tensor& input) const {
  const ModelInfo& m = info(name);
  if (input.dim() != 4)
    throw Error(ErrorCode::kInvalidArgument, name + ": input must be 4-D, got " + std::to_string(input.dim()));
  check_deadline();
  const bool nhwc = m.layout == "NHWC";
  for (int d = 1; d < 4; ++d) {
    const bool spatial = nhwc ? d < 3 : d > 1;
    if (spatial && m.spatial_multiple > 0) {
      if (input.size(d) < m.spatial_multiple || input.size(d) % m.spatial_multiple != 0)
        throw Error(ErrorCode::kInvalidArgument, name + ": input dimension " + std::to_string(d) + " is " +
                                                     std::to_string(input.size(d)) + ", model wants a multiple of " +
                                                     std::to_string(m.spatial_multiple));
      continue;
    }
    if (input.size(d) != m.input_shape[d])
      throw Error(ErrorCode::kInvalidArgument, name + ": input dimension " + std::to_string(d) + " is " +
                                                   std::to_string(input.size(d)) + ", model wants " +
                                                   std::to_string(m.input_shape[d]));
  }
  c10::InferenceMode guard;
  advise_heap_huge_pages();
  models::TeamScope team(g_configured_threads, !fixed_threads());
  const bool log = log_model_calls();
  const auto start = log ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  auto out = modules_.at(name).forward({input.to(at::kFloat).contiguous()});
  if (log) {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "facekit model %s %lldx%lldx%lldx%lld %.2f ms team %d\n", name.c_str(),
                 static_cast<long long>(input.size(0)), static_cast<long long>(input.size(1)),
                 static_cast<long long>(input.size(2)), static_cast<long long>(input.size(3)), ms, team.team());
  }
  std::vector<at::Tensor> tensors;
  for (const auto& v : out.toTuple()->elements()) tensors.push_back(v.toTensor());
  return tensors;
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

ModelRuntime::ModelRuntime(const RuntimeOptions& options) : impl_(std::make_unique<Impl>(options)) {}
ModelRuntime::~ModelRuntime() = default;

const std::vector<ModelInfo>& ModelRuntime::models() const { return impl_->infos; }
const ModelInfo& ModelRuntime::info(const std::string& name) const { return impl_->info(name); }
const std::string& ModelRuntime::model_dir() const { return impl_->model_dir; }

std::vector<Tensor> ModelRuntime::run(const std::string& name, const Tensor& input) const {
  if (input.numel() != static_cast<int64_t>(input.data.size()))
    throw Error(ErrorCode::kInvalidArgument, "tensor data size does not match its shape");
  auto in = at::from_blob(const_cast<float*>(input.data.data()), input.shape, at::kFloat);
  std::vector<Tensor> out;
  for (const auto& t : impl_->forward(name, in)) {
    auto c = t.to(at::kFloat).contiguous();
    Tensor r;
    r.shape.assign(c.sizes().begin(), c.sizes().end());
    r.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace facekit
