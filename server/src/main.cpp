// facekit_server: the zmq JSON server (shared/spec/interfaces.md).
#include <csignal>
#include <cstdio>
#include <thread>

#include "config.h"
#include "facekit/error.h"
#include "facekit/engine.h"
#include "facekit/registry.h"
#include "handlers/request.h"
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
    facekit::EngineOptions eo;
    eo.runtime.model_dir = config.model_dir;
    eo.decode.max_pixels = config.max_pixels;
    facekit::Engine engine(eo);
    log_line(LogLevel::kInfo, "facekit " + std::string(facekit::version()) + ": " +
                                  std::to_string(engine.models().models().size()) + " models from " +
                                  engine.models().model_dir());
    facekit::RegistryOptions reg;
    reg.path = config.registry_path;
    reg.dimension = engine.dimension();
    reg.feature_model_id = engine.feature_model_id();
    facekit::Registry registry(reg);
    log_line(LogLevel::kInfo, "registry " + reg.path + ": " + std::to_string(registry.count_all()) + " faces in " +
                                  std::to_string(registry.groups().size()) + " groups");
    HandlerContext ctx{engine, registry, config, eo.decode};
    Protocol face(config), pedestrian(config);
    auto limited = std::make_shared<RateLimiter>(config.max_requests);
    auto register_limit = std::make_shared<RateLimiter>(static_cast<double>(config.pool_size) * config.register_factor);
    add_registry_handlers(face, ctx, limited, register_limit);
    add_face_handlers(face, ctx, limited);
    // Served here, answered by the analytics issue: a clear 10004 until then, never a made-up result.
    for (int id : {9, 11})
      face.add_handler(id, [id](const nlohmann::json&, nlohmann::json&) {
        throw ProtocolError{kServerError, "interface " + std::to_string(id) + " is not available in this build yet"};
      });
    pedestrian.add_handler(10, [](const nlohmann::json&, nlohmann::json&) {
      throw ProtocolError{kServerError, "interface 10 is not available in this build yet"};
    });
    zmq::context_t ctx_zmq(1);
    Transport face_transport(ctx_zmq, config.face_endpoint, face, config.pool_size);
    Transport pedestrian_transport(ctx_zmq, config.pedestrian_endpoint, pedestrian, 1);
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
