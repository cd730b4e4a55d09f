// Two tools for bench/server/run.py:
//   facekit_bench_server populate REGISTRY N DIM MODEL_ID   bulk-registers N random unit features
//   facekit_bench_server load ENDPOINT REQUEST_FILE CLIENTS SECONDS
// `load` runs CLIENTS threads, each a REQ-like DEALER sending the same pre-serialised request
// and waiting for its reply; prints JSON with throughput and latency percentiles.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "facekit/registry.h"

namespace {

int populate(const std::string& path, int n, int dim, const std::string& model) {
  facekit::RegistryOptions o;
  o.path = path;
  o.dimension = dim;
  o.feature_model_id = model;
  facekit::Registry reg(o);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  const auto t0 = std::chrono::steady_clock::now();
  constexpr int kChunk = 5000;
  for (int start = 0; start < n; start += kChunk) {
    std::vector<std::pair<std::string, std::vector<facekit::Feature>>> people;
    for (int i = start; i < std::min(n, start + kChunk); ++i) {
      facekit::Feature f(dim);
      for (auto& v : f) v = normal(rng);
      people.push_back({std::to_string(i), {std::move(f)}});
    }
    reg.put_many("bench", people);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  reg.save_snapshot();
  std::printf("{\"rows\": %d, \"seconds\": %.2f, \"rows_per_s\": %.0f}\n", n, s, n / s);
  return 0;
}

int load(const std::string& endpoint, const std::string& request_file, int clients, double seconds) {
  std::ifstream f(request_file, std::ios::binary);
  const std::string body((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  zmq::context_t ctx(2);
  std::vector<std::vector<double>> lat(clients);
  std::atomic<int> errors{0};
  std::string first_reply;
  std::vector<std::thread> threads;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      zmq::socket_t s(ctx, zmq::socket_type::dealer);
      s.set(zmq::sockopt::linger, 0);
      s.set(zmq::sockopt::rcvtimeo, 30000);
      s.connect(endpoint);
      while (std::chrono::steady_clock::now() < deadline) {
        const auto t0 = std::chrono::steady_clock::now();
        s.send(zmq::buffer(body), zmq::send_flags::none);
        zmq::message_t reply;
        if (!s.recv(reply)) {
          ++errors;
          break;
        }
        lat[c].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        if (c == 0 && first_reply.empty()) first_reply = reply.to_string().substr(0, 120);
      }
    });
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(p * all.size()))]; };
  std::printf("{\"clients\": %d, \"requests\": %zu, \"req_per_s\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
              "\"errors\": %d}\n",
              clients, all.size(), all.size() / seconds, pct(0.5), pct(0.99), errors.load());
  std::fprintf(stderr, "first reply: %s\n", first_reply.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "populate" && argc == 6) return populate(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), argv[5]);
  if (mode == "load" && argc == 6) return load(argv[2], argv[3], std::atoi(argv[4]), std::atof(argv[5]));
  std::fprintf(stderr, "usage: %s populate REGISTRY N DIM MODEL_ID | load ENDPOINT REQUEST_FILE CLIENTS SECONDS\n",
               argv[0]);
  return 2;
}
