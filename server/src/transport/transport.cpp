#include "transport/transport.h"

#include <malloc.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>

#include "facekit/deadline.h"
#include "log.h"

namespace facekit::server {

namespace {
std::atomic<int> g_transport_count{0};

// The reply to one request body, whatever happens, with the request's deadline set for the
// engine's work.
std::string answer(const Protocol& protocol, const zmq::message_t& body, std::chrono::steady_clock::time_point deadline) {
  try {
    ScopedDeadline scoped(deadline);
    return protocol.handle(body.to_string());
  } catch (...) {
    return "{\"error_message\":\"" + wire_text(kServerError) + "\"}";
  }
}

constexpr const char* kReady = "ready";
std::string worker_id(int index) { return "w" + std::to_string(index); }
int worker_index(const std::string& id) {
  if (id.size() < 2 || id[0] != 'w' || id.find_first_not_of("0123456789", 1) != std::string::npos || id.size() > 6) return -1;
  return std::stoi(id.substr(1));
}
constexpr int kPollMs = 100;
// Requests larger than this, or that took longer than this, are followed by a malloc_trim
// once the worker has been idle for kTrimWhenIdleFor.
constexpr size_t kTrimAfterBytes = 256 * 1024;
constexpr auto kTrimAfterTime = std::chrono::milliseconds(250);
constexpr auto kTrimWhenIdleFor = std::chrono::milliseconds(500);

// False on timeout. A signal (EINTR) is a wake-up, not an error. The frames of one message
// arrive together, so only the first can time out.
bool receive(zmq::socket_t& sock, zmq::message_t& msg) {
  try {
    return static_cast<bool>(sock.recv(msg, zmq::recv_flags::none));
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    throw;
  }
}

// zmq::poll throws on EINTR (a signal arrived): that is a wake-up, not an error.
int poll_some(zmq::pollitem_t* items, size_t n) {
  try {
    return zmq::poll(items, n, std::chrono::milliseconds(kPollMs));
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return 0;
    throw;
  }
}
}  // namespace

Transport::Transport(zmq::context_t& ctx, const std::string& endpoint, const Protocol& protocol, int workers,
                     bool inline_quick, int request_timeout_ms, int64_t max_message_bytes)
    : ctx_(ctx),
      endpoint_(endpoint),
      backend_("inproc://facekit-workers-" + std::to_string(g_transport_count++)),
      frontend_(ctx, zmq::socket_type::router),
      backend_socket_(ctx, zmq::socket_type::router),
      protocol_(protocol),
      n_workers_(std::max(1, workers)),
      inline_quick_(inline_quick),
      timeout_(request_timeout_ms),
      max_message_bytes_(max_message_bytes) {}

void Transport::bind() {
  if (bound_) return;
  frontend_.set(zmq::sockopt::linger, 0);
  backend_socket_.set(zmq::sockopt::linger, 0);
  backend_socket_.set(zmq::sockopt::router_mandatory, 1);  // a send to a gone worker fails, not vanishes
  if (max_message_bytes_ > 0) frontend_.set(zmq::sockopt::maxmsgsize, max_message_bytes_);
  frontend_.bind(endpoint_);
  // A wildcard port ("tcp://127.0.0.1:*") is the kernel's pick: from here on, name the real one.
  endpoint_ = frontend_.get(zmq::sockopt::last_endpoint);
  backend_socket_.bind(backend_);
  bound_ = true;
}

Transport::~Transport() {
  workers_stop_ = true;
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

// A worker says "ready" once, then takes [deadline][client envelope...][body] and returns
// [client envelope...][reply]: each reply also says it is ready again.
void Transport::worker_loop(int index) {
  zmq::socket_t sock(ctx_, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  sock.set(zmq::sockopt::routing_id, worker_id(index));
  // A blocking receive with a timeout, not poll + receive: under load the next request is
  // already queued and is taken without a system call (poll is one per call).
  sock.set(zmq::sockopt::rcvtimeo, kPollMs);
  sock.connect(backend_);
  sock.send(zmq::buffer(std::string_view(kReady)), zmq::send_flags::none);
  // A big request (big message, or long work: big images) leaves big free blocks in the heap;
  // glibc keeps them (the runtime raised its trim threshold for steady timings), so RSS would
  // stay high after hostile traffic. They are given back once the worker has been idle for a
  // while: back-to-back big requests still reuse them (trimming after each one made the next
  // fault its memory in again: a 36 MP request 0.8-1.25 s -> 1.9-2.4 s).
  bool trim_when_idle = false;
  auto last_request = std::chrono::steady_clock::now();
  while (!workers_stop_) {
    std::vector<zmq::message_t> frames;
    do {
      frames.emplace_back();
      if (!receive(sock, frames.back())) break;
    } while (frames.back().more());
    if (frames.size() < 3 || frames.back().more() || frames[0].size() != sizeof(int64_t)) {
      if (trim_when_idle && std::chrono::steady_clock::now() - last_request > kTrimWhenIdleFor) {
        malloc_trim(0);
        trim_when_idle = false;
      }
      continue;
    }
    int64_t deadline_ns;
    std::memcpy(&deadline_ns, frames[0].data(), sizeof deadline_ns);
    const auto started = std::chrono::steady_clock::now();
    const std::string reply = answer(protocol_, frames.back(),
                                     std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns)));
    const bool big = frames.back().size() > kTrimAfterBytes || std::chrono::steady_clock::now() - started > kTrimAfterTime;
    for (size_t i = 1; i + 1 < frames.size(); ++i) sock.send(frames[i], zmq::send_flags::sndmore);
    sock.send(zmq::buffer(reply), zmq::send_flags::none);
    frames.clear();
    trim_when_idle |= big;
    last_request = std::chrono::steady_clock::now();
  }
}

void Transport::run(const std::atomic<bool>& stop) {
  bind();
  zmq::socket_t& frontend = frontend_;
  zmq::socket_t& backend = backend_socket_;
  for (int i = 0; i < n_workers_; ++i) workers_.emplace_back(&Transport::worker_loop, this, i);
  log_line(LogLevel::kInfo, "listening on " + endpoint_ + " with " + std::to_string(n_workers_) + " workers (" +
                                std::to_string(heavy_limit(n_workers_)) + " for heavy requests), request timeout " +
                                std::to_string(timeout_.count()) + " ms");
  zmq::pollitem_t items[] = {{frontend.handle(), 0, ZMQ_POLLIN, 0}, {backend.handle(), 0, ZMQ_POLLIN, 0}};
  std::deque<int> idle;                      // workers ready for a request
  std::vector<char> running_heavy(n_workers_, 0);
  int heavy_running = 0, running = 0;
  std::deque<Waiting> light, heavy;          // requests taken, not yet given to a worker
  const int max_heavy = heavy_limit(n_workers_);

  auto give = [&](Waiting& w, bool is_heavy) {
    const int worker = idle.front();
    idle.pop_front();
    const std::string id = worker_id(worker);
    const int64_t deadline_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(w.deadline.time_since_epoch()).count();
    backend.send(zmq::buffer(id), zmq::send_flags::sndmore);
    backend.send(zmq::buffer(&deadline_ns, sizeof deadline_ns), zmq::send_flags::sndmore);
    for (size_t i = 0; i < w.frames.size(); ++i)
      backend.send(w.frames[i], i + 1 < w.frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    running_heavy[worker] = is_heavy;
    heavy_running += is_heavy;
    ++running;
  };
  // Light requests first; a heavy one only while another worker stays free for the rest.
  auto dispatch = [&] {
    while (!idle.empty()) {
      if (!light.empty()) {
        give(light.front(), false);
        light.pop_front();
      } else if (!heavy.empty() && heavy_running < max_heavy) {
        give(heavy.front(), true);
        heavy.pop_front();
      } else {
        break;
      }
    }
  };
  // Requests from clients: a quick one is answered here (when inline_quick_), sparing two
  // thread hand-offs (a worker's wake-up and the reply's way back), which on a small machine
  // cost more than the search itself; the rest wait for a worker.
  auto take_requests = [&](int limit) {
    for (int taken = 0; taken < limit; ++taken) {
      Waiting w;
      w.frames.emplace_back();
      if (!frontend.recv(w.frames.back(), zmq::recv_flags::dontwait)) break;
      while (w.frames.back().more()) {  // the rest of a message is always there once its first frame is
        w.frames.emplace_back();
        if (!frontend.recv(w.frames.back(), zmq::recv_flags::none)) break;
      }
      if (w.frames.size() < 2) continue;  // no envelope: nobody to answer
      w.deadline = std::chrono::steady_clock::now() + timeout_;
      const auto& body = w.frames.back();
      const std::string_view bytes(body.data<char>(), body.size());
      if (inline_quick_ && protocol_.quick(bytes)) {
        const std::string reply = answer(protocol_, body, w.deadline);
        for (size_t i = 0; i + 1 < w.frames.size(); ++i) frontend.send(w.frames[i], zmq::send_flags::sndmore);
        frontend.send(zmq::buffer(reply), zmq::send_flags::none);
        continue;
      }
      (protocol_.heavy(bytes) ? heavy : light).push_back(std::move(w));
    }
  };
  // Replies (and "ready") from workers: replies go to their clients.
  auto take_replies = [&](int limit) {
    for (int moved = 0; moved < limit; ++moved) {
      std::vector<zmq::message_t> frames(1);
      if (!backend.recv(frames.back(), zmq::recv_flags::dontwait)) break;
      while (frames.back().more()) {
        frames.emplace_back();
        if (!backend.recv(frames.back(), zmq::recv_flags::none)) break;
      }
      const int worker = worker_index(frames[0].to_string());
      if (worker < 0 || worker >= n_workers_) continue;
      idle.push_back(worker);
      if (frames.size() == 2 && frames[1].to_string() == kReady) continue;
      heavy_running -= running_heavy[worker];
      running_heavy[worker] = 0;
      --running;
      for (size_t i = 1; i < frames.size(); ++i)
        frontend.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  };
  constexpr int kBatch = 64;
  // After stop: take what is already queued on the socket once (its senders count on a
  // reply), then take nothing new but answer every request taken.
  bool drained = false;
  while (!stop || running > 0 || !light.empty() || !heavy.empty() || !drained) {
    if (stop && !drained) {
      // (No unbind: libzmq closes the connections accepted on an endpoint it unbinds.)
      take_requests(std::numeric_limits<int>::max());
      drained = true;
    }
    items[0].events = stop ? 0 : ZMQ_POLLIN;
    poll_some(items, 2);
    if (items[1].revents & ZMQ_POLLIN) take_replies(kBatch);
    if (items[0].revents & ZMQ_POLLIN) take_requests(kBatch);
    dispatch();
  }
  workers_stop_ = true;
  for (auto& t : workers_) t.join();
  workers_.clear();
  // The last replies may still be queued in the socket: give them time to leave.
  frontend.set(zmq::sockopt::linger, 2000);
  frontend.close();
  log_line(LogLevel::kInfo, "stopped " + endpoint_);
}

}  // namespace facekit::server
