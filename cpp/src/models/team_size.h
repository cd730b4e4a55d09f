#pragma once
// How many OpenMP threads the next model call may use: all of them on an idle machine, one
// when other processes or other calls of this process are busy (a team waiting at each layer
// for a descheduled member ran 3-5x slower; docs/BENCHMARKS.md, "Threads under load").

namespace facekit::models {

/// Cores that other processes kept busy lately: (busy CPU time of the machine - this
/// process's CPU time) / wall time, over windows of at least a quarter second, from
/// /proc/stat. 0 where /proc is not readable.
double other_processes_cores();

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
