#include "config.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

namespace facekit::server {

namespace {

const char* kUsage =
    "usage: facekit_server [--config FILE] [--face-endpoint EP] [--pedestrian-endpoint EP]\n"
    "                      [--pool-size N] [--model-dir DIR] [--registry FILE] [--registry-url URL]\n"
    "                      [--log-level LEVEL]\n"
    "                      [--descriptor accurate|fast|faceres+dlib|faceres]\n"
    "       facekit_server --wire-codes | --interfaces   (the protocol's tables, as JSON)";

void apply_json(ServerConfig& c, const nlohmann::json& j);

void apply_file(ServerConfig& c, const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::invalid_argument("cannot read config file " + path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
    apply_json(c, j);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument("config file " + path + " is invalid: " + e.what());
  }
}

void apply_json(ServerConfig& c, const nlohmann::json& j) {
  c.face_endpoint = j.value("face_endpoint", c.face_endpoint);
  c.pedestrian_endpoint = j.value("pedestrian_endpoint", c.pedestrian_endpoint);
  c.pool_size = j.value("pool_size", c.pool_size);
  c.inline_quick_requests = j.value("inline_quick_requests", c.inline_quick_requests);
  c.request_timeout_ms = std::max(1, j.value("request_timeout_ms", c.request_timeout_ms));
  c.model_dir = j.value("model_dir", c.model_dir);
  c.log_level = j.value("log_level", c.log_level);
  c.max_request_bytes = j.value("max_request_bytes", c.max_request_bytes);
  c.registry_path = j.value("registry_path", c.registry_path);
  c.registry_url = j.value("registry_url", c.registry_url);
  c.change_log_keep = std::max<int64_t>(1, j.value("change_log_keep", c.change_log_keep));
  c.sync_interval_ms = std::clamp(j.value("sync_interval_ms", c.sync_interval_ms), 50, 600000);
  c.min_version_wait_ms = std::clamp(j.value("min_version_wait_ms", c.min_version_wait_ms), 0, 60000);
  c.descriptor = j.value("descriptor", c.descriptor);
  c.int8 = j.value("int8", c.int8);
  c.keep_face_crops = j.value("keep_face_crops", c.keep_face_crops);
  c.compare_threshold = j.value("compare_threshold", c.compare_threshold);
  c.max_requests = j.value("max_requests", c.max_requests);
  c.register_factor = j.value("register_factor", c.register_factor);
  c.max_pixels = j.value("max_pixels", c.max_pixels);
  c.max_request_pixels = j.value("max_request_pixels", c.max_request_pixels);
  c.max_aspect_ratio = std::max(1, j.value("max_aspect_ratio", c.max_aspect_ratio));
  c.snapshot_interval_s = std::max(1, j.value("snapshot_interval_s", c.snapshot_interval_s));
  c.snapshot_dir = j.value("snapshot_dir", c.snapshot_dir);
  c.hnsw_m = std::clamp(j.value("hnsw_m", c.hnsw_m), 4, 64);
  c.hnsw_ef_construction = std::clamp(j.value("hnsw_ef_construction", c.hnsw_ef_construction), 16, 2000);
  c.hnsw_ef_search = std::clamp(j.value("hnsw_ef_search", c.hnsw_ef_search), 1, 10000);
  c.track_lost_frames = std::max(1, j.value("track_lost_frames", c.track_lost_frames));
  c.track_lost_ms = std::max<int64_t>(0, j.value("track_lost_ms", c.track_lost_ms));
  c.camera_idle_s = std::max(1, j.value("camera_idle_s", c.camera_idle_s));
  c.max_cameras = std::max(1, j.value("max_cameras", c.max_cameras));
  c.max_tracks_per_camera = std::max(1, j.value("max_tracks_per_camera", c.max_tracks_per_camera));
  c.liveness_min_real = j.value("liveness_min_real", c.liveness_min_real);
  if (j.contains("api_keys")) {
    c.api_keys.clear();
    for (const auto& k : j.at("api_keys")) {
      ApiKey key;
      if (k.is_string()) {
        key.key = k.get<std::string>();
      } else {
        key.key = k.at("key").get<std::string>();
        key.interfaces = k.value("interfaces", std::vector<std::string>{});
        key.groups = k.value("groups", std::vector<std::string>{});
      }
      if (key.key.empty()) throw std::invalid_argument("config: an api key is empty");
      c.api_keys.push_back(std::move(key));
    }
  }
}

}  // namespace

ServerConfig parse_command_line(int argc, char** argv) {
  ServerConfig c;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--config") apply_file(c, argv[i + 1]);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") throw std::invalid_argument(kUsage);
    if (i + 1 >= argc) throw std::invalid_argument("missing value for " + a + "\n" + kUsage);
    const std::string v = argv[++i];
    if (a == "--config") continue;
    if (a == "--face-endpoint") c.face_endpoint = v;
    else if (a == "--pedestrian-endpoint") c.pedestrian_endpoint = v;
    else if (a == "--pool-size") c.pool_size = std::stoi(v);
    else if (a == "--model-dir") c.model_dir = v;
    else if (a == "--log-level") c.log_level = v;
    else if (a == "--registry") c.registry_path = v;
    else if (a == "--registry-url") c.registry_url = v;
    else if (a == "--descriptor") c.descriptor = v;
    else throw std::invalid_argument("unknown option " + a + "\n" + kUsage);
  }
  if (c.pool_size <= 0) c.pool_size = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return c;
}

bool is_loopback_endpoint(const std::string& ep) {
  const std::string host = ep.substr(0, ep.rfind(':'));
  return host == "tcp://127.0.0.1" || host == "tcp://localhost" || host == "tcp://[::1]" ||
         ep.rfind("ipc://", 0) == 0 || ep.rfind("inproc://", 0) == 0;
}

}  // namespace facekit::server
