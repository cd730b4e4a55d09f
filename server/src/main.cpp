// facekit_server: the zmq JSON server (shared/spec/interfaces.md).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "config.h"
#include "facekit/error.h"
#include "facekit/engine.h"
#include "facekit/person.h"
#include "facekit/registry.h"
#include "handlers/handlers.h"
#include "facekit/version.h"
#include "log.h"
#include "protocol/interfaces.h"
#include "protocol/protocol.h"
#include "protocol/wire_codes.h"
#include "transport/transport.h"

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

// `--wire-codes` / `--interfaces`: the protocol's tables as JSON, for clients and docs.
bool print_table(const char* option) {
  using namespace facekit::server;
  nlohmann::json out = nlohmann::json::array();
  if (std::string(option) == "--wire-codes") {
    for (const auto& c : kWireCodes)
      out.push_back({{"code", wire_text(c.code)}, {"interface", c.interface_id}, {"meaning", c.meaning}});
  } else if (std::string(option) == "--interfaces") {
    const char* rates[] = {"none", "general", "register"};
    const char* quick[] = {"never", "always", "local registry"};
    for (const auto& i : kInterfaces)
      out.push_back({{"interface", std::to_string(i.id)},
                     {"name", i.name},
                     {"endpoint", i.endpoint == Endpoint::kFace ? "face" : "pedestrian"},
                     {"rate_limit", rates[static_cast<int>(i.rate)]},
                     {"names_groups", i.names_groups},
                     {"quick", quick[static_cast<int>(i.quick)]},
                     {"heavy", i.heavy}});
  } else {
    return false;
  }
  std::printf("%s\n", out.dump(1).c_str());
  return true;
}

// "3.62": start-up times for the log.
std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s);
  return buf;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace facekit::server;
  if (argc == 2 && print_table(argv[1])) return 0;
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
    eo.decode.max_aspect_ratio = config.max_aspect_ratio;
    eo.descriptor = facekit::parse_descriptor(config.descriptor);
    eo.int8 = config.int8;
    facekit::Engine engine(eo);
    log_line(LogLevel::kInfo, "facekit " + std::string(facekit::version()) + ": " +
                                  std::to_string(engine.models().models().size()) + " models from " +
                                  engine.models().model_dir() + "; descriptor " + config.descriptor + " (" +
                                  std::to_string(engine.dimension()) + "-d, " + engine.feature_model_id() + ")");
    facekit::RegistryOptions reg;
    reg.path = config.registry_url.empty() ? config.registry_path : config.registry_url;
    reg.change_log_keep = config.change_log_keep;
    reg.sync_interval_ms = config.sync_interval_ms;
    reg.snapshot_dir = config.snapshot_dir;
    reg.dimension = engine.dimension();
    reg.feature_model_id = engine.feature_model_id();
    reg.hnsw_m = config.hnsw_m;
    reg.hnsw_ef_construction = config.hnsw_ef_construction;
    reg.hnsw_ef_search = config.hnsw_ef_search;
    facekit::Registry registry(reg);
    const auto& st = registry.startup();
    log_line(LogLevel::kInfo, "registry " + facekit::Registry::printable_path(reg.path) + ": " + std::to_string(registry.count_all()) + " faces in " +
                                  std::to_string(registry.groups().size()) + " groups (" +
                                  std::to_string(st.groups_from_snapshot) + " groups from snapshot, " +
                                  std::to_string(st.rows_replayed) + " rows replayed, " +
                                  std::to_string(st.rows_rebuilt) + " rows indexed; HNSW M " +
                                  std::to_string(reg.hnsw_m) + ", ef_construction " +
                                  std::to_string(reg.hnsw_ef_construction) + ", ef_search " +
                                  std::to_string(reg.hnsw_ef_search) + ", distance kernel " + st.distance_kernel + "; opened in " +
                                  seconds_text(st.seconds) + " s)");
    facekit::TrackOptions track;
    track.lost_frames = config.track_lost_frames;
    track.lost_ms = config.track_lost_ms;
    track.max_tracks = static_cast<size_t>(config.max_tracks_per_camera);
    facekit::CameraTracks cameras(engine, track, int64_t{1000} * config.camera_idle_s,
                                  static_cast<size_t>(config.max_cameras));
    facekit::PersonDetector people(engine.models());
    HandlerContext ctx{engine, registry, config, eo.decode, cameras, people};
    Protocol face(config, Endpoint::kFace, registry.shared(), engine.dimension());
    Protocol pedestrian(config, Endpoint::kPedestrian, registry.shared(), engine.dimension());
    face.set_limiter(RateClass::kGeneral, std::make_shared<RateLimiter>(config.max_requests));
    face.set_limiter(RateClass::kRegister,
                     std::make_shared<RateLimiter>(static_cast<double>(config.pool_size) * config.register_factor));
    add_handlers(face, pedestrian, ctx);
    zmq::context_t ctx_zmq(1);
    // Oversize messages are dropped by the socket as they arrive; up to 1 MiB over the limit
    // they are still read, and answered 10005.
    const auto max_message = static_cast<int64_t>(config.max_request_bytes) + (1 << 20);
    Transport face_transport(ctx_zmq, config.face_endpoint, face, config.pool_size, config.inline_quick_requests,
                             config.request_timeout_ms, max_message);
    Transport pedestrian_transport(ctx_zmq, config.pedestrian_endpoint, pedestrian, 1, false, config.request_timeout_ms,
                                   max_message);
    // Bind before any thread starts: a taken port or a bad address ends here, cleanly.
    for (auto* t : {&face_transport, &pedestrian_transport}) {
      try {
        t->bind();
      } catch (const zmq::error_t& e) {
        log_line(LogLevel::kError, std::string("cannot bind ") +
                                       (t == &face_transport ? config.face_endpoint : config.pedestrian_endpoint) +
                                       ": " + e.what());
        return 1;
      }
    }
    // With a wildcard port ("tcp://127.0.0.1:*") this line is how a client learns the ports, so it
    // is logged even at log_level warn.
    const bool wildcard = config.face_endpoint.find('*') != std::string::npos ||
                          config.pedestrian_endpoint.find('*') != std::string::npos;
    log_line(wildcard ? LogLevel::kWarn : LogLevel::kInfo,
             "bound face " + face_transport.endpoint() + ", pedestrian " + pedestrian_transport.endpoint());
    // Index snapshots keep start-up fast; SQLite stays the truth, so a lost snapshot costs
    // only a rebuild.
    std::thread snapshots([&] {
      int waited = 0;
      while (!g_stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (++waited % (5 * config.snapshot_interval_s) != 0) continue;
        try {
          registry.save_snapshot();
        } catch (const std::exception& e) {
          log_line(LogLevel::kWarn, std::string("snapshot failed: ") + e.what());
        }
      }
    });
    std::thread ped([&] {
      try {
        pedestrian_transport.run(g_stop);
      } catch (const std::exception& e) {  // never std::terminate: log, and stop the server
        log_line(LogLevel::kError, std::string("pedestrian endpoint failed: ") + e.what());
        g_stop = true;
      }
    });
    try {
      face_transport.run(g_stop);
    } catch (const std::exception& e) {
      log_line(LogLevel::kError, std::string("face endpoint failed: ") + e.what());
      g_stop = true;
    }
    ped.join();
    snapshots.join();
    registry.save_snapshot();
    log_line(LogLevel::kInfo, registry.options().snapshot_dir.empty() ? "no snapshot_dir, no index snapshot; bye"
                                                                     : "registry snapshot written; bye");
  } catch (const facekit::Error& e) {
    log_line(LogLevel::kError, std::string("cannot start: ") + e.what());
    return 1;
  } catch (const zmq::error_t& e) {
    log_line(LogLevel::kError, std::string("cannot bind: ") + e.what());
    return 1;
  }
  return 0;
}
