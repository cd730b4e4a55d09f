// Reading one feature-mode search request (1,024 numbers as the Python client writes them)
// into nlohmann::json: nlohmann's own parser against the server's simdjson reader, in one
// process. usage: facekit_bench_json [runs=2000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/json_reader.h"

namespace {

template <typename Parse>
double median_us(const std::string& text, int runs, Parse parse) {
  std::vector<double> us;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const nlohmann::json j = parse(text);
    if (j["feature"].size() != 1024) std::abort();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::mt19937 rng(1);
  std::normal_distribution<double> n(0.0, 0.03);
  // Python's json writes doubles with up to 17 significant digits, as the client sends them.
  std::string text = R"({"interface":"1","api_key":"k","group_id":"g","score":0,"topk":5,"field":"feature","feature":[)";
  for (int i = 0; i < 1024; ++i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%.17g", i ? ", " : "", n(rng));
    text += buf;
  }
  text += "]}";
  const double nl = median_us(text, runs, [](const std::string& t) { return nlohmann::json::parse(t); });
  const double simd = median_us(text, runs, [](const std::string& t) { return facekit::server::read_json(t); });
  std::printf("request of %zu bytes, median of %d: nlohmann %.1f us, simdjson reader %.1f us (%.1fx)\n",
              text.size(), runs, nl, simd, nl / simd);
  return 0;
}
