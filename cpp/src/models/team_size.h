#pragma once
// How many OpenMP threads the next model call may use: all of them on an idle machine, one
// when other processes or other calls of this process are busy (a team waiting at each layer
// for a descheduled member ran 3-5x slower; docs/BENCHMARKS.md, "Threads: the team size
// follows the load").

#include <functional>

namespace facekit::models {

/// Threads of other processes that are runnable right now: the kernel's count of runnable
/// threads (/proc/loadavg) less this process's own (/proc/self/task/*/stat in state R). A
/// snapshot, not an average: when calls alternate with another program's (a benchmark
/// harness, a pipeline), the other program's last burst must not count. -1 if /proc is not
/// readable.
int other_runnable_threads();

/// Whether a model call starting now would get all `configured` threads: no other call of this
/// process in flight and no other process busy (TeamScope's own decision).
bool all_threads_free(int configured);

/// While alive, model calls on this thread use a team of one: the thread is one of two lanes
/// running side by side (ModelRuntime::Impl::side_by_side).
class OneThreadLane {
 public:
  OneThreadLane();
  ~OneThreadLane();
  OneThreadLane(const OneThreadLane&) = delete;
  OneThreadLane& operator=(const OneThreadLane&) = delete;

 private:
  bool previous_;
};

/// Runs `first` and `second` at once as the two threads of one OpenMP team, each a
/// OneThreadLane keeping the caller's deadline (one after the other if the team gets one
/// thread). The team is the caller's own: a separate helper thread competed with the caller's
/// idle team members, which spin a while after each call (extract 32 -> 35-38 ms). An
/// exception of either is rethrown once both have ended, `first`'s first.
void run_side_by_side(const std::function<void()>& first, const std::function<void()>& second);

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
