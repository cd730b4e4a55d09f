#pragma once
// One group's HNSW index (inner product on normalised features). Labels are our own slot
// numbers, reused through a free list: Debian's hnswlib 0.6.2 has no replaceDeleted, but
// addPoint with a deleted label revives and overwrites that slot. hnswlib 0.6.2's headers
// define non-inline symbols, so only group_index.cpp includes them.
//
// Vectors are stored as half floats (registry/half_vectors.h).
//
// Each slot remembers the store's row id of its feature, so a snapshot (index + slot table)
// can be reconciled with the store at start-up: rows gone are deleted, new rows added.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "facekit/registry.h"

namespace facekit::registry {

class GroupIndex {
 public:
  GroupIndex(int dimension, const RegistryOptions& options);
  ~GroupIndex();
  /// Replaces the person's features (callers hold the group's write lock).
  void put(const std::string& face_id, const std::vector<std::vector<float>>& features,
           const std::vector<int64_t>& row_ids);
  /// Replaces many people at once (the last wins when a face_id repeats), inserting on
  /// options.insert_threads threads (callers hold the group's write lock).
  void put_many(const std::vector<std::pair<std::string, std::vector<std::vector<float>>>>& people,
                const std::vector<std::vector<int64_t>>& row_ids);
  bool remove(const std::string& face_id);
  bool contains(const std::string& face_id) const { return people_.count(face_id) > 0; }
  size_t people() const { return people_.size(); }
  /// Best per person (safe with other readers under the group's read lock).
  std::vector<SearchHit> search(const std::vector<float>& query, int topk, float min_cosine) const;

  /// (row id, face_id) of every live slot.
  std::vector<std::pair<int64_t, std::string>> rows() const;
  /// Removes the one feature stored under `row_id` (reconciliation).
  void remove_row(int64_t row_id);
  /// Adds stored rows (reconciliation, rebuilds), inserting on options.insert_threads threads;
  /// a deleted slot is revived in place.
  struct Row {
    const std::string* face_id;
    int64_t row_id;
    const std::vector<float>* feature;
  };
  void add_rows(const std::vector<Row>& rows);

  /// Writes `prefix`.hnsw and `prefix`.slots atomically (temp file, fsync, rename); the slot
  /// file carries the index file's SHA-256. Callers hold at least the group's read lock.
  void save(const std::string& prefix) const;
  /// The snapshot at `prefix`, or null when missing, corrupt or made for another dimension.
  static std::unique_ptr<GroupIndex> load(const std::string& prefix, int dimension, const RegistryOptions& options);

 private:
  size_t take_slot(const std::string& face_id, int64_t row_id);
  void free_slot(size_t slot);
  int dimension_;
  RegistryOptions options_;
  struct Hnsw;
  std::unique_ptr<Hnsw> hnsw_;
  std::unordered_map<std::string, std::vector<size_t>> people_;  // face_id -> slots
  std::vector<std::string> slot_owner_;                           // slot -> face_id ("" = free)
  std::vector<int64_t> slot_row_;                                 // slot -> store row id (-1 = free)
  std::unordered_map<int64_t, size_t> row_slot_;                  // store row id -> slot
  std::vector<size_t> free_slots_;
  size_t live_slots_ = 0;
};

}  // namespace facekit::registry
