// facekit_server: the zmq JSON server (shared/spec/interfaces.md).
#include <csignal>
#include <cstdio>
#include <thread>

#include "config.h"
#include "facekit/error.h"
#include "facekit/models.h"
#include "facekit/version.h"
#include "log.h"
#include "protocol.h"
#include "transport.h"

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  using namespace facekit::server;
  ServerConfig config;
  try {
    config = parse_command_line(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  set_log_level(config.log_level);
  if (config.api_keys.empty()) {
    if (!is_loopback_endpoint(config.face_endpoint) || !is_loopback_endpoint(config.pedestrian_endpoint)) {
      log_line(LogLevel::kError, "no api_keys configured: refusing to bind a non-loopback endpoint");
      return 2;
    }
    log_line(LogLevel::kWarn, "no api_keys configured: development mode, any api_key is accepted (loopback only)");
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    facekit::RuntimeOptions ro;
    ro.model_dir = config.model_dir;
    facekit::ModelRuntime models(ro);
    log_line(LogLevel::kInfo, "facekit " + std::string(facekit::version()) + ": " +
                                  std::to_string(models.models().size()) + " models from " + models.model_dir());
    Protocol face(config), pedestrian(config);
    zmq::context_t ctx(1);
    Transport face_transport(ctx, config.face_endpoint, face, config.pool_size);
    Transport pedestrian_transport(ctx, config.pedestrian_endpoint, pedestrian, 1);
    std::thread ped([&] { pedestrian_transport.run(g_stop); });
    face_transport.run(g_stop);
    ped.join();
  } catch (const facekit::Error& e) {
    log_line(LogLevel::kError, std::string("cannot start: ") + e.what());
    return 1;
  } catch (const zmq::error_t& e) {
    log_line(LogLevel::kError, std::string("cannot bind: ") + e.what());
    return 1;
  }
  return 0;
}
