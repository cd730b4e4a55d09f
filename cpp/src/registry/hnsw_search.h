#pragma once
// k-nearest-neighbour search over an hnswlib 0.6.2 graph, reading its structures directly,
// for elements whose stored block has a searched part (what the space's distance reads) and
// a part read only to re-score the candidates the walk keeps (registry/stored_vector.h).
// hnswlib's searchKnn could do neither: it has no re-scoring, and it prefetches only the first
// cache line of the next vector. Here the unvisited neighbours of a node are gathered first,
// then all their link lists and searched parts are fetched at once, so the reads overlap:
// at a million faces nearly every read is a miss, and search waits on memory.
//
// Include only from group_index.cpp: hnswlib's headers define non-inline symbols.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <queue>
#include <utility>
#include <vector>

#include <hnswlib/hnswlib.h>

namespace facekit::registry {

namespace hnsw_search_detail {

using Candidate = std::pair<float, hnswlib::tableint>;  // (distance, internal id)

struct Farther {
  bool operator()(const Candidate& a, const Candidate& b) const { return a.first > b.first; }
};
struct Closer {
  bool operator()(const Candidate& a, const Candidate& b) const { return a.first < b.first; }
};

inline void prefetch_lines(const char* p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 0, 3);
}

}  // namespace hnsw_search_detail

/// The k nearest (distance, label) pairs, nearest first, skipping deleted elements, with the
/// search's breadth max(ef, k). The walk reads the first `searched_bytes` of each element's
/// data; the max(ef, k) elements it keeps are ranked by rescore(element data). The caller
/// keeps writers out for the call.
template <typename Index, typename Rescore>
std::vector<std::pair<float, size_t>> search_knn(const Index& h, const void* query, size_t k, size_t ef,
                                                 size_t searched_bytes, const Rescore& rescore) {
  using namespace hnsw_search_detail;
  using hnswlib::tableint;
  std::vector<std::pair<float, size_t>> out;
  if (h.cur_element_count == 0 || k == 0) return out;
  const auto distance = h.fstdistfunc_;
  const void* param = h.dist_func_param_;
  // An element's level-0 links come first, then its data: one fetch brings what the walk reads.
  auto fetch = [&](hnswlib::tableint id) {
    prefetch_lines(h.getDataByInternalId(id) - h.offsetData_, h.offsetData_ + searched_bytes);
  };

  // Greedy descent through the upper layers (few nodes, mostly cached).
  tableint current = h.enterpoint_node_;
  float current_distance = distance(query, h.getDataByInternalId(current), param);
  for (int level = h.maxlevel_; level > 0; --level) {
    for (bool changed = true; changed;) {
      changed = false;
      const unsigned int* links = h.get_linklist(current, level);
      const int size = h.getListCount(const_cast<unsigned int*>(links));
      const tableint* ids = reinterpret_cast<const tableint*>(links + 1);
      for (int j = 0; j < size; ++j) fetch(ids[j]);
      for (int j = 0; j < size; ++j) {
        const float d = distance(query, h.getDataByInternalId(ids[j]), param);
        if (d < current_distance) {
          current_distance = d;
          current = ids[j];
          changed = true;
        }
      }
    }
  }

  // Best-first search of layer 0 with a result set of `ef` elements.
  ef = std::max(ef, k);
  const bool has_deletions = h.num_deleted_ > 0;
  hnswlib::VisitedList* visited_list = h.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = visited_list->mass;
  const hnswlib::vl_type tag = visited_list->curV;
  std::priority_queue<Candidate, std::vector<Candidate>, Closer> results;  // worst on top
  std::priority_queue<Candidate, std::vector<Candidate>, Farther> frontier;  // nearest on top
  float bound;
  if (!has_deletions || !h.isMarkedDeleted(current)) {
    results.emplace(current_distance, current);
    bound = current_distance;
  } else {
    bound = std::numeric_limits<float>::max();
  }
  frontier.emplace(current_distance, current);
  visited[current] = tag;
  std::vector<tableint> fresh(h.maxM0_);
  while (!frontier.empty()) {
    const Candidate node = frontier.top();
    if (node.first > bound && results.size() >= ef) break;
    frontier.pop();
    const unsigned int* links = reinterpret_cast<const unsigned int*>(h.get_linklist0(node.second));
    const size_t size = h.getListCount(const_cast<unsigned int*>(links));
    const tableint* ids = reinterpret_cast<const tableint*>(links + 1);
    for (size_t j = 0; j < size; ++j) __builtin_prefetch(visited + ids[j], 1, 3);
    size_t n = 0;
    for (size_t j = 0; j < size; ++j) {
      const tableint id = ids[j];
      if (visited[id] == tag) continue;
      visited[id] = tag;
      fresh[n++] = id;
    }
    // All of them at once: the reads overlap. Fetching one ahead of the distance being
    // computed was half as fast at 200k faces (measured, docs/BENCHMARKS.md).
    for (size_t j = 0; j < n; ++j) fetch(fresh[j]);
    for (size_t j = 0; j < n; ++j) {
      const tableint id = fresh[j];
      const float d = distance(query, h.getDataByInternalId(id), param);
      if (results.size() < ef || d < bound) {
        frontier.emplace(d, id);
        if (!has_deletions || !h.isMarkedDeleted(id)) results.emplace(d, id);
        if (results.size() > ef) results.pop();
        if (!results.empty()) bound = results.top().first;
      }
    }
  }
  h.visited_list_pool_->releaseVisitedList(visited_list);

  out.reserve(results.size());
  for (; !results.empty(); results.pop()) {
    const hnswlib::tableint id = results.top().second;
    out.emplace_back(rescore(h.getDataByInternalId(id)), h.getExternalLabel(id));
  }
  std::sort(out.begin(), out.end());
  if (out.size() > k) out.resize(k);
  return out;
}

}  // namespace facekit::registry
