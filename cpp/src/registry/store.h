#pragma once
// The registry's storage, behind one narrow interface: SQLite is the embedded default; a
// shared PostgreSQL store (several servers, one registry) can implement the same calls.
#include <cstdint>
#include <functional>
#include <memory>
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

std::unique_ptr<FeatureStore> open_sqlite_store(const std::string& path, int dimension);

/// Numeric comparison of two digit strings of any length (leading zeros ignored).
int compare_numeric(const std::string& a, const std::string& b);

}  // namespace facekit::registry
