#pragma once
// Server configuration: one JSON file, then command-line overrides.
#include <string>
#include <vector>

namespace facekit::server {

/// One API key and what it may do (empty lists: everything).
struct ApiKey {
  std::string key;
  std::vector<std::string> interfaces;
  std::vector<std::string> groups;
};

struct ServerConfig {
  std::string face_endpoint = "tcp://127.0.0.1:5559";
  std::string pedestrian_endpoint = "tcp://127.0.0.1:5561";
  std::vector<ApiKey> api_keys;       ///< empty: development mode, any key, loopback only
  int pool_size = 0;                  ///< worker threads; 0 = cores
  /// Quick requests (Protocol::quick) are answered on the transport's own thread.
  bool inline_quick_requests = true;
  /// A request still unanswered this long after it arrived answers 10004 (its work stops at
  /// the next model call), so no request holds a worker for long.
  int request_timeout_ms = 15000;
  std::string model_dir;              ///< empty: the engine's default
  std::string log_level = "info";
  size_t max_request_bytes = 32u << 20;
  std::string registry_path = "facekit-registry.db";
  /// A PostgreSQL registry shared with other servers ("postgresql://..."); when set it is used
  /// instead of registry_path (docs/CONFIGURATION.md, docs/SCALING.md).
  std::string registry_url;
  int64_t change_log_keep = 100000;  ///< changes kept per group (a server further behind reloads it)
  int sync_interval_ms = 2000;       ///< poll of group versions, beside the change notices
  int min_version_wait_ms = 2000;    ///< how long a search with min_version waits for that version
  /// "accurate" (MobileFaceNet fused with dlib's ResNet, 320-d) or "fast" (MobileFaceNet,
  /// 192-d); "faceres+dlib" / "faceres": the earlier ones, for registries they wrote. A
  /// registry holds one kind (docs/CONFIGURATION.md, `facekit registry migrate`).
  std::string descriptor = "accurate";
  bool int8 = true;  ///< dlib's half of the accurate descriptor from its int8 model (EngineOptions::int8)
  /// Keep each registered face's aligned crop (a ~20 KB JPEG) so that a model upgrade can
  /// re-describe it (`facekit registry migrate`) instead of asking for new photos.
  bool keep_face_crops = true;
  float compare_threshold = 70.f;  ///< score at which interface 4 says "same person" (FAR 1e-3)
  int max_requests = 50;           ///< per second, for search / compare / detect
  int register_factor = 4;         ///< registrations per second = pool_size x factor
  int64_t max_pixels = 40'000'000;           ///< per image, read from its header before decoding
  int64_t max_request_pixels = 100'000'000;  ///< all images of one request together
  int max_aspect_ratio = 16;                 ///< long side / short side of an image
  int snapshot_interval_s = 60;    ///< registry index snapshot period (only when something changed)
  /// Where index snapshots go: "" = beside the SQLite file (registry_path + ".index"), and none
  /// for a PostgreSQL registry unless set (one folder per server: it holds that server's index).
  std::string snapshot_dir;
  // The registry's HNSW index (docs/BENCHMARKS.md, "Registry at scale", for how they were chosen).
  int hnsw_m = 16;
  int hnsw_ef_construction = 200;
  int hnsw_ef_search = 64;
  // Track mode of interface 5 (docs/CONFIGURATION.md).
  int track_lost_frames = 5;
  int64_t track_lost_ms = 2000;
  int camera_idle_s = 60;          ///< a camera silent this long is dropped with its open tracks
  int max_cameras = 256;
  int max_tracks_per_camera = 64;
  // Interface 9: the anti-spoofing score below which an image is a spoof (docs/ACCURACY.md).
  float liveness_min_real = 0.25f;
};

/// Fills a config from argv (--config FILE first, then --face-endpoint, --pedestrian-endpoint,
/// --pool-size, --model-dir, --log-level). Throws std::invalid_argument with a usage message.
ServerConfig parse_command_line(int argc, char** argv);

/// True when the endpoint binds only the loopback interface.
bool is_loopback_endpoint(const std::string& endpoint);

}  // namespace facekit::server
