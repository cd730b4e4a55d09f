// The shared registry store: PostgreSQL through libpq. Several servers write to it and each
// keeps its own in-memory index up to date from the change log (ChangeFeed, store.h).
//
// Every write transaction takes its group's row lock (SELECT ... FOR UPDATE on
// facekit_groups), bumps the group's version, appends the face_ids it touched to
// facekit_changes under that version and sends pg_notify('facekit_changes', group): versions of
// a group have no gaps and follow commit order. Features are float32 bytes (host order, x86).
#include <endian.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "facekit/error.h"
#include "registry/store.h"

namespace facekit::registry {

bool is_postgres_url(const std::string& path) {
  return path.rfind("postgresql://", 0) == 0 || path.rfind("postgres://", 0) == 0;
}

std::string redacted_url(const std::string& url) {
  std::string out = url;
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const auto at = out.find('@', scheme + 3), slash = out.find('/', scheme + 3);
    const auto colon = out.find(':', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash) && colon < at)
      out = out.substr(0, colon + 1) + "***" + out.substr(at);
  }
  for (auto pw = out.find("password="); pw != std::string::npos; pw = out.find("password=", pw + 1)) {
    const auto end = out.find_first_of("& ", pw);
    out = out.substr(0, pw + 9) + "***" + (end == std::string::npos ? "" : out.substr(end));
  }
  return out;
}

namespace {

constexpr int kSchemaVersion = 1;
constexpr const char* kChannel = "facekit_changes";
constexpr size_t kIdleConnections = 8;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;
struct ConnectionDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Connection = std::unique_ptr<PGconn, ConnectionDeleter>;

// A failed statement; `lost` when the connection itself is gone (server restarted, network).
struct PgFailure : std::runtime_error {
  PgFailure(const std::string& m, bool l) : std::runtime_error(m), lost(l) {}
  bool lost;
};

struct Param {
  std::string bytes;
  bool binary = false;
};
Param text(std::string s) { return {std::move(s), false}; }
Param number(int64_t v) { return {std::to_string(v), false}; }
Param bytea(const void* data, size_t n) { return {std::string(static_cast<const char*>(data), n), true}; }
// A text-format array literal of digit strings or numbers (face_ids are validated digits).
template <class T>
Param array(const std::vector<T>& items) {
  std::string s = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += ',';
    if constexpr (std::is_same_v<T, std::string>) s += items[i];
    else s += std::to_string(items[i]);
  }
  return text(s + "}");
}

// A connection that gives up after 5 s unless the URL says otherwise (libpq waits forever).
Connection connect(const std::string& url) {
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"5", url.c_str(), nullptr};
  Connection c(PQconnectdbParams(keys, values, 1));
  // "relation already exists, skipping" and the like: not for the server's log.
  if (c) PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);
  return c;
}

// libpq's messages end with a newline; some span lines.
std::string one_line(const char* message) {
  std::string s = message ? message : "";
  for (auto& ch : s)
    if (ch == '\n' || ch == '\t') ch = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// Results come back in binary: bigint as 8 big-endian bytes, text and bytea as raw bytes.
Result exec(PGconn* c, const char* sql, const std::vector<Param>& params = {}) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const auto& p : params) {
    values.push_back(p.bytes.data());
    lengths.push_back(static_cast<int>(p.bytes.size()));
    formats.push_back(p.binary ? 1 : 0);
  }
  Result r(PQexecParams(c, sql, static_cast<int>(params.size()), nullptr, values.data(), lengths.data(),
                        formats.data(), 1));
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw PgFailure(one_line(PQerrorMessage(c)), PQstatus(c) != CONNECTION_OK);
  return r;
}

int64_t get_int64(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return 0;
  uint64_t be = 0;
  if (PQgetlength(r, row, col) != 8) throw Error(ErrorCode::kInternal, "PostgreSQL: expected a bigint");
  std::memcpy(&be, PQgetvalue(r, row, col), 8);
  return static_cast<int64_t>(be64toh(be));
}

std::string get_bytes(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

thread_local int64_t t_version_written = 0;

class PostgresStore final : public FeatureStore, public ChangeFeed {
 public:
  PostgresStore(const std::string& url, int dimension, int64_t change_log_keep)
      : url_(url), shown_url_(redacted_url(url)), dimension_(dimension),
        keep_(change_log_keep > 0 ? change_log_keep : 1) {
    transact([&](PGconn* c) {
      // Servers starting together must not create the tables twice.
      exec(c, "SELECT pg_advisory_xact_lock(7240631)");
      exec(c, "CREATE TABLE IF NOT EXISTS facekit_meta(key text PRIMARY KEY, value text NOT NULL)");
      exec(c, "INSERT INTO facekit_meta(key, value) VALUES('schema_version', $1) ON CONFLICT (key) DO NOTHING",
           {number(kSchemaVersion)});
      exec(c, "INSERT INTO facekit_meta(key, value) VALUES('store_id', gen_random_uuid()::text) ON CONFLICT (key) DO NOTHING");
      auto r = exec(c, "SELECT value FROM facekit_meta WHERE key = 'schema_version'");
      const int stored = std::atoi(get_bytes(r.get(), 0, 0).c_str());
      if (stored > kSchemaVersion)
        throw Error(ErrorCode::kInvalidArgument, "the registry at " + shown_url_ + " has schema version " +
                                                     std::to_string(stored) + ", newer than this facekit's (" +
                                                     std::to_string(kSchemaVersion) + "): upgrade facekit");
      exec(c,
           "CREATE TABLE IF NOT EXISTS facekit_groups(group_id text PRIMARY KEY, version bigint NOT NULL,"
           " people bigint NOT NULL)");
      exec(c,
           "CREATE TABLE IF NOT EXISTS facekit_features(row_id bigserial PRIMARY KEY, group_id text NOT NULL,"
           " face_id text NOT NULL, feature bytea NOT NULL, created_ms bigint NOT NULL)");
      exec(c, "CREATE INDEX IF NOT EXISTS facekit_features_person ON facekit_features(group_id, face_id)");
      exec(c,
           "CREATE TABLE IF NOT EXISTS facekit_crops(row_id bigint PRIMARY KEY REFERENCES facekit_features"
           " ON DELETE CASCADE, jpeg bytea NOT NULL, landmarks bytea NOT NULL)");
      exec(c,
           "CREATE TABLE IF NOT EXISTS facekit_changes(group_id text NOT NULL, version bigint NOT NULL,"
           " face_id text NOT NULL, at_ms bigint NOT NULL, PRIMARY KEY(group_id, version, face_id))");
      store_id_ = get_bytes(exec(c, "SELECT value FROM facekit_meta WHERE key = 'store_id'").get(), 0, 0);
      return 0;
    });
  }

  // -- FeatureStore ------------------------------------------------------------------------
  std::string model_id() override {
    return transact([&](PGconn* c) {
      auto r = exec(c, "SELECT value FROM facekit_meta WHERE key = 'feature_model'");
      return PQntuples(r.get()) ? get_bytes(r.get(), 0, 0) : std::string();
    });
  }

  // First writer wins: servers starting together on an empty registry with different models
  // then see the other's id (the Registry re-reads it).
  void set_model_id(const std::string& id) override {
    transact([&](PGconn* c) {
      exec(c, "INSERT INTO facekit_meta(key, value) VALUES('feature_model', $1) ON CONFLICT (key) DO NOTHING",
           {text(id)});
      return 0;
    });
  }

  void for_each_key(const std::function<void(StoredFeature&&)>& visit) override {
    Result keys = transact([&](PGconn* c) { return exec(c, "SELECT row_id, group_id, face_id FROM facekit_features"); });
    for (int i = 0, n = PQntuples(keys.get()); i < n; ++i) {
      StoredFeature f;
      f.row_id = get_int64(keys.get(), i, 0);
      f.group = get_bytes(keys.get(), i, 1);
      f.face_id = get_bytes(keys.get(), i, 2);
      visit(std::move(f));
    }
  }

  std::vector<float> feature(int64_t row_id) override {
    auto f = features({row_id});
    if (f[0].empty()) throw Error(ErrorCode::kInternal, "feature row " + std::to_string(row_id) + " vanished");
    return f[0];
  }

  std::vector<std::vector<float>> features(const std::vector<int64_t>& row_ids) override {
    if (row_ids.empty()) return {};
    auto r = transact([&](PGconn* c) {
      return exec(c, "SELECT row_id, feature FROM facekit_features WHERE row_id = ANY($1::bigint[])", {array(row_ids)});
    });
    std::unordered_map<int64_t, int> at;
    for (int i = 0, n = PQntuples(r.get()); i < n; ++i) at.emplace(get_int64(r.get(), i, 0), i);
    std::vector<std::vector<float>> out;
    out.reserve(row_ids.size());
    for (int64_t row : row_ids) {
      auto it = at.find(row);
      out.push_back(it == at.end() ? std::vector<float>() : to_feature(r.get(), it->second, 1, row));
    }
    return out;
  }

  std::vector<int64_t> replace_person(const std::string& group, const std::string& face_id,
                                      const std::vector<std::vector<float>>& features,
                                      const std::vector<FaceCrop>& crops) override {
    if (!crops.empty() && crops.size() != features.size())
      throw Error(ErrorCode::kInvalidArgument, "one kept crop per feature, or none");
    std::vector<int64_t> ids;
    write(group, [&](PGconn* c, std::vector<std::string>& touched) {
      touched.push_back(face_id);
      return insert(c, group, face_id, features, crops, ids);
    });
    return ids;
  }

  std::vector<std::vector<int64_t>> replace_people(
      const std::string& group,
      const std::vector<std::pair<std::string, std::vector<std::vector<float>>>>& people) override {
    std::vector<std::vector<int64_t>> out;
    write(group, [&](PGconn* c, std::vector<std::string>& touched) {
      out.clear();
      int64_t added = 0;
      for (const auto& [face_id, features] : people) {
        std::vector<int64_t> ids;
        added += insert(c, group, face_id, features, {}, ids);
        out.push_back(std::move(ids));
        touched.push_back(face_id);
      }
      return added;
    });
    return out;
  }

  bool delete_person(const std::string& group, const std::string& face_id) override {
    bool deleted = false;
    write(group, [&](PGconn* c, std::vector<std::string>& touched) -> int64_t {
      auto r = exec(c, "DELETE FROM facekit_features WHERE group_id = $1 AND face_id = $2", {text(group), text(face_id)});
      deleted = std::atoi(PQcmdTuples(r.get())) > 0;
      if (deleted) touched.push_back(face_id);
      return deleted ? -1 : 0;
    });
    return deleted;
  }

  std::vector<std::string> delete_range(const std::string& group, const std::string& max_face_id) override {
    std::vector<std::string> doomed;
    write(group, [&](PGconn* c, std::vector<std::string>& touched) -> int64_t {
      doomed.clear();
      auto r = exec(c, "SELECT DISTINCT face_id FROM facekit_features WHERE group_id = $1", {text(group)});
      for (int i = 0, n = PQntuples(r.get()); i < n; ++i) {
        std::string id = get_bytes(r.get(), i, 0);
        if (compare_numeric(id, max_face_id) <= 0) doomed.push_back(std::move(id));
      }
      if (doomed.empty()) return 0;
      exec(c, "DELETE FROM facekit_features WHERE group_id = $1 AND face_id = ANY($2::text[])",
           {text(group), array(doomed)});
      touched = doomed;
      return -static_cast<int64_t>(doomed.size());
    });
    return doomed;
  }

  size_t feature_count() override {
    return static_cast<size_t>(transact([&](PGconn* c) {
      return get_int64(exec(c, "SELECT count(*) FROM facekit_features").get(), 0, 0);
    }));
  }

  size_t features_without_crop() override {
    return static_cast<size_t>(transact([&](PGconn* c) {
      return get_int64(exec(c,
                            "SELECT count(*) FROM facekit_features f WHERE NOT EXISTS"
                            " (SELECT 1 FROM facekit_crops k WHERE k.row_id = f.row_id)")
                           .get(),
                       0, 0);
    }));
  }

  // Re-describing a shared registry's faces is not offered: every server would have to switch
  // models at the same instant (docs/SCALING.md).
  std::string migration_target() override { return {}; }
  void begin_migration(const std::string&) override { no_migration(); }
  size_t migrated_count() override { return 0; }
  std::vector<std::pair<int64_t, FaceCrop>> crops_to_migrate(size_t) override { no_migration(); }
  void save_migrated(const std::vector<std::pair<int64_t, std::vector<float>>>&) override { no_migration(); }
  size_t finish_migration(const std::string&, bool) override { no_migration(); }

  // -- ChangeFeed --------------------------------------------------------------------------
  std::string store_id() override { return store_id_; }

  std::map<std::string, int64_t> group_versions() override {
    return transact([&](PGconn* c) { return read_versions(c); });
  }

  int64_t version_written_by_this_thread() override { return t_version_written; }

  GroupChanges changes_since(const std::string& group, int64_t since) override {
    GroupChanges out;
    transact(
        [&](PGconn* c) {
          out = GroupChanges();
          auto v = exec(c, "SELECT version FROM facekit_groups WHERE group_id = $1", {text(group)});
          out.version = PQntuples(v.get()) ? get_int64(v.get(), 0, 0) : 0;
          if (out.version <= since) return 0;
          auto oldest = exec(c, "SELECT min(version) FROM facekit_changes WHERE group_id = $1", {text(group)});
          const bool held =
              since > 0 && !PQgetisnull(oldest.get(), 0, 0) && get_int64(oldest.get(), 0, 0) <= since + 1;
          out.reload = !held;
          Result rows;
          if (held) {
            auto touched = exec(c, "SELECT DISTINCT face_id FROM facekit_changes WHERE group_id = $1 AND version > $2",
                                {text(group), number(since)});
            for (int i = 0, n = PQntuples(touched.get()); i < n; ++i)
              out.faces.push_back({get_bytes(touched.get(), i, 0), {}, {}});
            std::vector<std::string> ids;
            for (const auto& f : out.faces) ids.push_back(f.face_id);
            rows = exec(c,
                        "SELECT face_id, row_id, feature FROM facekit_features WHERE group_id = $1"
                        " AND face_id = ANY($2::text[]) ORDER BY row_id",
                        {text(group), array(ids)});
          } else {
            rows = exec(c, "SELECT face_id, row_id FROM facekit_features WHERE group_id = $1 ORDER BY row_id",
                        {text(group)});
          }
          std::unordered_map<std::string, size_t> at;
          for (size_t i = 0; i < out.faces.size(); ++i) at.emplace(out.faces[i].face_id, i);
          for (int i = 0, n = PQntuples(rows.get()); i < n; ++i) {
            std::string id = get_bytes(rows.get(), i, 0);
            auto it = at.find(id);
            if (it == at.end()) {
              it = at.emplace(id, out.faces.size()).first;
              out.faces.push_back({id, {}, {}});
            }
            auto& face = out.faces[it->second];
            face.row_ids.push_back(get_int64(rows.get(), i, 1));
            if (held) face.features.push_back(to_feature(rows.get(), i, 2, face.row_ids.back()));
          }
          return 0;
        },
        true);
    return out;
  }

  bool wait_for_changes(std::chrono::milliseconds timeout, std::set<std::string>& groups) override {
    if (!listener_ || PQstatus(listener_.get()) != CONNECTION_OK) {
      listener_.reset();
      Connection c = connect(url_);
      if (!c || PQstatus(c.get()) != CONNECTION_OK) {
        std::this_thread::sleep_for(timeout);
        return false;
      }
      try {
        exec(c.get(), (std::string("LISTEN ") + kChannel).c_str());
      } catch (const PgFailure&) {
        std::this_thread::sleep_for(timeout);
        return false;
      }
      listener_ = std::move(c);
      return false;  // notices sent before LISTEN are not ours: compare every version
    }
    bool ok = drain(groups);
    if (ok && groups.empty()) {
      pollfd p{PQsocket(listener_.get()), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(timeout.count()));
      ok = PQconsumeInput(listener_.get()) == 1 && drain(groups);
    }
    if (!ok) listener_.reset();
    return ok;
  }

  size_t count_people(const std::string& group) override {
    return static_cast<size_t>(transact([&](PGconn* c) {
      auto r = exec(c, "SELECT people FROM facekit_groups WHERE group_id = $1", {text(group)});
      return PQntuples(r.get()) ? get_int64(r.get(), 0, 0) : 0;
    }));
  }

  size_t count_all_people() override {
    return static_cast<size_t>(transact([&](PGconn* c) {
      return get_int64(exec(c, "SELECT coalesce(sum(people), 0)::bigint FROM facekit_groups").get(), 0, 0);
    }));
  }

 private:
  [[noreturn]] void no_migration() const {
    throw Error(ErrorCode::kInvalidArgument,
                "migrating a shared PostgreSQL registry (" + shown_url_ +
                    ") is not offered: re-register its faces through the new engine");
  }

  std::vector<float> to_feature(const PGresult* r, int row, int col, int64_t row_id) const {
    const int n = PQgetlength(r, row, col);
    if (n != dimension_ * static_cast<int>(sizeof(float)))
      throw Error(ErrorCode::kInternal, "stored feature row " + std::to_string(row_id) + " has the wrong length");
    std::vector<float> f(dimension_);
    std::memcpy(f.data(), PQgetvalue(r, row, col), static_cast<size_t>(n));
    return f;
  }

  std::map<std::string, int64_t> read_versions(PGconn* c) const {
    std::map<std::string, int64_t> out;
    auto r = exec(c, "SELECT group_id, version FROM facekit_groups");
    for (int i = 0, n = PQntuples(r.get()); i < n; ++i) out.emplace(get_bytes(r.get(), i, 0), get_int64(r.get(), i, 1));
    return out;
  }

  bool drain(std::set<std::string>& groups) {
    while (PGnotify* n = PQnotifies(listener_.get())) {
      groups.insert(n->extra);
      PQfreemem(n);
    }
    return PQstatus(listener_.get()) == CONNECTION_OK;
  }

  // Deletes the person's rows and inserts `features` (and crops); returns 1 if the person is
  // new to the group, else 0. Row ids into `ids`.
  int64_t insert(PGconn* c, const std::string& group, const std::string& face_id,
                 const std::vector<std::vector<float>>& features, const std::vector<FaceCrop>& crops,
                 std::vector<int64_t>& ids) const {
    auto del = exec(c, "DELETE FROM facekit_features WHERE group_id = $1 AND face_id = $2", {text(group), text(face_id)});
    const bool existed = std::atoi(PQcmdTuples(del.get())) > 0;
    ids.clear();
    const int64_t now = now_ms();
    for (size_t i = 0; i < features.size(); ++i) {
      const auto& f = features[i];
      auto r = exec(c,
                    "INSERT INTO facekit_features(group_id, face_id, feature, created_ms) VALUES($1, $2, $3, $4)"
                    " RETURNING row_id",
                    {text(group), text(face_id), bytea(f.data(), f.size() * sizeof(float)), number(now)});
      ids.push_back(get_int64(r.get(), 0, 0));
      if (!crops.empty())
        exec(c, "INSERT INTO facekit_crops(row_id, jpeg, landmarks) VALUES($1, $2, $3)",
             {number(ids.back()), bytea(crops[i].jpeg.data(), crops[i].jpeg.size()),
              bytea(crops[i].landmarks.data(), sizeof(crops[i].landmarks))});
    }
    return existed ? 0 : 1;
  }

  // One write transaction on `group`: its row lock, the change, the version bump, the log rows,
  // the trim and the notice. `change` lists the face_ids it touched (none: nothing changed, no
  // new version) and returns how many people the group gained (negative: lost). It may run
  // twice (transact's retry), so it must reset what it collects.
  void write(const std::string& group, const std::function<int64_t(PGconn*, std::vector<std::string>&)>& change) {
    t_version_written = 0;
    t_version_written = transact([&](PGconn* c) -> int64_t {
      exec(c, "INSERT INTO facekit_groups(group_id, version, people) VALUES($1, 0, 0) ON CONFLICT (group_id) DO NOTHING",
           {text(group)});
      auto v = exec(c, "SELECT version FROM facekit_groups WHERE group_id = $1 FOR UPDATE", {text(group)});
      const int64_t next = get_int64(v.get(), 0, 0) + 1;
      std::vector<std::string> touched;
      const int64_t gained = change(c, touched);
      if (touched.empty()) return 0;
      std::sort(touched.begin(), touched.end());
      touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
      exec(c, "UPDATE facekit_groups SET version = $2, people = people + $3 WHERE group_id = $1",
           {text(group), number(next), number(gained)});
      exec(c, "INSERT INTO facekit_changes(group_id, version, face_id, at_ms) SELECT $1, $2, unnest($3::text[]), $4",
           {text(group), number(next), array(touched), number(now_ms())});
      exec(c, "DELETE FROM facekit_changes WHERE group_id = $1 AND version <= $2", {text(group), number(next - keep_)});
      exec(c, "SELECT pg_notify($1, $2)", {text(kChannel), text(group)});
      return next;
    });
  }

  // Runs `body` in one transaction (REPEATABLE READ READ ONLY when `read_only`), retried once
  // on a fresh connection when the connection was found dead before COMMIT was sent (a
  // restarted server): nothing was committed then. Other failures are Error(kUnavailable).
  template <class Body>
  auto transact(Body&& body, bool read_only = false) -> decltype(body(static_cast<PGconn*>(nullptr))) {
    for (int attempt = 0;; ++attempt) {
      Connection c = take();
      bool commit_sent = false;
      try {
        exec(c.get(), read_only ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
        auto out = body(c.get());
        commit_sent = true;
        exec(c.get(), "COMMIT");
        give(std::move(c));
        return out;
      } catch (const PgFailure& e) {
        if (e.lost) {
          drop_idle();
          if (!commit_sent && attempt == 0) continue;
        } else {
          rollback(std::move(c));
        }
        throw Error(ErrorCode::kUnavailable, std::string("PostgreSQL registry ") + shown_url_ + ": " +
                                                 (commit_sent ? "commit failed, outcome unknown: " : "") + e.what());
      } catch (...) {
        rollback(std::move(c));
        throw;
      }
    }
  }

  Connection take() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      if (!idle_.empty()) {
        Connection c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    Connection c = connect(url_);
    if (!c || PQstatus(c.get()) != CONNECTION_OK)
      throw Error(ErrorCode::kUnavailable, "cannot connect to the PostgreSQL registry " + shown_url_ + ": " +
                                               (c ? one_line(PQerrorMessage(c.get())) : "out of memory"));
    return c;
  }

  void give(Connection c) {
    if (PQstatus(c.get()) != CONNECTION_OK || PQtransactionStatus(c.get()) != PQTRANS_IDLE) return;
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (idle_.size() < kIdleConnections) idle_.push_back(std::move(c));
  }

  void rollback(Connection c) {
    if (PQstatus(c.get()) != CONNECTION_OK) return;
    Result r(PQexec(c.get(), "ROLLBACK"));
    give(std::move(c));
  }

  // After a lost connection the others in the pool are most likely gone too.
  void drop_idle() {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    idle_.clear();
  }

  const std::string url_, shown_url_;
  const int dimension_;
  const int64_t keep_;
  std::mutex pool_mutex_;
  std::vector<Connection> idle_;
  std::string store_id_;
  Connection listener_;  // used by the one thread that calls wait_for_changes
};

}  // namespace

std::unique_ptr<FeatureStore> open_postgres_store(const std::string& url, int dimension, int64_t change_log_keep) {
  return std::make_unique<PostgresStore>(url, dimension, change_log_keep);
}

}  // namespace facekit::registry
