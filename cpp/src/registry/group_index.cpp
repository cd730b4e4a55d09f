#include "registry/group_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <unordered_set>

namespace facekit::registry {

namespace {
constexpr size_t kInitialCapacity = 1024;
}

struct GroupIndex::Hnsw {
  Hnsw(int dimension, const RegistryOptions& o)
      : space(static_cast<size_t>(dimension)), index(&space, kInitialCapacity, o.hnsw_m, o.hnsw_ef_construction) {
    index.setEf(o.hnsw_ef_search);
  }
  hnswlib::InnerProductSpace space;
  hnswlib::HierarchicalNSW<float> index;
};

GroupIndex::GroupIndex(int dimension, const RegistryOptions& options)
    : dimension_(dimension), options_(options), hnsw_(std::make_unique<Hnsw>(dimension, options)) {}

GroupIndex::~GroupIndex() = default;

void GroupIndex::put(const std::string& face_id, const std::vector<std::vector<float>>& features) {
  remove(face_id);
  auto& slots = people_[face_id];
  for (const auto& f : features) {
    size_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
      slot_owner_[slot] = face_id;
    } else {
      slot = slot_owner_.size();
      slot_owner_.push_back(face_id);
      if (slot_owner_.size() > hnsw_->index.max_elements_) hnsw_->index.resizeIndex(hnsw_->index.max_elements_ * 2);
    }
    hnsw_->index.addPoint(f.data(), slot);  // revives a deleted slot in place
    slots.push_back(slot);
    ++live_slots_;
  }
}

bool GroupIndex::remove(const std::string& face_id) {
  auto it = people_.find(face_id);
  if (it == people_.end()) return false;
  for (size_t slot : it->second) {
    hnsw_->index.markDelete(slot);
    slot_owner_[slot].clear();
    free_slots_.push_back(slot);
    --live_slots_;
  }
  people_.erase(it);
  return true;
}

std::vector<std::string> GroupIndex::face_ids() const {
  std::vector<std::string> ids;
  ids.reserve(people_.size());
  for (const auto& [id, slots] : people_) ids.push_back(id);
  return ids;
}

std::vector<SearchHit> GroupIndex::search(const std::vector<float>& query, int topk, float min_cosine) const {
  if (live_slots_ == 0 || topk <= 0) return {};
  // A person has up to max_features_per_face slots: ask for enough to fill topk people.
  const size_t k = std::min(live_slots_, static_cast<size_t>(topk * options_.max_features_per_face));
  auto found = hnsw_->index.searchKnnCloserFirst(query.data(), k);
  std::vector<SearchHit> hits;
  std::unordered_set<std::string> seen;
  for (const auto& [distance, slot] : found) {
    const float cosine = 1.f - distance;  // hnswlib's inner-product "distance" is 1 - dot
    if (cosine < min_cosine) break;
    const std::string& owner = slot_owner_[slot];
    if (owner.empty() || !seen.insert(owner).second) continue;
    hits.push_back({owner, cosine});
    if (static_cast<int>(hits.size()) == topk) break;
  }
  return hits;
}

}  // namespace facekit::registry
