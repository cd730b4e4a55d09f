#pragma once
// Transport: a ROUTER socket per endpoint and a pool of worker threads behind an inproc
// ROUTER. The transport thread schedules: it keeps the requests waiting, gives each to an idle
// worker, and never lets heavy requests (Protocol::heavy) take every worker, so cheap requests
// are answered while slow ones run. Each request carries its deadline (request_timeout_ms
// from its arrival) to the worker. stop() answers every request already taken.
#include <atomic>
#include <chrono>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "protocol/protocol.h"

namespace facekit::server {

class Transport {
 public:
  /// `inline_quick`: answer the protocol's quick requests on the transport's thread.
  /// `request_timeout_ms`: each request's deadline, from its arrival.
  /// `max_message_bytes`: larger messages are dropped by the socket as they arrive (the
  /// sender is disconnected), never read whole; 0 = no limit.
  Transport(zmq::context_t& ctx, const std::string& endpoint, const Protocol& protocol, int workers,
            bool inline_quick = false, int request_timeout_ms = 15000, int64_t max_message_bytes = 0);
  ~Transport();
  /// Binds the endpoint (throws zmq::error_t: address in use, bad address). Call before
  /// starting anything that would have to be stopped if it fails.
  void bind();
  /// The endpoint as bound: a wildcard port ("tcp://127.0.0.1:*") reads as the port taken.
  const std::string& endpoint() const { return endpoint_; }
  /// Forwards requests until `stop` becomes true, then answers those already taken (and those
  /// already queued on the socket), and waits for the replies to leave.
  void run(const std::atomic<bool>& stop);
  /// How many heavy requests may run at once: all workers but one (at least one).
  static int heavy_limit(int workers) { return workers > 1 ? workers - 1 : 1; }

 private:
  struct Waiting {
    std::vector<zmq::message_t> frames;  ///< client envelope, then the body
    std::chrono::steady_clock::time_point deadline;
  };
  void worker_loop(int index);
  zmq::context_t& ctx_;
  std::string endpoint_, backend_;
  zmq::socket_t frontend_, backend_socket_;
  bool bound_ = false;
  const Protocol& protocol_;
  std::atomic<bool> workers_stop_{false};
  std::vector<std::thread> workers_;
  int n_workers_;
  bool inline_quick_;
  std::chrono::milliseconds timeout_;
  int64_t max_message_bytes_;
};

}  // namespace facekit::server
