#pragma once
// The registry's storage, behind one narrow interface: SQLite is the embedded default; a
// shared PostgreSQL store (several servers, one registry) can implement the same calls.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "facekit/types.h"

namespace facekit::registry {

struct StoredFeature {
  int64_t row_id = 0;  ///< unique, never reused: snapshots are reconciled by it
  std::string group, face_id;
  std::vector<float> feature;
};

class FeatureStore {
 public:
  virtual ~FeatureStore() = default;
  /// The feature model the stored features come from ("" if the store is new).
  virtual std::string model_id() = 0;
  virtual void set_model_id(const std::string& id) = 0;
  /// Every stored feature's row id, group and face_id (no feature data), in no particular order.
  virtual void for_each_key(const std::function<void(StoredFeature&&)>& visit) = 0;
  /// One stored feature by row id.
  virtual std::vector<float> feature(int64_t row_id) = 0;
  /// Several stored features by row id; an empty vector for a row that no longer exists (a
  /// shared store may lose rows between a key scan and this read).
  virtual std::vector<std::vector<float>> features(const std::vector<int64_t>& row_ids) {
    std::vector<std::vector<float>> out;
    out.reserve(row_ids.size());
    for (int64_t row : row_ids) out.push_back(feature(row));
    return out;
  }
  /// Replaces the person's features (and their kept crops: none, or one per feature) in one
  /// transaction (durable when it returns); row ids.
  virtual std::vector<int64_t> replace_person(const std::string& group, const std::string& face_id,
                                              const std::vector<std::vector<float>>& features,
                                              const std::vector<FaceCrop>& crops = {}) = 0;
  /// Several people of one group in one transaction; row ids per person.
  virtual std::vector<std::vector<int64_t>> replace_people(
      const std::string& group, const std::vector<std::pair<std::string, std::vector<std::vector<float>>>>& people) = 0;
  virtual bool delete_person(const std::string& group, const std::string& face_id) = 0;
  /// Deletes face_ids whose numeric value is <= max (by digits, any length); returns them.
  virtual std::vector<std::string> delete_range(const std::string& group, const std::string& max_face_id) = 0;

  // Migration to another feature model (Registry::migrate): new features are written beside
  // the old ones, in batches, then swapped in by one transaction.
  virtual size_t feature_count() = 0;
  virtual size_t features_without_crop() = 0;
  /// The model an unfinished migration is heading for ("" if none).
  virtual std::string migration_target() = 0;
  virtual void begin_migration(const std::string& model_id) = 0;
  virtual size_t migrated_count() = 0;
  /// Up to `limit` kept crops whose feature is not yet re-described, in row order.
  virtual std::vector<std::pair<int64_t, FaceCrop>> crops_to_migrate(size_t limit) = 0;
  virtual void save_migrated(const std::vector<std::pair<int64_t, std::vector<float>>>& rows) = 0;
  /// Swaps the re-described features in and records `model_id`; features without one are
  /// removed if `drop_rest` (their number is returned), else the call throws.
  virtual size_t finish_migration(const std::string& model_id, bool drop_rest) = 0;
};

/// Implemented by a store that several servers share (PostgreSQL). Every write bumps its
/// group's version in the same transaction as the data change and appends the face_ids it
/// touched to a change log (group, version, face_id), so that each server can bring its
/// in-memory index up to date by reading only what changed.
class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  /// A random id made with the store: a snapshot of another database (same group names and
  /// versions, other rows) is never taken for one of this.
  virtual std::string store_id() = 0;
  /// Every group's current version.
  virtual std::map<std::string, int64_t> group_versions() = 0;
  /// The version the last write of the calling thread committed (0: it changed nothing).
  virtual int64_t version_written_by_this_thread() = 0;
  /// The current state of one face: no rows when it was deleted. Features come with the rows
  /// of a log's tail; a reload gives row ids only (the caller reads features in chunks).
  struct FaceRows {
    std::string face_id;
    std::vector<int64_t> row_ids;
    std::vector<std::vector<float>> features;
  };
  struct GroupChanges {
    int64_t version = 0;  ///< the group's version this state is of
    bool reload = false;  ///< `faces` is the whole group: the log no longer held every change
    std::vector<FaceRows> faces;
  };
  /// What changed in `group` after version `since`, read in one snapshot: the state of every
  /// face touched since then, or of the whole group (`since` 0, or a log trimmed past it).
  virtual GroupChanges changes_since(const std::string& group, int64_t since) = 0;
  /// Waits up to `timeout` for change notices and adds the groups they name to `groups`.
  /// Returns false when notices may have been missed (the listening connection was lost or
  /// just made): the caller then compares every group's version.
  virtual bool wait_for_changes(std::chrono::milliseconds timeout, std::set<std::string>& groups) = 0;
  /// Distinct face_ids in one group / in every group, counted in the store (the truth).
  virtual size_t count_people(const std::string& group) = 0;
  virtual size_t count_all_people() = 0;
};

std::unique_ptr<FeatureStore> open_sqlite_store(const std::string& path, int dimension);

/// "postgresql://..." or "postgres://...": a libpq connection URI.
bool is_postgres_url(const std::string& path);
/// The URL without its password, for messages and logs.
std::string redacted_url(const std::string& url);
/// A shared PostgreSQL store (also a ChangeFeed); `change_log_keep` changes are kept per group.
std::unique_ptr<FeatureStore> open_postgres_store(const std::string& url, int dimension, int64_t change_log_keep);

/// Numeric comparison of two digit strings of any length (leading zeros ignored).
int compare_numeric(const std::string& a, const std::string& b);

}  // namespace facekit::registry
