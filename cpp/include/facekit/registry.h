#pragma once
/// The face registry: groups of people (face_id = a numeric string), up to 5 features each.
/// The store is the source of truth (durable before a call returns): SQLite (embedded, one
/// server) or PostgreSQL (shared by several servers); an in-memory HNSW index per group answers
/// 1:N search. Thread-safe: many readers and writers.
///
/// On PostgreSQL every write bumps its group's version and appends to a change log; a
/// background thread applies other servers' changes to this registry's index (LISTEN/NOTIFY,
/// and a poll of group versions every sync_interval_ms; a group whose log was trimmed past
/// what this registry applied is reloaded whole). docs/SCALING.md.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "facekit/types.h"

namespace facekit {

struct RegistryOptions {
  /// SQLite file; ":memory:" for a throw-away registry; "postgresql://..." (a libpq URI): a
  /// registry shared with other servers.
  std::string path;
  int dimension = 0;             ///< feature length (the engine's dimension)
  std::string feature_model_id;  ///< features made by another model are refused
  int hnsw_m = 16;
  int hnsw_ef_construction = 200;
  int hnsw_ef_search = 64;
  int max_features_per_face = 5;
  /// Threads that insert into the index in bulk (put_many, rebuilding at start); 0 = one per
  /// core. Single registrations always insert on the caller's thread.
  int insert_threads = 0;
  /// Folder of index snapshots (loaded at start, then reconciled with SQLite); "" = the
  /// registry path + ".index". Snapshots are never required: without one the index is rebuilt.
  std::string snapshot_dir;
  /// PostgreSQL: changes kept per group in the change log; a registry further behind reloads
  /// the group whole.
  int64_t change_log_keep = 100000;
  /// PostgreSQL: how often every group's version is compared with what was applied, beside
  /// the change notices (which a dropped connection can lose).
  int sync_interval_ms = 2000;
};

struct SearchHit {
  std::string face_id;
  float cosine = 0.f;  ///< best over the person's features
};

class Registry {
 public:
  /// Opens (creating if needed) and rebuilds the in-memory index from SQLite. Throws
  /// Error(kModelUnavailable) if the stored features come from another feature model.
  explicit Registry(const RegistryOptions& options);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Registers or replaces (whole) one person; committed to disk before returning. `crops`:
  /// none, or one per feature, kept so that migrate() can re-describe the face later.
  void put(const std::string& group, const std::string& face_id, const std::vector<Feature>& features,
           const std::vector<FaceCrop>& crops = {});
  /// Registers or replaces many people of one group in one transaction (bulk enrolment).
  void put_many(const std::string& group, const std::vector<std::pair<std::string, std::vector<Feature>>>& people);
  /// Deletes one person; false if absent.
  bool remove(const std::string& group, const std::string& face_id);
  /// Deletes every face_id of the group whose numeric value is in [0, max_face_id]; returns how many.
  size_t remove_range(const std::string& group, const std::string& max_face_id);
  bool contains(const std::string& group, const std::string& face_id) const;
  size_t count(const std::string& group) const;
  size_t count_all() const;
  std::vector<std::string> groups() const;
  /// The best `topk` people with cosine >= min_cosine, best first, one entry per face_id.
  std::vector<SearchHit> search(const std::string& group, const Feature& query, int topk, float min_cosine) const;

  const RegistryOptions& options() const;

  /// True when the store is shared with other servers (PostgreSQL).
  bool shared() const;
  /// The group's version this registry's index holds (shared stores; 0 on SQLite). After a
  /// write through this registry it is at least that write's version.
  int64_t version(const std::string& group) const;
  /// Waits until the index holds `version` of the group (applying the change log meanwhile);
  /// false if it does not within `timeout`. Always true on SQLite.
  bool wait_for_version(const std::string& group, int64_t version, std::chrono::milliseconds timeout) const;

  /// Writes every group's index snapshot (atomically) if anything changed since the last one.
  /// Safe while serving: a group is locked for reading while its snapshot is written.
  void save_snapshot();
  /// How the index was obtained at start: groups loaded from snapshots, rows replayed on top
  /// of them, and rows indexed from scratch.
  struct StartupReport {
    size_t groups_from_snapshot = 0, rows_replayed = 0, rows_rebuilt = 0, rows_dropped = 0;
    std::string distance_kernel;  ///< the index's inner product: "avx2-fma-f16c" or "portable"
    double seconds = 0;           ///< opening SQLite + loading / reconciling / building the index
  };
  const StartupReport& startup() const;

  /// What migrate() did.
  struct Migration {
    std::string from_model, to_model;
    size_t features = 0;      ///< stored features before the migration
    size_t described = 0;     ///< re-described in this run
    size_t resumed = 0;       ///< already re-described by an interrupted run
    size_t dropped = 0;       ///< features without a kept crop, removed (drop_without_crop)
    bool done = false;        ///< false: the registry already held `to_model`'s features
  };
  /// Re-describes every stored feature of the registry at `target.path` from its kept crop
  /// with `describe` (the current engine), then switches the registry to
  /// `target.feature_model_id` / `target.dimension` in one transaction. Resumable: progress is
  /// committed in batches, and a second run continues where an interrupted one stopped. Throws
  /// Error(kInvalidArgument) if features lack a kept crop and `drop_without_crop` is false
  /// (nothing changed then). Run it with no server using the registry.
  static Migration migrate(const RegistryOptions& target, const std::function<Feature(const FaceCrop&)>& describe,
                           const std::function<void(size_t done, size_t total)>& progress = {},
                           bool drop_without_crop = false);

  /// A registry path as logs may show it: a PostgreSQL URL loses its password.
  static std::string printable_path(const std::string& path);

  /// True for a valid face_id: 1-32 decimal digits. Inline: the server's request parser uses
  /// it without the registry (and so does its fuzz target).
  static bool valid_face_id(const std::string& face_id) {
    return !face_id.empty() && face_id.size() <= 32 && face_id.find_first_not_of("0123456789") == std::string::npos;
  }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facekit
