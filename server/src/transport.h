#pragma once
// Transport: a ROUTER socket per endpoint, a pool of worker threads behind an inproc
// DEALER, poll with timeouts, linger 0; stop() drains in-flight requests.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "protocol.h"

namespace facekit::server {

class Transport {
 public:
  /// `inline_quick`: answer the protocol's quick requests on the transport's thread.
  Transport(zmq::context_t& ctx, const std::string& endpoint, const Protocol& protocol, int workers,
            bool inline_quick = false);
  ~Transport();
  /// Forwards requests until `stop` becomes true, then lets workers finish their request.
  void run(const std::atomic<bool>& stop);

 private:
  void worker_loop(int index);
  zmq::context_t& ctx_;
  std::string endpoint_, backend_;
  const Protocol& protocol_;
  std::atomic<bool> workers_stop_{false};
  std::vector<std::thread> workers_;
  int n_workers_;
  bool inline_quick_;
};

}  // namespace facekit::server
