#include "models/team_size.h"

#include <ATen/Parallel.h>
#include <dirent.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/deadline_of_thread.h"
#include "common/env_switch.h"
#include "facekit/deadline.h"

namespace facekit::models {

namespace {

// A decision is reused this long: a descriptor's four model calls follow each other within
// milliseconds, and reading /proc costs ~10 us a thread.
constexpr auto kDecisionLifetime = std::chrono::milliseconds(5);

// The gap between the two looks of a busy reading.
constexpr auto kSecondLook = std::chrono::microseconds(200);

std::atomic<int> g_in_flight{0};
thread_local bool t_one_thread_lane = false;
// The CPU this team thread is pinned to (-1: not pinned by PinnedTeam).
thread_local int t_pinned_cpu = -1;

void pin_this_thread(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  pthread_setaffinity_np(pthread_self(), sizeof one, &one);
}

// The "R/N" field of /proc/loadavg: runnable scheduling entities now.
int machine_runnable() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return -1;
  double a, b, c;
  int running = -1, total = 0;
  const int n = std::fscanf(f, "%lf %lf %lf %d/%d", &a, &b, &c, &running, &total);
  std::fclose(f);
  return n == 5 ? running : -1;
}

// This process's threads in state R (running or runnable), the caller included.
int own_runnable() {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return -1;
  int count = 0;
  char buf[512];
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string path = std::string("/proc/self/task/") + e->d_name + "/stat";
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) continue;  // the thread ended meanwhile
    const size_t got = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[got] = '\0';
    // "tid (comm) S ...": comm may hold spaces and parentheses; the state follows the last ')'.
    const char* close = std::strrchr(buf, ')');
    if (close && close[1] == ' ' && close[2] == 'R') ++count;
  }
  closedir(dir);
  return count;
}

struct Decision {
  std::mutex mutex;
  std::chrono::steady_clock::time_point at{};
  bool busy = false;
};

bool others_busy() {
  static Decision d;
  std::lock_guard<std::mutex> lock(d.mutex);
  const auto now = std::chrono::steady_clock::now();
  if (now - d.at < kDecisionLifetime) return d.busy;
  d.at = now;
  // A thread runnable for an instant (another program's helper finishing up, a kernel worker)
  // is not a busy machine: only one still runnable a moment later counts.
  d.busy = other_runnable_threads() > 0;
  if (d.busy) {
    std::this_thread::sleep_for(kSecondLook);
    d.busy = other_runnable_threads() > 0;
  }
  return d.busy;
}

}  // namespace

int other_runnable_threads() {
  const int all = machine_runnable(), own = own_runnable();
  if (all < 0 || own < 0) return -1;
  return std::max(0, all - own);
}

bool all_threads_free(int configured) { return configured > 1 && g_in_flight.load() == 0 && !others_busy(); }

OneThreadLane::OneThreadLane() : previous_(t_one_thread_lane) { t_one_thread_lane = true; }
OneThreadLane::~OneThreadLane() { t_one_thread_lane = previous_; }

void run_side_by_side(const std::function<void()>& first, const std::function<void()>& second) {
  const auto deadline = current_deadline();
  std::exception_ptr errors[2];
  auto run = [&](int which) {
    OneThreadLane lane;
    ScopedDeadline keep(deadline);
    try {
      (which == 0 ? first : second)();
    } catch (...) {
      errors[which] = std::current_exception();
    }
  };
  PinnedTeam pinned(2);
#pragma omp parallel num_threads(2)
  {
    if (omp_get_num_threads() == 1) {
      run(0);
      run(1);
    } else if (omp_get_thread_num() < 2) {
      run(omp_get_thread_num());
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

static bool pinning_on() {
  static const bool on = env_switch_on("FACEKIT_PIN_THREADS");
  return on;
}

void PinnedTeam::pin(int team) {
  if (pinned_ || team < 2 || !pinning_on()) return;
  if (pthread_getaffinity_np(pthread_self(), sizeof previous_, &previous_) != 0) return;
  const int here = sched_getcpu();
  if (here < 0 || !CPU_ISSET(here, &previous_) || CPU_COUNT(&previous_) < 2) return;
  std::vector<int> others;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (c != here && CPU_ISSET(c, &previous_)) others.push_back(c);
  pin_this_thread(here);
  pinned_ = true;
  // The same threads LibTorch's parallel regions of this caller get: libgomp keeps one pool per
  // calling thread.
#pragma omp parallel num_threads(team)
  {
    const int i = omp_get_thread_num();
    if (i > 0) {
      const int cpu = others[(i - 1) % others.size()];
      if (t_pinned_cpu != cpu) {
        pin_this_thread(cpu);
        t_pinned_cpu = cpu;
      }
    }
  }
}

PinnedTeam::~PinnedTeam() {
  if (pinned_) pthread_setaffinity_np(pthread_self(), sizeof previous_, &previous_);
}

TeamScope::TeamScope(int configured, bool adapt) : team_(std::max(1, configured)) {
  const bool other_calls = g_in_flight.fetch_add(1) > 0;
  if (t_one_thread_lane || (adapt && team_ > 1 && (other_calls || others_busy()))) team_ = 1;
  // LibTorch reads this thread's OpenMP thread count (at::get_num_threads); set after its
  // lazy per-thread initialisation, which would otherwise overwrite it.
  (void)at::get_num_threads();
  if (omp_get_max_threads() != team_) omp_set_num_threads(team_);
  pinned_.pin(team_);
}

TeamScope::~TeamScope() { g_in_flight.fetch_sub(1); }

}  // namespace facekit::models
