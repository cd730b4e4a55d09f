#include "registry/group_index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <hnswlib/hnswlib.h>

#include "common/huge_pages.h"
#include "facekit/error.h"
#include "models/sha256.h"
#include "registry/half_vectors.h"
#include "registry/hnsw_search.h"
#include "registry/stored_vector.h"

namespace facekit::registry {

namespace {
// A new group's index holds this many vectors before it first grows (then it doubles): an
// empty group costs ~60 KiB instead of the ~3.5 MiB of a 1,024-slot start, so that many small
// groups (or an attacker registering one face into each of many) cannot fill memory.
constexpr size_t kInitialCapacity = 16;
// Version 3: int8 codes + half floats (registry/stored_vector.h). Snapshots of earlier versions
// (1: floats, 2: half floats) are rebuilt from SQLite.
constexpr char kSlotsMagic[8] = {'F', 'K', 'S', 'L', 'O', 'T', 'S', '3'};

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

template <typename T>
void write_pod(std::ofstream& f, const T& v) {
  f.write(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
bool read_pod(std::ifstream& f, T& v) {
  return static_cast<bool>(f.read(reinterpret_cast<char*>(&v), sizeof v));
}

// Inner product of stored vectors' int8 codes, with the kernel this CPU runs fastest.
class CodeInnerProductSpace : public hnswlib::SpaceInterface<float> {
 public:
  explicit CodeInnerProductSpace(size_t dimension) : dimension_(dimension), distance_(best_code_distance()) {}
  size_t get_data_size() override { return StoredVector(dimension_).bytes(); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return distance_; }
  void* get_dist_func_param() override { return &dimension_; }

 private:
  size_t dimension_;
  CodeDistance distance_;
};

// A snapshot's vector block mapped from its file, copy-on-write: start-up then neither zeroes
// nor copies gigabytes of fresh memory (at a million faces, most of the load time); pages come
// from the page cache as search touches them. hnswlib must never free or realloc it: the
// owner detaches it first (GroupIndex::Hnsw).
struct MappedBlock {
  MappedBlock(void* b, size_t n) : base(b), length(n) {}
  ~MappedBlock() { ::munmap(base, length); }
  void* base;
  size_t length;
};

// Reads an index written by hnswlib 0.6.2's saveIndex, as its loadIndex does, with the
// structure checked while reading. loadIndex checks the structure first with a seek and a
// 4-byte read per element (two system calls each); here one buffered pass does both, and the
// vector block is mapped (`mapped`), not read. Null when the file is not a well-formed index
// for `space`.
std::unique_ptr<hnswlib::HierarchicalNSW<float>> read_hnsw(const std::string& path,
                                                           hnswlib::SpaceInterface<float>* space,
                                                           size_t max_elements,
                                                           std::unique_ptr<MappedBlock>& mapped) {
  using hnswlib::labeltype;
  using hnswlib::linklistsizeint;
  using hnswlib::tableint;
  std::vector<char> buffer(16u << 20);
  std::ifstream in;
  in.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  in.open(path, std::ios::binary);
  if (!in) return nullptr;
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<size_t>(in.tellg());
  in.seekg(0, std::ios::beg);

  auto idx = std::make_unique<hnswlib::HierarchicalNSW<float>>(space);  // members unset
  auto& h = *idx;
  // What the destructor touches, safe before anything is read.
  h.data_level0_memory_ = nullptr;
  h.linkLists_ = nullptr;
  h.visited_list_pool_ = nullptr;
  h.cur_element_count = 0;
  size_t count = 0;
  bool ok = read_pod(in, h.offsetLevel0_) && read_pod(in, h.max_elements_) && read_pod(in, count) &&
            read_pod(in, h.size_data_per_element_) && read_pod(in, h.label_offset_) && read_pod(in, h.offsetData_) &&
            read_pod(in, h.maxlevel_) && read_pod(in, h.enterpoint_node_) && read_pod(in, h.maxM_) &&
            read_pod(in, h.maxM0_) && read_pod(in, h.M_) && read_pod(in, h.mult_) && read_pod(in, h.ef_construction_);
  h.data_size_ = space->get_data_size();
  h.fstdistfunc_ = space->get_dist_func();
  h.dist_func_param_ = space->get_dist_func_param();
  h.size_links_per_element_ = h.maxM_ * sizeof(tableint) + sizeof(linklistsizeint);
  h.size_links_level0_ = h.maxM0_ * sizeof(tableint) + sizeof(linklistsizeint);
  ok = ok && h.maxM_ > 0 && h.maxM_ <= 1024 && h.maxM0_ <= 2048 && h.mult_ > 0 && count <= max_elements &&
       h.size_data_per_element_ == h.size_links_level0_ + h.data_size_ + sizeof(labeltype) &&
       h.offsetData_ == h.size_links_level0_ && h.label_offset_ == h.size_links_level0_ + h.data_size_ &&
       h.maxlevel_ >= 0 && h.maxlevel_ < 64 && (count == 0 || h.enterpoint_node_ < count) &&
       static_cast<size_t>(in.tellg()) + count * h.size_data_per_element_ <= file_size;  // never map past the end
  if (!ok) return nullptr;
  const size_t level0_offset = static_cast<size_t>(in.tellg()), level0_bytes = count * h.size_data_per_element_;
  std::unique_ptr<MappedBlock> block;
  if (count > 0) {  // the block is exactly the stored elements: growing copies it first
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return nullptr;
    // Mapped read-only with its pages populated (no fault per page in the first searches),
    // then made writable: a page is copied only when hnswlib writes to it. Populating a
    // writable private mapping would copy every page at once.
    const size_t length = level0_offset + level0_bytes;
    void* base = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    ::close(fd);
    if (base == MAP_FAILED) return nullptr;
    if (::mprotect(base, length, PROT_READ | PROT_WRITE) != 0) {
      ::munmap(base, length);
      return nullptr;
    }
    block = std::make_unique<MappedBlock>(base, length);
    max_elements = count;
  }
  h.max_elements_ = max_elements;
  h.data_level0_memory_ = block ? static_cast<char*>(block->base) + level0_offset
                                : static_cast<char*>(std::malloc(max_elements * h.size_data_per_element_));
  h.linkLists_ = static_cast<char**>(std::calloc(max_elements, sizeof(void*)));
  // From here a failure must detach the mapped block before hnswlib's destructor frees it.
  auto fail = [&]() -> std::unique_ptr<hnswlib::HierarchicalNSW<float>> {
    if (block) h.data_level0_memory_ = nullptr;
    return nullptr;
  };
  if (!h.data_level0_memory_ || !h.linkLists_) return fail();
  // The rest may also throw (std::bad_alloc on a damaged file): a throw fails the same way.
  auto fill = [&]() -> bool {
    h.element_levels_ = std::vector<int>(max_elements);
    h.cur_element_count = count;  // every link list is null until read: the destructor is safe
    in.seekg(static_cast<std::streamoff>(level0_bytes), std::ios::cur);
    std::vector<std::mutex>(max_elements).swap(h.link_list_locks_);
    std::vector<std::mutex>(hnswlib::HierarchicalNSW<float>::max_update_element_locks).swap(h.link_list_update_locks_);
    h.visited_list_pool_ = new hnswlib::VisitedListPool(1, max_elements);
    h.revSize_ = 1.0 / h.mult_;
    h.ef_ = 10;
    h.num_deleted_ = 0;
    h.label_lookup_.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      h.label_lookup_[h.getExternalLabel(static_cast<tableint>(i))] = static_cast<tableint>(i);
      unsigned int size = 0;
      if (!read_pod(in, size)) return false;
      if (size == 0) continue;
      const size_t levels = size / h.size_links_per_element_;
      if (size % h.size_links_per_element_ != 0 || levels > static_cast<size_t>(h.maxlevel_)) return false;
      h.linkLists_[i] = static_cast<char*>(std::malloc(size));
      if (!h.linkLists_[i]) return false;
      h.element_levels_[i] = static_cast<int>(levels);
      if (!in.read(h.linkLists_[i], size)) return false;
    }
    if (static_cast<size_t>(in.tellg()) != file_size) return false;
    for (size_t i = 0; i < count; ++i)
      if (h.isMarkedDeleted(static_cast<tableint>(i))) ++h.num_deleted_;
    return true;
  };
  bool filled = false;
  try {
    filled = fill();
  } catch (const std::exception&) {
  }
  if (!filled) return fail();
  mapped = std::move(block);
  return idx;
}

// Zeroes the index's level multiplier for its lifetime, so that the level addPoint draws
// itself is always 0 (it keeps any level above 0 it is given), and restores it after.
class LevelDrawsOff {
 public:
  explicit LevelDrawsOff(hnswlib::HierarchicalNSW<float>& index) : index_(index), multiplier_(index.mult_) {
    index_.mult_ = 0;
  }
  ~LevelDrawsOff() { index_.mult_ = multiplier_; }
  LevelDrawsOff(const LevelDrawsOff&) = delete;
  LevelDrawsOff& operator=(const LevelDrawsOff&) = delete;

 private:
  hnswlib::HierarchicalNSW<float>& index_;
  const double multiplier_;
};

std::vector<char> stored(const std::vector<float>& feature) {
  const StoredVector layout(feature.size());
  std::vector<char> out(layout.bytes());
  layout.encode(feature.data(), out.data());
  return out;
}
}  // namespace

struct GroupIndex::Hnsw {
  Hnsw(int dimension, const RegistryOptions& o)
      : space(static_cast<size_t>(dimension)),
        index(std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, kInitialCapacity, o.hnsw_m,
                                                                 o.hnsw_ef_construction)) {
    index->setEf(o.hnsw_ef_search);
  }
  ~Hnsw() {
    if (mapped && index) index->data_level0_memory_ = nullptr;  // not hnswlib's to free
  }
  // Before hnswlib reallocs the vector block to grow it, a mapped one is copied to the heap,
  // at the capacity it is about to grow to (so the realloc that follows moves nothing).
  void own_vectors(size_t capacity) {
    if (!mapped) return;
    auto& h = *index;
    const size_t bytes = capacity * h.size_data_per_element_;
    char* heap = static_cast<char*>(std::malloc(bytes));
    if (!heap) throw Error(ErrorCode::kInternal, "out of memory growing the index");
    std::memcpy(heap, h.data_level0_memory_, h.cur_element_count * h.size_data_per_element_);
    h.data_level0_memory_ = heap;
    mapped.reset();
  }
  CodeInnerProductSpace space;
  std::unique_ptr<MappedBlock> mapped;  // declared before `index`: destroyed after it
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;
};

GroupIndex::GroupIndex(int dimension, const RegistryOptions& options)
    : dimension_(dimension), options_(options), hnsw_(std::make_unique<Hnsw>(dimension, options)) {}

GroupIndex::~GroupIndex() = default;

size_t GroupIndex::take_slot(const std::string& face_id, int64_t row_id) {
  size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slot_owner_[slot] = face_id;
    slot_row_[slot] = row_id;
  } else {
    slot = slot_owner_.size();
    slot_owner_.push_back(face_id);
    slot_row_.push_back(row_id);
    auto& index = *hnsw_->index;
    if (slot_owner_.size() > index.max_elements_) {
      const size_t capacity = std::max(kInitialCapacity, index.max_elements_ * 2);
      hnsw_->own_vectors(capacity);
      index.resizeIndex(capacity);
      // 2 MiB pages for the vector block: a third of a million faces' load time went to page
      // faults, and search's random reads miss the TLB less.
      prefer_huge_pages(index.data_level0_memory_, index.max_elements_ * index.size_data_per_element_);
    }
  }
  if (row_id >= 0) row_slot_[row_id] = slot;
  return slot;
}

void GroupIndex::add_rows(const std::vector<Row>& rows) {
  // Slots are taken (and the index grown) here, before any insert: hnswlib may insert
  // concurrently but must not resize meanwhile. A revived slot is updated in place, which
  // hnswlib 0.6.2 only does safely alone, so those go first, on this thread.
  //
  // hnswlib 0.6.2's concurrent addPoint is safe only while no insert raises the graph's top
  // level: one that does rewrites enterpoint_node_ and maxlevel_ while the others read
  // enterpoint_node_ unlocked (hnswalg.h:1115 against :1040). So every new element's level is
  // drawn here, from hnswlib's own generator and distribution; the elements that raise the top
  // level (an empty index's first element among them, a handful in all) are inserted next, on
  // this thread, and only then the rest, which cannot raise it, on several threads.
  struct Insert {
    size_t slot;
    const std::vector<float>* feature;
    int level;
  };
  auto& index = *hnsw_->index;
  std::vector<std::pair<size_t, const std::vector<float>*>> revived;
  std::vector<Insert> raising, ordinary;
  int top_level = index.maxlevel_;  // -1 when empty
  for (const auto& r : rows) {
    const size_t slot = take_slot(*r.face_id, r.row_id);
    if (slot < index.cur_element_count) {
      revived.emplace_back(slot, r.feature);
    } else {
      const int level = index.getRandomLevel(index.mult_);
      (level > top_level ? raising : ordinary).push_back({slot, r.feature, level});
      top_level = std::max(top_level, level);
    }
    people_[*r.face_id].push_back(slot);
    ++live_slots_;
  }
  for (const auto& [slot, feature] : revived) index.addPoint(stored(*feature).data(), slot);
  // addPoint(data, label, level) still draws a level, and keeps it when `level` is 0: with the
  // multiplier at 0 that draw is 0, so each element gets the level drawn above.
  const LevelDrawsOff draws_off(index);
  for (const auto& insert : raising) index.addPoint(stored(*insert.feature).data(), insert.slot, insert.level);
  const size_t workers = std::min<size_t>(ordinary.size() / 64 + 1, options_.insert_threads > 0
                                                                        ? static_cast<size_t>(options_.insert_threads)
                                                                        : std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto insert_ordinary = [&] {
    try {
      for (size_t i; (i = next.fetch_add(1)) < ordinary.size();)
        index.addPoint(stored(*ordinary[i].feature).data(), ordinary[i].slot, ordinary[i].level);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      failure = std::current_exception();
      next = ordinary.size();
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(insert_ordinary);
  insert_ordinary();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

void GroupIndex::put_many(const std::vector<std::pair<std::string, std::vector<std::vector<float>>>>& people,
                          const std::vector<std::vector<int64_t>>& row_ids) {
  std::unordered_map<std::string, size_t> last;  // face_id -> its last entry
  for (size_t i = 0; i < people.size(); ++i) last[people[i].first] = i;
  std::vector<Row> rows;
  for (size_t i = 0; i < people.size(); ++i) {
    const auto& [face_id, features] = people[i];
    if (last[face_id] != i) continue;
    remove(face_id);
    for (size_t f = 0; f < features.size(); ++f)
      rows.push_back({&face_id, f < row_ids[i].size() ? row_ids[i][f] : -1, &features[f]});
  }
  add_rows(rows);
}

void GroupIndex::put(const std::string& face_id, const std::vector<std::vector<float>>& features,
                     const std::vector<int64_t>& row_ids) {
  remove(face_id);
  std::vector<Row> rows;
  for (size_t i = 0; i < features.size(); ++i) rows.push_back({&face_id, i < row_ids.size() ? row_ids[i] : -1, &features[i]});
  add_rows(rows);  // a handful of rows: inserted on this thread
}

bool GroupIndex::remove(const std::string& face_id) {
  auto it = people_.find(face_id);
  if (it == people_.end()) return false;
  for (size_t slot : it->second) free_slot(slot);
  people_.erase(it);
  return true;
}

void GroupIndex::free_slot(size_t slot) {
  hnsw_->index->markDelete(slot);
  row_slot_.erase(slot_row_[slot]);
  slot_owner_[slot].clear();
  slot_row_[slot] = -1;
  free_slots_.push_back(slot);
  --live_slots_;
}

void GroupIndex::remove_row(int64_t row_id) {
  auto found = row_slot_.find(row_id);
  if (found == row_slot_.end()) return;
  const size_t slot = found->second;
  auto person = people_.find(slot_owner_[slot]);
  auto& slots = person->second;
  slots.erase(std::remove(slots.begin(), slots.end(), slot), slots.end());
  if (slots.empty()) people_.erase(person);
  free_slot(slot);
}

std::vector<std::pair<int64_t, std::string>> GroupIndex::rows() const {
  std::vector<std::pair<int64_t, std::string>> out;
  out.reserve(live_slots_);
  for (size_t slot = 0; slot < slot_row_.size(); ++slot)
    if (slot_row_[slot] >= 0) out.emplace_back(slot_row_[slot], slot_owner_[slot]);
  return out;
}

std::vector<SearchHit> GroupIndex::search(const std::vector<float>& query, int topk, float min_cosine) const {
  if (live_slots_ == 0 || topk <= 0) return {};
  const auto q = stored(query);
  const size_t dim = query.size();
  const HalfDistance half_distance = best_half_distance();
  const Half* query_halves = StoredVector::halves(q.data(), dim);
  // The walk compares int8 codes; the candidates it keeps are re-scored on the half floats.
  auto rescore = [&](const char* block) { return half_distance(query_halves, StoredVector::halves(block, dim), &dim); };
  // The first topk distinct owners among the nearest features are the topk people (a person
  // ranks by their best feature). Ask for topk features first, the search's cost being
  // max(ef, k); only when some people hold several of them ask again for more.
  size_t k = std::min(live_slots_, static_cast<size_t>(topk));
  std::vector<SearchHit> hits;
  std::unordered_set<std::string> seen;
  for (;;) {
    hits.clear();
    seen.clear();
    bool below_threshold = false;
    for (const auto& [distance, slot] :
         search_knn(*hnsw_->index, q.data(), k, options_.hnsw_ef_search, StoredVector(dim).code_bytes(), rescore)) {
      // The space's "distance" is 1 - dot; half-float rounding can take a self-match past 1.
      const float cosine = std::min(1.f - distance, 1.f);
      if (cosine < min_cosine) {
        below_threshold = true;
        break;
      }
      const std::string& owner = slot_owner_[slot];
      if (owner.empty() || !seen.insert(owner).second) continue;
      hits.push_back({owner, cosine});
      if (static_cast<int>(hits.size()) == topk) break;
    }
    if (static_cast<int>(hits.size()) == topk || below_threshold || k == live_slots_) return hits;
    k = std::min(live_slots_, k * static_cast<size_t>(std::max(2, options_.max_features_per_face)));
  }
}

void GroupIndex::save(const std::string& prefix) const {
  const std::string index_tmp = prefix + ".hnsw.tmp", slots_tmp = prefix + ".slots.tmp";
  hnsw_->index->saveIndex(index_tmp);
  fsync_path(index_tmp);
  {
    std::ofstream f(slots_tmp, std::ios::binary | std::ios::trunc);
    f.write(kSlotsMagic, sizeof kSlotsMagic);
    const std::string digest = models::sha256_file(index_tmp);
    f.write(digest.data(), 64);
    write_pod(f, static_cast<int32_t>(dimension_));
    write_pod(f, static_cast<uint64_t>(slot_owner_.size()));
    for (size_t s = 0; s < slot_owner_.size(); ++s) {
      write_pod(f, slot_row_[s]);
      write_pod(f, static_cast<uint16_t>(slot_owner_[s].size()));
      f.write(slot_owner_[s].data(), static_cast<std::streamsize>(slot_owner_[s].size()));
    }
    if (!f.flush()) throw Error(ErrorCode::kInternal, "cannot write snapshot " + slots_tmp);
  }
  fsync_path(slots_tmp);
  // The slot file names the index's digest: renaming the index first is safe, a crash
  // between the two renames leaves a mismatch that load() detects.
  if (std::rename(index_tmp.c_str(), (prefix + ".hnsw").c_str()) != 0 ||
      std::rename(slots_tmp.c_str(), (prefix + ".slots").c_str()) != 0)
    throw Error(ErrorCode::kInternal, "cannot install snapshot " + prefix);
}

std::unique_ptr<GroupIndex> GroupIndex::load(const std::string& prefix, int dimension, const RegistryOptions& options) {
  std::ifstream f(prefix + ".slots", std::ios::binary);
  if (!f) return nullptr;
  char magic[8];
  std::string digest(64, '\0');
  int32_t dim = 0;
  uint64_t n = 0;
  if (!f.read(magic, 8) || std::string(magic, 8) != std::string(kSlotsMagic, 8) || !f.read(&digest[0], 64) ||
      !read_pod(f, dim) || dim != dimension || !read_pod(f, n) || n > (1ull << 32))
    return nullptr;
  // The digest is checked while the index loads (two cores, one pass over the page cache each).
  auto intact = std::async(std::launch::async, [path = prefix + ".hnsw", digest] {
    try {
      return models::sha256_file(path) == digest;  // a torn or corrupt index fails here
    } catch (const Error&) {
      return false;
    }
  });
  auto g = std::make_unique<GroupIndex>(dimension, options);
  g->slot_owner_.resize(n);
  g->slot_row_.resize(n);
  for (uint64_t s = 0; s < n; ++s) {
    uint16_t len = 0;
    if (!read_pod(f, g->slot_row_[s]) || !read_pod(f, len)) return nullptr;
    g->slot_owner_[s].resize(len);
    if (len && !f.read(&g->slot_owner_[s][0], len)) return nullptr;
    if (g->slot_row_[s] >= 0) {
      g->people_[g->slot_owner_[s]].push_back(s);
      g->row_slot_[g->slot_row_[s]] = s;
      ++g->live_slots_;
    } else {
      g->free_slots_.push_back(s);
    }
  }
  try {
    g->hnsw_->index.reset();  // the placeholder index goes first, so `mapped` never outlives its user
    g->hnsw_->index = read_hnsw(prefix + ".hnsw", &g->hnsw_->space, std::max<size_t>(n, kInitialCapacity),
                                g->hnsw_->mapped);
  } catch (const std::exception&) {  // std::bad_alloc from a corrupt size, say
    g->hnsw_->index.reset();
  }
  const bool digest_ok = intact.get();
  if (!g->hnsw_->index || !digest_ok || g->hnsw_->index->cur_element_count != n) return nullptr;
  g->hnsw_->index->setEf(options.hnsw_ef_search);
  return g;
}

}  // namespace facekit::registry
