#pragma once
// How many OpenMP threads the next model call may use: all of them on an idle machine, one
// when other processes or other calls of this process are busy (a team waiting at each layer
// for a descheduled member ran 3-5x slower; docs/BENCHMARKS.md, "Threads: the team size
// follows the load").

namespace facekit::models {

/// Threads of other processes that are runnable right now: the kernel's count of runnable
/// threads (/proc/loadavg) less this process's own (/proc/self/task/*/stat in state R). A
/// snapshot, not an average: when calls alternate with another program's (a benchmark
/// harness, a pipeline), the other program's last burst must not count. -1 if /proc is not
/// readable.
int other_runnable_threads();

/// Holds one model call in flight; `team()` is the thread count chosen for it.
class TeamScope {
 public:
  /// `configured`: the threads asked for (RuntimeOptions::num_threads); `adapt` false keeps
  /// them whatever the load (FACEKIT_FIXED_THREADS, for benchmarks).
  TeamScope(int configured, bool adapt);
  ~TeamScope();
  TeamScope(const TeamScope&) = delete;
  TeamScope& operator=(const TeamScope&) = delete;
  int team() const { return team_; }

 private:
  int team_;
};

}  // namespace facekit::models
