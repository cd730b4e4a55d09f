// Median latency of every converted model at batch 1 and 8, through the same runtime the
// engine uses, and at batch 1 as the plain TorchScript graph (RuntimeOptions::optimize_graphs
// off), alternating with the optimised one so that both see the same machine.
// usage: facekit_bench_models [model_dir] [runs=20] [threads=cores] [model HxW...]
// With a model and sizes: that model alone at batch 1 at each input size (fully convolutional
// models such as blazeface-back), to see what a smaller pass saves, beside its plain graph.
// With FACEKIT_BENCH_OPS=1 as well: where the optimised graph's time goes, operator by
// operator (the outermost operators only, keyed by name and first input's shape).
#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/record_function.h>

#include "facekit/models.h"
#include "models/runtime_impl.h"

namespace {

// Time of each outermost operator the calling thread runs (nested ones are inside it).
struct OpTimes {
  std::mutex mutex;
  std::map<std::string, std::pair<double, int>> ms_calls;
};
OpTimes op_times;
thread_local int op_depth = 0;

struct OpStart : at::ObserverContext {
  std::chrono::steady_clock::time_point t0;
  std::string key;
};

// Only operators (ns::name): not the TorchScript method calls around them.
bool is_operator(const at::RecordFunction& fn) { return std::string(fn.name()).find("::") != std::string::npos; }

std::unique_ptr<at::ObserverContext> on_op_start(const at::RecordFunction& fn) {
  if (!is_operator(fn) || op_depth++ > 0) return nullptr;
  auto c = std::make_unique<OpStart>();
  c->key = fn.name();
  const auto inputs = fn.inputs();
  if (!inputs.empty() && inputs[0].isTensor()) {
    c->key += " ";
    for (auto d : inputs[0].toTensor().sizes()) c->key += std::to_string(d) + "x";
    c->key.pop_back();
  }
  c->t0 = std::chrono::steady_clock::now();
  return c;
}

void on_op_end(const at::RecordFunction& fn, at::ObserverContext* ctx) {
  if (!is_operator(fn)) return;
  --op_depth;
  if (!ctx) return;
  auto* c = static_cast<OpStart*>(ctx);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c->t0).count();
  std::lock_guard<std::mutex> lock(op_times.mutex);
  auto& e = op_times.ms_calls[c->key];
  e.first += ms;
  e.second += 1;
}

// The operators taking the most time over `runs` forward passes, per pass.
void print_op_times(const facekit::ModelRuntime& rt, const std::string& name, const at::Tensor& input, int runs) {
  op_times.ms_calls.clear();
  auto handle = at::addGlobalCallback(at::RecordFunctionCallback(on_op_start, on_op_end).needsInputs(true));
  for (int i = 0; i < runs; ++i) rt.impl().forward(name, input);
  at::removeCallback(handle);
  std::vector<std::pair<double, std::string>> rows;
  double total = 0;
  for (const auto& [key, e] : op_times.ms_calls) {
    rows.emplace_back(e.first / runs, key + " (" + std::to_string(e.second / runs) + " calls)");
    total += e.first / runs;
  }
  std::sort(rows.rbegin(), rows.rend());
  std::printf("\n| operator, first input (calls per pass) | ms per pass | share |\n|---|---|---|\n");
  for (size_t i = 0; i < rows.size() && i < 30; ++i)
    std::printf("| %s | %.2f | %.1f %% |\n", rows[i].second.c_str(), rows[i].first, 100 * rows[i].first / total);
  std::printf("| all operators | %.2f | |\n\n", total);
}

}  // namespace

int main(int argc, char** argv) {
  facekit::RuntimeOptions opts;
  if (argc > 1) opts.model_dir = argv[1];
  const int runs = argc > 2 ? std::atoi(argv[2]) : 20;
  if (argc > 3) opts.num_threads = std::atoi(argv[3]);
  facekit::ModelRuntime rt(opts);
  facekit::RuntimeOptions plain_opts = opts;
  plain_opts.optimize_graphs = false;
  facekit::ModelRuntime plain(plain_opts);
  auto median = [](std::vector<double> ms) {
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    return ms[ms.size() / 2];
  };
  auto time_ms = [](const facekit::ModelRuntime& r, const std::string& name, const at::Tensor& input) {
    auto t0 = std::chrono::steady_clock::now();
    r.impl().forward(name, input);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  if (argc > 5) {
    const std::string name = argv[4];
    const auto& info = rt.info(name);
    const bool nhwc = info.layout == "NHWC";
    std::printf("| %s input | batch 1 median ms | plain graph ms | ratio |\n|---|---|---|---|\n", name.c_str());
    for (int a = 5; a < argc; ++a) {
      int h = 0, w = 0;
      if (std::sscanf(argv[a], "%dx%d", &h, &w) != 2) return 2;
      std::vector<int64_t> shape = info.input_shape;
      shape[0] = 1;
      shape[nhwc ? 1 : 2] = h;
      shape[nhwc ? 2 : 3] = w;
      auto input = at::rand(shape);
      rt.impl().forward(name, input);
      plain.impl().forward(name, input);
      std::vector<double> ms, plain_ms;
      for (int i = 0; i < runs; ++i) {
        ms.push_back(time_ms(rt, name, input));
        plain_ms.push_back(time_ms(plain, name, input));
      }
      const double fused = median(ms), unfused = median(plain_ms);
      std::printf("| %dx%d | %.2f | %.2f | %.3f |\n", h, w, fused, unfused, fused / unfused);
      if (std::getenv("FACEKIT_BENCH_OPS")) print_op_times(rt, name, input, runs);
    }
    return 0;
  }
  std::printf("| model | batch 1 median ms | plain graph, batch 1 ms | batch 8 median ms | per image at 8 |\n"
              "|---|---|---|---|---|\n");
  for (const auto& m : rt.models()) {
    double medians[2], plain_b1 = 0;
    int b_index = 0;
    for (int batch : {1, 8}) {
      std::vector<int64_t> shape = m.input_shape;
      shape[0] = batch;
      auto input = at::rand(shape);
      rt.impl().forward(m.name, input);  // warm this batch size
      if (batch == 1) plain.impl().forward(m.name, input);
      std::vector<double> ms, plain_ms;
      for (int i = 0; i < runs; ++i) {
        ms.push_back(time_ms(rt, m.name, input));
        if (batch == 1) plain_ms.push_back(time_ms(plain, m.name, input));
      }
      medians[b_index++] = median(ms);
      if (batch == 1) plain_b1 = median(plain_ms);
    }
    std::printf("| %s | %.2f | %.2f | %.2f | %.2f |\n", m.name.c_str(), medians[0], plain_b1, medians[1],
                medians[1] / 8);
  }
  return 0;
}
