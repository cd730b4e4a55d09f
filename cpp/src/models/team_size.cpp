#include "models/team_size.h"

#include <ATen/Parallel.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

namespace facekit::models {

namespace {

// Busy cores below this count as idle: the machine's own housekeeping, a shell.
constexpr double kIdleBelowCores = 0.3;
constexpr double kMinWindowSeconds = 0.25;

std::atomic<int> g_in_flight{0};

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// Busy (non-idle, non-iowait) CPU seconds of the whole machine since boot; < 0 if unknown.
double machine_busy_seconds() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return -1;
  unsigned long long v[8] = {};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                            &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n < 4) return -1;
  static const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  // user nice system idle iowait irq softirq steal: steal counts as busy (the host took it).
  return static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * tick;
}

struct Sampler {
  std::mutex mutex;
  std::chrono::steady_clock::time_point at{};
  double busy = -1, own = 0, others = 0;
};

}  // namespace

double other_processes_cores() {
  static Sampler s;
  std::lock_guard<std::mutex> lock(s.mutex);
  const auto now = std::chrono::steady_clock::now();
  const double wall = std::chrono::duration<double>(now - s.at).count();
  if (s.busy >= 0 && wall < kMinWindowSeconds) return s.others;
  const double busy = machine_busy_seconds(), own = process_cpu_seconds();
  if (busy < 0) return 0;
  if (s.busy >= 0) s.others = std::max(0.0, (busy - s.busy) - (own - s.own)) / wall;
  s.at = now;
  s.busy = busy;
  s.own = own;
  return s.others;
}

TeamScope::TeamScope(int configured, bool adapt) : team_(std::max(1, configured)) {
  const bool other_calls = g_in_flight.fetch_add(1) > 0;
  if (adapt && team_ > 1 && (other_calls || other_processes_cores() > kIdleBelowCores)) team_ = 1;
  // LibTorch reads this thread's OpenMP thread count (at::get_num_threads); set after its
  // lazy per-thread initialisation, which would otherwise overwrite it.
  (void)at::get_num_threads();
  if (omp_get_max_threads() != team_) omp_set_num_threads(team_);
}

TeamScope::~TeamScope() { g_in_flight.fetch_sub(1); }

}  // namespace facekit::models
