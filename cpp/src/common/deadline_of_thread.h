#pragma once
// The calling thread's deadline, for work handed to a helper thread that must keep it.
#include <chrono>

namespace facekit {

/// This thread's deadline (time_point::max() when there is none).
std::chrono::steady_clock::time_point current_deadline();

}  // namespace facekit
