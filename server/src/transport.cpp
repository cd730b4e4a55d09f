#include "transport.h"

#include "log.h"

#include <string_view>

namespace facekit::server {

namespace {
std::atomic<int> g_transport_count{0};

// Answers the request in `frames` (envelope, then the body) on `sock`, the envelope first.
void answer(const Protocol& protocol, zmq::socket_t& sock, std::vector<zmq::message_t>& frames) {
  std::string reply;
  try {
    reply = protocol.handle(frames.back().to_string());
  } catch (...) {
    reply = R"({"error_message":"10004"})";
  }
  for (size_t i = 0; i + 1 < frames.size(); ++i) sock.send(frames[i], zmq::send_flags::sndmore);
  sock.send(zmq::buffer(reply), zmq::send_flags::none);
}
constexpr int kPollMs = 100;

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
                     bool inline_quick)
    : ctx_(ctx),
      endpoint_(endpoint),
      backend_("inproc://facekit-workers-" + std::to_string(g_transport_count++)),
      protocol_(protocol),
      n_workers_(workers),
      inline_quick_(inline_quick) {}

Transport::~Transport() {
  workers_stop_ = true;
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

void Transport::worker_loop(int index) {
  zmq::socket_t sock(ctx_, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  // A blocking receive with a timeout, not poll + receive: under load the next request is
  // already queued and is taken without a system call (poll is one per call).
  sock.set(zmq::sockopt::rcvtimeo, kPollMs);
  sock.connect(backend_);
  while (!workers_stop_) {
    // Envelope: routing frames, then an empty delimiter (REQ clients) or not (DEALER clients),
    // then the request body as the last frame.
    std::vector<zmq::message_t> frames;
    do {
      frames.emplace_back();
      if (!receive(sock, frames.back())) break;
    } while (frames.back().more());
    if (frames.size() < 2 || frames.back().more()) continue;
    answer(protocol_, sock, frames);
  }
  (void)index;
}

void Transport::run(const std::atomic<bool>& stop) {
  zmq::socket_t frontend(ctx_, zmq::socket_type::router);
  zmq::socket_t backend(ctx_, zmq::socket_type::dealer);
  frontend.set(zmq::sockopt::linger, 0);
  backend.set(zmq::sockopt::linger, 0);
  frontend.bind(endpoint_);
  backend.bind(backend_);
  for (int i = 0; i < n_workers_; ++i) workers_.emplace_back(&Transport::worker_loop, this, i);
  log_line(LogLevel::kInfo, "listening on " + endpoint_ + " with " + std::to_string(n_workers_) + " workers");
  zmq::pollitem_t items[] = {{frontend.handle(), 0, ZMQ_POLLIN, 0}, {backend.handle(), 0, ZMQ_POLLIN, 0}};
  int in_flight = 0;
  // Moves every whole reply waiting from the workers (at most `limit`) to the clients: one
  // poll per batch, not per message. Returns how many.
  auto forward = [](zmq::socket_t& from, zmq::socket_t& to, int limit) {
    int moved = 0;
    zmq::message_t msg;
    while (moved < limit && from.recv(msg, zmq::recv_flags::dontwait)) {
      to.send(msg, msg.more() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      while (msg.more()) {  // the rest of a message is always there once its first frame is
        if (!from.recv(msg, zmq::recv_flags::none)) break;
        to.send(msg, msg.more() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
      ++moved;
    }
    return moved;
  };
  // Requests from clients: a quick one is answered here (when inline_quick_), sparing two
  // thread hand-offs (a worker's wake-up and the reply's way back), which on a small machine
  // cost more than the search itself; the rest go to the workers. Returns how many went there.
  std::vector<zmq::message_t> frames;
  auto take_requests = [&](int limit) {
    int forwarded = 0;
    for (int taken = 0; taken < limit; ++taken) {
      frames.clear();
      frames.emplace_back();
      if (!frontend.recv(frames.back(), zmq::recv_flags::dontwait)) break;
      while (frames.back().more()) {  // the rest of a message is always there once its first frame is
        frames.emplace_back();
        if (!frontend.recv(frames.back(), zmq::recv_flags::none)) break;
      }
      const auto& body = frames.back();
      if (inline_quick_ && frames.size() >= 2 && protocol_.quick(std::string_view(body.data<char>(), body.size()))) {
        answer(protocol_, frontend, frames);
        continue;
      }
      for (size_t i = 0; i < frames.size(); ++i)
        backend.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      ++forwarded;
    }
    return forwarded;
  };
  constexpr int kBatch = 64;
  // After stop, stop taking requests but keep returning replies until none are in flight.
  while (!stop || in_flight > 0) {
    items[0].events = stop ? 0 : ZMQ_POLLIN;
    poll_some(items, 2);
    if (items[0].revents & ZMQ_POLLIN) in_flight += take_requests(kBatch);
    if (items[1].revents & ZMQ_POLLIN) in_flight -= forward(backend, frontend, kBatch);
  }
  workers_stop_ = true;
  for (auto& t : workers_) t.join();
  workers_.clear();
  log_line(LogLevel::kInfo, "stopped " + endpoint_);
}

}  // namespace facekit::server
