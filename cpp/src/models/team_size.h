#pragma once
// How many OpenMP threads the next model call may use: all of them on an idle machine, one
// when other processes or other calls of this process are busy (a team waiting at each layer
// for a descheduled member ran 3-5x slower; docs/BENCHMARKS.md, "Threads: the team size
// follows the load").

#include <sched.h>

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

/// While alive, a team of two or more threads runs one thread per CPU: the calling thread on the
/// CPU it is on, the team's other threads each on another CPU of the caller's set. After a pause
/// of ~0.1 s or more this VM's scheduler put the team's threads on one CPU, where they took turns:
/// the one-face extract took 22-31 ms (median) after a pause against 14 back to back, 14-19 with
/// the threads pinned (docs/BENCHMARKS.md, 2026-12-02 14:10). The caller's own CPU set is given
/// back at the end; the team's threads keep theirs (they only run the team's work). Does nothing
/// for a team of one, a caller allowed a single CPU, or with FACEKIT_PIN_THREADS=0.
class PinnedTeam {
 public:
  PinnedTeam() = default;
  explicit PinnedTeam(int team) { pin(team); }
  ~PinnedTeam();
  /// Pins for a team of `team` threads (once).
  void pin(int team);
  PinnedTeam(const PinnedTeam&) = delete;
  PinnedTeam& operator=(const PinnedTeam&) = delete;
  bool pinned() const { return pinned_; }

 private:
  bool pinned_ = false;
  cpu_set_t previous_;
};

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
  PinnedTeam pinned_;
};

}  // namespace facekit::models
