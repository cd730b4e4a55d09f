#include "facekit/registry.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>

#include <unistd.h>
#include <unordered_map>

#include "facekit/error.h"
#include "registry/group_index.h"
#include "registry/half_vectors.h"
#include "registry/store.h"

namespace facekit {

namespace {

std::vector<float> normalised(const Feature& f, int dimension) {
  if (static_cast<int>(f.size()) != dimension)
    throw Error(ErrorCode::kInvalidArgument, "feature has " + std::to_string(f.size()) + " values, registry wants " +
                                                 std::to_string(dimension));
  double n = 0;
  for (float v : f) {
    if (!std::isfinite(v)) throw Error(ErrorCode::kInvalidArgument, "feature holds a non-finite value");
    n += double(v) * v;
  }
  if (n <= 0) throw Error(ErrorCode::kInvalidArgument, "feature is all zeros");
  std::vector<float> out(f.size());
  const float inv = static_cast<float>(1.0 / std::sqrt(n));
  for (size_t i = 0; i < f.size(); ++i) out[i] = f[i] * inv;
  return out;
}

struct Group {
  explicit Group(std::unique_ptr<registry::GroupIndex> i) : index(std::move(i)) {}
  mutable std::shared_mutex mutex;
  std::unique_ptr<registry::GroupIndex> index;
  int64_t applied = 0;  // the store's group version the index holds (shared stores)
};

// (row id, face_id) pairs in row-id order, i.e. the order they were stored in.
std::vector<std::pair<int64_t, std::string>> by_row(const std::unordered_map<int64_t, std::string>& rows) {
  std::vector<std::pair<int64_t, std::string>> out(rows.begin(), rows.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

namespace registry {
// Engine variants whose vectors stand in for the plain model's: a registry written by the plain
// model is opened by a variant as it is (and the other way round). ":flip": dlib's half
// averaged with its mirror image's; the same face's vectors with and without it have a cosine
// of about 0.999 (docs/ACCURACY.md); ":int8": dlib's half from the int8 model, cosine >= 0.997
// to the float one's. Both are far above any threshold's margin, so refusing them would only
// strand registries that cannot be migrated (PostgreSQL ones, or any without kept crops).
namespace {
std::string without_variants(std::string id) {
  static const std::string kVariants[] = {":flip", ":int8"};
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (const auto& v : kVariants)
      if (id.size() > v.size() && id.compare(id.size() - v.size(), v.size(), v) == 0) {
        id.resize(id.size() - v.size());
        stripped = true;
      }
  }
  return id;
}
}  // namespace

bool model_ids_compatible(const std::string& stored, const std::string& engine) {
  return stored == engine || without_variants(stored) == without_variants(engine);
}
}  // namespace registry

class Registry::Impl {
 public:
  explicit Impl(const RegistryOptions& o) : options(o) {
    const auto t0 = std::chrono::steady_clock::now();
    if (o.dimension <= 0) throw Error(ErrorCode::kInvalidArgument, "registry dimension must be positive");
    const bool postgres = registry::is_postgres_url(o.path);
    store = postgres ? registry::open_postgres_store(o.path, o.dimension, o.change_log_keep)
                     : registry::open_sqlite_store(o.path, o.dimension);
    feed = dynamic_cast<registry::ChangeFeed*>(store.get());
    const std::string shown = postgres ? registry::redacted_url(o.path) : o.path;
    std::string stored = store->model_id();
    if (stored.empty()) {
      store->set_model_id(o.feature_model_id);
      stored = store->model_id();  // a shared store: another server may have set it first
    }
    if (!registry::model_ids_compatible(stored, o.feature_model_id)) {
      throw Error(ErrorCode::kModelUnavailable,
                  "registry " + shown + " holds features of model '" + stored + "', the engine makes '" +
                      o.feature_model_id + "': re-describe its faces with `facekit registry migrate " + shown +
                      "` (faces registered with keep_face_crops), or run the engine that made them");
    }
    // A shared registry has no file to put snapshots beside: only an explicit folder.
    if (options.snapshot_dir.empty() && o.path != ":memory:" && !postgres) options.snapshot_dir = o.path + ".index";
    report.distance_kernel = registry::half_kernel_name();
    if (feed) {
      starting = true;
      load_shared_index();
      starting = false;
      sync_thread = std::thread([this] { follow_changes(); });
    } else {
      load_index();
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Every group came whole from its snapshot: nothing to write until something changes
    // (an idle 1M-face server rewrote its 3.6 GB snapshot every snapshot_interval_s).
    snapshot_current = report.rows_replayed == 0 && report.rows_rebuilt == 0 && report.rows_dropped == 0 &&
                       report.groups_from_snapshot > 0;
  }

  ~Impl() {
    stopping = true;
    if (sync_thread.joinable()) sync_thread.join();
  }

  // The sync thread: applies the changes other servers make, on each notice and, because a
  // notice can be lost with its connection, on every group whose version moved at each poll.
  void follow_changes() {
    const auto interval = std::chrono::milliseconds(std::max(50, options.sync_interval_ms));
    auto next_poll = std::chrono::steady_clock::now();
    bool failing = false;
    while (!stopping) {
      std::set<std::string> named;
      bool complete = true;
      try {
        complete = feed->wait_for_changes(std::chrono::milliseconds(200), named);
        if (stopping) break;
        if (!complete || std::chrono::steady_clock::now() >= next_poll) {
          for (const auto& [name, version] : feed->group_versions())
            if (version != version_of(name)) named.insert(name);
          next_poll = std::chrono::steady_clock::now() + interval;
        }
        for (const auto& name : named) sync_group(name);
        if (failing) std::fprintf(stderr, "facekit registry: in sync with the shared store again\n");
        failing = false;
      } catch (const std::exception& e) {
        if (!failing) std::fprintf(stderr, "facekit registry: cannot follow the shared store (%s); retrying\n", e.what());
        failing = true;
        next_poll = std::chrono::steady_clock::now();  // compare everything once it is back
        for (int i = 0; i < 5 && !stopping; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  int64_t version_of(const std::string& name) const {
    const Group* g = find(name);
    if (!g) return 0;
    std::shared_lock<std::shared_mutex> lock(g->mutex);
    return g->applied;
  }

  // Brings one group's index up to the store's version: the changed faces' current rows, or
  // the whole group rebuilt when the log no longer reaches back to what the index holds. The
  // store is read without the group's lock; the result is applied only if no one moved the
  // group meanwhile (else read again).
  void sync_group(const std::string& name) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      const int64_t since = version_of(name);
      auto changes = feed->changes_since(name, since);
      if (changes.version <= since) return;
      // A reload reads the group's features in chunks and builds its index before taking
      // the lock: searches go on meanwhile on the old index.
      std::unique_ptr<registry::GroupIndex> rebuilt;
      if (changes.reload) {
        rebuilt = std::make_unique<registry::GroupIndex>(options.dimension, options);
        std::vector<std::pair<int64_t, std::string>> rows;
        for (const auto& face : changes.faces)
          for (int64_t row : face.row_ids) rows.emplace_back(row, face.face_id);
        std::sort(rows.begin(), rows.end());
        add_in_order(*rebuilt, rows);
      }
      Group& g = group_for_write(name);
      std::unique_lock<std::shared_mutex> lock(g.mutex);
      if (g.applied >= changes.version) return;
      if (g.applied != since) continue;
      if (rebuilt) {
        g.index = std::move(rebuilt);
        if (starting) {
          report.rows_rebuilt += g.index->rows().size();
          ++reloads_at_start;
        }
      } else {
        for (const auto& face : changes.faces) {
          if (face.row_ids.empty()) g.index->remove(face.face_id);
        }
        put_faces(*g.index, changes.faces);
        if (starting) report.rows_replayed += changes.faces.size();
      }
      g.applied = changes.version;
      ++this->changes;
      lock.unlock();
      version_cv.notify_all();
      return;
    }
  }

  // A shared registry at start: each group from its snapshot (when there is one) brought up
  // to date from the log's tail, else read whole from the store.
  void load_shared_index() {
    for (const auto& [name, version] : feed->group_versions()) {
      std::unique_ptr<registry::GroupIndex> index;
      int64_t applied = 0;
      if (!options.snapshot_dir.empty()) {
        applied = read_snapshot_version(snapshot_prefix(name), feed->store_id());
        if (applied > 0 && applied <= version)
          index = registry::GroupIndex::load(snapshot_prefix(name), options.dimension, options);
      }
      const bool from_snapshot = index != nullptr;
      if (!from_snapshot) applied = 0;
      auto g = std::make_unique<Group>(index ? std::move(index)
                                             : std::make_unique<registry::GroupIndex>(options.dimension, options));
      g->applied = applied;
      {
        std::unique_lock<std::shared_mutex> lock(groups_mutex);
        groups.emplace(name, std::move(g));
      }
      const size_t reloads_before = reloads_at_start;
      sync_group(name);
      // A snapshot older than the trimmed log was dropped for a whole read.
      if (from_snapshot && reloads_at_start == reloads_before) ++report.groups_from_snapshot;
    }
  }

  // The group version a snapshot holds (shared registries), written beside it after it with
  // the store's id: "<store id> <version>". 0: none, or another store's.
  static int64_t read_snapshot_version(const std::string& prefix, const std::string& store_id) {
    std::FILE* f = std::fopen((prefix + ".version").c_str(), "r");
    if (!f) return 0;
    char id[128] = {0};
    long long v = 0;
    if (std::fscanf(f, "%127s %lld", id, &v) != 2 || store_id != id) v = 0;
    std::fclose(f);
    return v;
  }

  static void write_snapshot_version(const std::string& prefix, const std::string& store_id, int64_t version) {
    const std::string tmp = prefix + ".version.tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) return;  // only costs a longer replay at the next start
    std::fprintf(f, "%s %lld\n", store_id.c_str(), static_cast<long long>(version));
    const bool ok = std::fflush(f) == 0 && fsync(fileno(f)) == 0;
    std::fclose(f);
    std::error_code ec;
    if (ok) std::filesystem::rename(tmp, prefix + ".version", ec);
  }

  static void put_faces(registry::GroupIndex& index, const std::vector<registry::ChangeFeed::FaceRows>& faces) {
    std::vector<std::pair<std::string, std::vector<std::vector<float>>>> people;
    std::vector<std::vector<int64_t>> rows;
    for (const auto& face : faces) {
      if (face.row_ids.empty()) continue;
      people.emplace_back(face.face_id, face.features);
      rows.push_back(face.row_ids);
    }
    if (!people.empty()) index.put_many(people, rows);
  }

  // After a write through this registry (the caller holds the group's write lock and has
  // applied the write to the index when `applied_here`): the index is at the write's version
  // only if it held the one before; otherwise another server's change sits in between and
  // the group is brought up to date from the store.
  template <class Apply>
  bool record_write(Group& g, std::unique_lock<std::shared_mutex>&, Apply&& apply) {
    if (!feed) {
      apply();
      return true;
    }
    const int64_t v = feed->version_written_by_this_thread();
    if (v == 0) {  // the store did not change (e.g. deleting an absent face)
      apply();
      return true;
    }
    if (v <= g.applied) return true;
    if (v != g.applied + 1) return false;  // the caller syncs the group after releasing its lock
    apply();
    g.applied = v;
    version_cv.notify_all();
    return true;
  }

  std::string snapshot_prefix(const std::string& group) const { return options.snapshot_dir + "/g" + hex(group); }

  // SQLite is the truth; a snapshot only saves rebuilding. Rows in the snapshot that SQLite no
  // longer has are dropped, rows SQLite has that the snapshot lacks are added.
  void load_index() {
    std::map<std::string, std::unordered_map<int64_t, std::string>> keys;  // group -> row id -> face_id
    store->for_each_key([&](registry::StoredFeature&& f) { keys[f.group].emplace(f.row_id, std::move(f.face_id)); });
    for (auto& [name, rows] : keys) {
      std::unique_ptr<registry::GroupIndex> index;
      if (!options.snapshot_dir.empty())
        index = registry::GroupIndex::load(snapshot_prefix(name), options.dimension, options);
      if (index) {
        ++report.groups_from_snapshot;
        for (const auto& [row, face_id] : index->rows()) {
          auto it = rows.find(row);
          if (it == rows.end() || it->second != face_id) {
            index->remove_row(row);
            ++report.rows_dropped;
          } else {
            rows.erase(it);  // what is left in `rows` is missing from the snapshot
          }
        }
        report.rows_replayed += rows.size();  // what the snapshot lacks
      } else {
        index = std::make_unique<registry::GroupIndex>(options.dimension, options);
        report.rows_rebuilt += rows.size();
      }
      add_in_order(*index, by_row(rows));
      groups.emplace(name, std::make_unique<Group>(std::move(index)));
    }
  }

  // Adds stored rows to an index in the order they were stored, a chunk of features read
  // from the store at a time and inserted on the index's insert threads.
  void add_in_order(registry::GroupIndex& index, const std::vector<std::pair<int64_t, std::string>>& rows) {
    constexpr size_t kChunk = 4096;
    std::vector<std::vector<float>> features;
    std::vector<registry::GroupIndex::Row> chunk;
    for (size_t start = 0; start < rows.size(); start += kChunk) {
      const size_t end = std::min(rows.size(), start + kChunk);
      features.clear();
      chunk.clear();
      std::vector<int64_t> ids;
      for (size_t i = start; i < end; ++i) ids.push_back(rows[i].first);
      features = store->features(ids);
      for (size_t i = start; i < end; ++i)  // empty: deleted since the key scan (a shared store)
        if (!features[i - start].empty()) chunk.push_back({&rows[i].second, rows[i].first, &features[i - start]});
      index.add_rows(chunk);
    }
  }

  Group& group_for_write(const std::string& name) {
    std::unique_lock<std::shared_mutex> lock(groups_mutex);
    auto it = groups.find(name);
    if (it == groups.end())
      it = groups.emplace(name, std::make_unique<Group>(std::make_unique<registry::GroupIndex>(options.dimension, options)))
               .first;
    return *it->second;
  }

  // A delete naming a group with no index here goes to the store alone: a delete naming a
  // group nobody registered leaves no index behind (a stream of made-up group names filled
  // memory with empty indexes). On SQLite it holds the lock that creates groups, so no put can
  // create the group between the check and the delete. A shared store needs no lock: its
  // versions order the writes, and a put that raced the delete finds its version out of step
  // and syncs the group (record_write). Where a shared store did change, the group is real,
  // only not mirrored here yet: it is synced, so that the reply's version is the one just
  // written. No index changes here, so `changes` is not counted (sync_group counts what it
  // applies): a stream of such deletes must not make every snapshot save rewrite the registry.
  // Returns nothing when the group has an index: the caller writes through it.
  template <typename Write>
  auto delete_where_unindexed(const std::string& name, Write&& write) -> std::optional<decltype(write())> {
    std::unique_lock<std::shared_mutex> lock(groups_mutex, std::defer_lock);
    if (feed) {
      if (find(name)) return std::nullopt;
    } else {
      lock.lock();
      if (groups.count(name) != 0) return std::nullopt;
    }
    auto result = write();
    const bool shared_group_changed = feed && feed->version_written_by_this_thread() != 0;
    if (lock.owns_lock()) lock.unlock();
    if (shared_group_changed) sync_group(name);
    return result;
  }

  const Group* find(const std::string& name) const {
    std::shared_lock<std::shared_mutex> lock(groups_mutex);
    auto it = groups.find(name);
    return it == groups.end() ? nullptr : it->second.get();
  }

  RegistryOptions options;
  StartupReport report;
  std::atomic<uint64_t> changes{0}, saved_changes{0};
  std::atomic<bool> snapshot_current{false};  // the snapshot on disk holds every group as it is
  std::unique_ptr<registry::FeatureStore> store;
  registry::ChangeFeed* feed = nullptr;  // the store, when it is shared
  bool starting = false;                 // the constructor is loading: count into `report`
  size_t reloads_at_start = 0;
  std::atomic<bool> stopping{false};
  std::thread sync_thread;
  mutable std::mutex version_mutex;
  mutable std::condition_variable version_cv;
  mutable std::shared_mutex groups_mutex;
  std::map<std::string, std::unique_ptr<Group>> groups;  // groups are never erased: pointers stay valid
};

Registry::Registry(const RegistryOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Registry::~Registry() = default;

std::string Registry::printable_path(const std::string& path) {
  return registry::is_postgres_url(path) ? registry::redacted_url(path) : path;
}

static void check_ids(const std::string& group, const std::string& face_id) {
  if (group.empty() || group.size() > 256) throw Error(ErrorCode::kInvalidArgument, "group_id must be 1-256 bytes");
  if (!Registry::valid_face_id(face_id)) throw Error(ErrorCode::kInvalidArgument, "face_id must be 1-32 digits");
}

void Registry::put(const std::string& group, const std::string& face_id, const std::vector<Feature>& features,
                   const std::vector<FaceCrop>& crops) {
  check_ids(group, face_id);
  if (features.empty() || static_cast<int>(features.size()) > impl_->options.max_features_per_face)
    throw Error(ErrorCode::kInvalidArgument, "a person needs 1-" + std::to_string(impl_->options.max_features_per_face) +
                                                 " features");
  std::vector<std::vector<float>> norm;
  for (const auto& f : features) norm.push_back(normalised(f, impl_->options.dimension));
  Group& g = impl_->group_for_write(group);
  std::unique_lock<std::shared_mutex> lock(g.mutex);  // searches never see half a person
  const auto rows = impl_->store->replace_person(group, face_id, norm, crops);  // durable first
  ++impl_->changes;
  if (impl_->record_write(g, lock, [&] { g.index->put(face_id, norm, rows); })) return;
  lock.unlock();
  impl_->sync_group(group);
}

void Registry::put_many(const std::string& group,
                        const std::vector<std::pair<std::string, std::vector<Feature>>>& people) {
  std::vector<std::pair<std::string, std::vector<std::vector<float>>>> norm;
  norm.reserve(people.size());
  for (const auto& [face_id, features] : people) {
    check_ids(group, face_id);
    if (features.empty() || static_cast<int>(features.size()) > impl_->options.max_features_per_face)
      throw Error(ErrorCode::kInvalidArgument, "a person needs 1-" +
                                                   std::to_string(impl_->options.max_features_per_face) + " features");
    std::vector<std::vector<float>> fs;
    for (const auto& f : features) fs.push_back(normalised(f, impl_->options.dimension));
    norm.emplace_back(face_id, std::move(fs));
  }
  Group& g = impl_->group_for_write(group);
  std::unique_lock<std::shared_mutex> lock(g.mutex);
  const auto rows = impl_->store->replace_people(group, norm);  // durable first, all or nothing
  ++impl_->changes;
  if (impl_->record_write(g, lock, [&] { g.index->put_many(norm, rows); })) return;
  lock.unlock();
  impl_->sync_group(group);
}

Registry::Migration Registry::migrate(const RegistryOptions& target,
                                     const std::function<Feature(const FaceCrop&)>& describe,
                                     const std::function<void(size_t, size_t)>& progress, bool drop_without_crop) {
  if (target.dimension <= 0 || target.feature_model_id.empty())
    throw Error(ErrorCode::kInvalidArgument, "migration needs the new model's id and dimension");
  if (registry::is_postgres_url(target.path))
    throw Error(ErrorCode::kInvalidArgument, "migrating a shared PostgreSQL registry is not offered: re-register its "
                                             "faces through the new engine");
  auto store = registry::open_sqlite_store(target.path, target.dimension);
  Migration m;
  m.from_model = store->model_id();
  m.to_model = target.feature_model_id;
  m.features = store->feature_count();
  const std::string pending = store->migration_target();
  if (pending.empty() && m.from_model == m.to_model) return m;  // nothing to do
  if (!pending.empty() && pending != m.to_model)
    throw Error(ErrorCode::kInvalidArgument, "registry " + target.path + " is half-way through a migration to '" +
                                                 pending + "': finish it with that model first");
  const size_t without = store->features_without_crop();
  if (without > 0 && !drop_without_crop)
    throw Error(ErrorCode::kInvalidArgument,
                std::to_string(without) + " of " + std::to_string(m.features) + " features of " + target.path +
                    " have no kept crop (registered before keep_face_crops, or with it off): re-register those "
                    "faces, or migrate with drop_without_crop to remove them");
  store->begin_migration(m.to_model);
  m.resumed = store->migrated_count();
  const size_t total = m.features - without;
  constexpr size_t kBatch = 32;  // one transaction per batch: an interruption loses at most one
  for (;;) {
    const auto crops = store->crops_to_migrate(kBatch);
    if (crops.empty()) break;
    std::vector<std::pair<int64_t, std::vector<float>>> rows;
    for (const auto& [row, crop] : crops) rows.emplace_back(row, normalised(describe(crop), target.dimension));
    store->save_migrated(rows);
    m.described += rows.size();
    if (progress) progress(m.resumed + m.described, total);
  }
  m.dropped = store->finish_migration(m.to_model, drop_without_crop);
  // Snapshots hold the old vectors under the same row ids: reconciling would keep them.
  const std::string dir = target.snapshot_dir.empty() ? target.path + ".index" : target.snapshot_dir;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 1 && name[0] == 'g' && (e.path().extension() == ".hnsw" || e.path().extension() == ".slots"))
      std::filesystem::remove(e.path(), ec);
  }
  m.done = true;
  return m;
}

bool Registry::remove(const std::string& group, const std::string& face_id) {
  check_ids(group, face_id);
  if (auto stored = impl_->delete_where_unindexed(group, [&] { return impl_->store->delete_person(group, face_id); }))
    return *stored;
  Group& g = impl_->group_for_write(group);
  std::unique_lock<std::shared_mutex> lock(g.mutex);
  const bool stored = impl_->store->delete_person(group, face_id);
  ++impl_->changes;
  bool indexed = false;
  if (impl_->record_write(g, lock, [&] { indexed = g.index->remove(face_id); })) return indexed || stored;
  lock.unlock();
  impl_->sync_group(group);
  return stored;
}

size_t Registry::remove_range(const std::string& group, const std::string& max_face_id) {
  check_ids(group, max_face_id);
  if (auto doomed = impl_->delete_where_unindexed(group, [&] { return impl_->store->delete_range(group, max_face_id); }))
    return doomed->size();
  Group& g = impl_->group_for_write(group);
  std::unique_lock<std::shared_mutex> lock(g.mutex);
  const auto doomed = impl_->store->delete_range(group, max_face_id);
  ++impl_->changes;
  if (impl_->record_write(g, lock, [&] {
        for (const auto& id : doomed) g.index->remove(id);
      }))
    return doomed.size();
  lock.unlock();
  impl_->sync_group(group);
  return doomed.size();
}

bool Registry::contains(const std::string& group, const std::string& face_id) const {
  const Group* g = impl_->find(group);
  if (!g) return false;
  std::shared_lock<std::shared_mutex> lock(g->mutex);
  return g->index->contains(face_id);
}

size_t Registry::count(const std::string& group) const {
  if (impl_->feed) return impl_->feed->count_people(group);  // the truth, not this index
  const Group* g = impl_->find(group);
  if (!g) return 0;
  std::shared_lock<std::shared_mutex> lock(g->mutex);
  return g->index->people();
}

size_t Registry::count_all() const {
  if (impl_->feed) return impl_->feed->count_all_people();
  size_t n = 0;
  for (const auto& name : groups()) n += count(name);
  return n;
}

std::vector<std::string> Registry::groups() const {
  std::shared_lock<std::shared_mutex> lock(impl_->groups_mutex);
  std::vector<std::string> out;
  for (const auto& [name, g] : impl_->groups) out.push_back(name);
  return out;
}

std::vector<SearchHit> Registry::search(const std::string& group, const Feature& query, int topk,
                                        float min_cosine) const {
  if (topk < 1) throw Error(ErrorCode::kInvalidArgument, "topk must be >= 1");
  const auto q = normalised(query, impl_->options.dimension);
  const Group* g = impl_->find(group);
  if (!g) return {};
  std::shared_lock<std::shared_mutex> lock(g->mutex);
  return g->index->search(q, topk, min_cosine);
}

const RegistryOptions& Registry::options() const { return impl_->options; }

const Registry::StartupReport& Registry::startup() const { return impl_->report; }

bool Registry::shared() const { return impl_->feed != nullptr; }

int64_t Registry::version(const std::string& group) const { return impl_->version_of(group); }

bool Registry::wait_for_version(const std::string& group, int64_t version, std::chrono::milliseconds timeout) const {
  if (!impl_->feed) return true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (impl_->version_of(group) >= version) return true;
    impl_->sync_group(group);  // do not wait for the notice or the poll
    if (impl_->version_of(group) >= version) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::unique_lock<std::mutex> lock(impl_->version_mutex);
    impl_->version_cv.wait_for(lock, std::chrono::milliseconds(50));
  }
}

void Registry::save_snapshot() {
  if (impl_->options.snapshot_dir.empty()) return;
  const uint64_t seen = impl_->changes.load();
  if (seen == impl_->saved_changes.load() && (seen != 0 || impl_->snapshot_current)) return;
  std::error_code ec;
  std::filesystem::create_directories(impl_->options.snapshot_dir, ec);
  for (const auto& name : groups()) {
    const Group* g = impl_->find(name);
    std::shared_lock<std::shared_mutex> lock(g->mutex);
    g->index->save(impl_->snapshot_prefix(name));
    // After the index: a crash in between leaves an older version, whose replay is harmless
    // (a change re-applied sets the same state).
    if (impl_->feed) impl_->write_snapshot_version(impl_->snapshot_prefix(name), impl_->feed->store_id(), g->applied);
  }
  impl_->saved_changes = seen;
  impl_->snapshot_current = true;
}

}  // namespace facekit
