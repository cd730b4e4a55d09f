#include "facekit/deadline.h"

#include "common/deadline_of_thread.h"
#include "facekit/error.h"

namespace facekit {

namespace {
// time_point::max(): no deadline.
thread_local std::chrono::steady_clock::time_point t_deadline = std::chrono::steady_clock::time_point::max();
}  // namespace

ScopedDeadline::ScopedDeadline(std::chrono::steady_clock::time_point at) : previous_(t_deadline) { t_deadline = at; }

ScopedDeadline::~ScopedDeadline() { t_deadline = previous_; }

std::chrono::steady_clock::time_point current_deadline() { return t_deadline; }

void check_deadline() {
  if (t_deadline != std::chrono::steady_clock::time_point::max() && std::chrono::steady_clock::now() > t_deadline)
    throw Error(ErrorCode::kDeadlineExceeded, "the request ran past its deadline (request_timeout_ms)");
}

}  // namespace facekit
