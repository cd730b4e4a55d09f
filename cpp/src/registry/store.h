#pragma once
// The registry's storage, behind one narrow interface: SQLite is the embedded default; a
// shared PostgreSQL store (several servers, one registry) can implement the same calls.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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
  /// Replaces the person's features in one transaction (durable when it returns); row ids.
  virtual std::vector<int64_t> replace_person(const std::string& group, const std::string& face_id,
                                              const std::vector<std::vector<float>>& features) = 0;
  /// Several people of one group in one transaction; row ids per person.
  virtual std::vector<std::vector<int64_t>> replace_people(
      const std::string& group, const std::vector<std::pair<std::string, std::vector<std::vector<float>>>>& people) = 0;
  virtual bool delete_person(const std::string& group, const std::string& face_id) = 0;
  /// Deletes face_ids whose numeric value is <= max (by digits, any length); returns them.
  virtual std::vector<std::string> delete_range(const std::string& group, const std::string& max_face_id) = 0;
};

std::unique_ptr<FeatureStore> open_sqlite_store(const std::string& path, int dimension);

/// Numeric comparison of two digit strings of any length (leading zeros ignored).
int compare_numeric(const std::string& a, const std::string& b);

}  // namespace facekit::registry
