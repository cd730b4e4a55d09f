#pragma once
// One group's HNSW index (inner product on normalised features). Labels are our own slot
// numbers, reused through a free list: Debian's hnswlib 0.6.2 has no replaceDeleted, but
// addPoint with a deleted label revives and overwrites that slot. hnswlib 0.6.2's headers
// define non-inline symbols, so only group_index.cpp includes them.
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
  /// Replaces the person's features (not thread-safe: callers hold the group's write lock).
  void put(const std::string& face_id, const std::vector<std::vector<float>>& features);
  bool remove(const std::string& face_id);
  bool contains(const std::string& face_id) const { return people_.count(face_id) > 0; }
  size_t people() const { return people_.size(); }
  std::vector<std::string> face_ids() const;
  /// Best per person (safe with other readers under the group's read lock).
  std::vector<SearchHit> search(const std::vector<float>& query, int topk, float min_cosine) const;

 private:
  int dimension_;
  RegistryOptions options_;
  struct Hnsw;
  std::unique_ptr<Hnsw> hnsw_;
  std::unordered_map<std::string, std::vector<size_t>> people_;  // face_id -> slots
  std::vector<std::string> slot_owner_;                           // slot -> face_id ("" = free)
  std::vector<size_t> free_slots_;
  size_t live_slots_ = 0;
};

}  // namespace facekit::registry
