#include <SQLiteCpp/SQLiteCpp.h>

#include <chrono>
#include <cstring>
#include <mutex>

#include "facekit/error.h"
#include "registry/store.h"

namespace facekit::registry {

int compare_numeric(const std::string& a, const std::string& b) {
  auto strip = [](const std::string& s) {
    const auto p = s.find_first_not_of('0');
    return p == std::string::npos ? std::string("0") : s.substr(p);
  };
  const std::string x = strip(a), y = strip(b);
  if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
  return x.compare(y) < 0 ? -1 : (x == y ? 0 : 1);
}

namespace {

class SqliteStore final : public FeatureStore {
 public:
  SqliteStore(const std::string& path, int dimension)
      : db_(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX), dimension_(dimension) {
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec("PRAGMA synchronous=FULL");  // an acknowledged registration survives a crash
    db_.exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    db_.exec(
        "CREATE TABLE IF NOT EXISTS features("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, group_id TEXT NOT NULL, face_id TEXT NOT NULL,"
        " feature BLOB NOT NULL, created_ms INTEGER NOT NULL)");
    db_.exec("CREATE INDEX IF NOT EXISTS features_person ON features(group_id, face_id)");
    // Kept crops live in their own table: key scans and feature reads never touch them.
    db_.exec(
        "CREATE TABLE IF NOT EXISTS crops(row_id INTEGER PRIMARY KEY, jpeg BLOB NOT NULL, landmarks BLOB NOT NULL)");
  }

  std::string model_id() override {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement q(db_, "SELECT value FROM meta WHERE key = 'feature_model'");
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
  }

  void set_model_id(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement q(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('feature_model', ?)");
    q.bind(1, id);
    q.exec();
  }

  void for_each_key(const std::function<void(StoredFeature&&)>& visit) override {
    std::lock_guard<std::mutex> lock(mutex_);
    // The covering index holds every key: scanning the table instead would read every
    // feature's pages too (4 GB at a million faces) just to skip them.
    SQLite::Statement q(db_, "SELECT id, group_id, face_id FROM features INDEXED BY features_person");
    while (q.executeStep()) {
      StoredFeature f;
      f.row_id = q.getColumn(0).getInt64();
      f.group = q.getColumn(1).getString();
      f.face_id = q.getColumn(2).getString();
      visit(std::move(f));
    }
  }

  std::vector<float> feature(int64_t row_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement q(db_, "SELECT feature FROM features WHERE id = ?");
    q.bind(1, row_id);
    if (!q.executeStep()) throw Error(ErrorCode::kInternal, "feature row " + std::to_string(row_id) + " vanished");
    const auto blob = q.getColumn(0);
    if (blob.getBytes() != dimension_ * static_cast<int>(sizeof(float)))
      throw Error(ErrorCode::kInternal, "stored feature row " + std::to_string(row_id) + " has the wrong length");
    std::vector<float> f(dimension_);
    std::memcpy(f.data(), blob.getBlob(), blob.getBytes());
    return f;
  }

  std::vector<int64_t> replace_person(const std::string& group, const std::string& face_id,
                                      const std::vector<std::vector<float>>& features,
                                      const std::vector<FaceCrop>& crops) override {
    if (!crops.empty() && crops.size() != features.size())
      throw Error(ErrorCode::kInvalidArgument, "one kept crop per feature, or none");
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    auto ids = insert(group, face_id, features);
    if (!crops.empty()) {
      SQLite::Statement ins(db_, "INSERT OR REPLACE INTO crops(row_id, jpeg, landmarks) VALUES(?, ?, ?)");
      for (size_t i = 0; i < ids.size(); ++i) {
        ins.bind(1, ids[i]);
        ins.bind(2, crops[i].jpeg.data(), static_cast<int>(crops[i].jpeg.size()));
        ins.bind(3, crops[i].landmarks.data(), static_cast<int>(sizeof(crops[i].landmarks)));
        ins.exec();
        ins.reset();
      }
    }
    tx.commit();
    return ids;
  }

  std::vector<std::vector<int64_t>> replace_people(
      const std::string& group,
      const std::vector<std::pair<std::string, std::vector<std::vector<float>>>>& people) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    std::vector<std::vector<int64_t>> ids;
    for (const auto& [face_id, features] : people) ids.push_back(insert(group, face_id, features));
    tx.commit();
    return ids;
  }

  bool delete_person(const std::string& group, const std::string& face_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return erase(group, face_id) > 0;
  }

  std::vector<std::string> delete_range(const std::string& group, const std::string& max_face_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> doomed;
    SQLite::Statement q(db_, "SELECT DISTINCT face_id FROM features WHERE group_id = ?");
    q.bind(1, group);
    while (q.executeStep()) {
      std::string id = q.getColumn(0).getString();
      if (compare_numeric(id, max_face_id) <= 0) doomed.push_back(std::move(id));
    }
    SQLite::Transaction tx(db_);
    for (const auto& id : doomed) erase(group, id);
    tx.commit();
    return doomed;
  }

  size_t feature_count() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<size_t>(db_.execAndGet("SELECT COUNT(*) FROM features").getInt64());
  }

  size_t features_without_crop() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<size_t>(
        db_.execAndGet("SELECT COUNT(*) FROM features WHERE id NOT IN (SELECT row_id FROM crops)").getInt64());
  }

  std::string migration_target() override {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement q(db_, "SELECT value FROM meta WHERE key = 'migration_target'");
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
  }

  void begin_migration(const std::string& model_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    db_.exec("CREATE TABLE IF NOT EXISTS migrated(row_id INTEGER PRIMARY KEY, feature BLOB NOT NULL)");
    SQLite::Statement q(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('migration_target', ?)");
    q.bind(1, model_id);
    q.exec();
    tx.commit();
  }

  size_t migrated_count() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!db_.tableExists("migrated")) return 0;
    return static_cast<size_t>(db_.execAndGet("SELECT COUNT(*) FROM migrated").getInt64());
  }

  std::vector<std::pair<int64_t, FaceCrop>> crops_to_migrate(size_t limit) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Statement q(db_,
                        "SELECT row_id, jpeg, landmarks FROM crops WHERE row_id IN (SELECT id FROM features)"
                        " AND row_id NOT IN (SELECT row_id FROM migrated) ORDER BY row_id LIMIT ?");
    q.bind(1, static_cast<int64_t>(limit));
    std::vector<std::pair<int64_t, FaceCrop>> out;
    while (q.executeStep()) {
      FaceCrop c;
      const auto jpeg = q.getColumn(1), marks = q.getColumn(2);
      c.jpeg.assign(static_cast<const char*>(jpeg.getBlob()), static_cast<size_t>(jpeg.getBytes()));
      if (marks.getBytes() != static_cast<int>(sizeof(c.landmarks)))
        throw Error(ErrorCode::kInternal, "kept crop of row " + std::to_string(q.getColumn(0).getInt64()) +
                                              " has malformed landmarks");
      std::memcpy(c.landmarks.data(), marks.getBlob(), sizeof(c.landmarks));
      out.emplace_back(q.getColumn(0).getInt64(), std::move(c));
    }
    return out;
  }

  void save_migrated(const std::vector<std::pair<int64_t, std::vector<float>>>& rows) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    SQLite::Statement ins(db_, "INSERT OR REPLACE INTO migrated(row_id, feature) VALUES(?, ?)");
    for (const auto& [row, f] : rows) {
      ins.bind(1, row);
      ins.bind(2, f.data(), static_cast<int>(f.size() * sizeof(float)));
      ins.exec();
      ins.reset();
    }
    tx.commit();
  }

  size_t finish_migration(const std::string& model_id, bool drop_rest) override {
    std::lock_guard<std::mutex> lock(mutex_);
    SQLite::Transaction tx(db_);
    const auto rest = static_cast<size_t>(
        db_.execAndGet("SELECT COUNT(*) FROM features WHERE id NOT IN (SELECT row_id FROM migrated)").getInt64());
    if (rest > 0 && !drop_rest)
      throw Error(ErrorCode::kInvalidArgument, std::to_string(rest) + " features have no kept crop to re-describe");
    db_.exec("DELETE FROM crops WHERE row_id NOT IN (SELECT row_id FROM migrated)");
    db_.exec("DELETE FROM features WHERE id NOT IN (SELECT row_id FROM migrated)");
    db_.exec("UPDATE features SET feature = (SELECT feature FROM migrated WHERE migrated.row_id = features.id)");
    db_.exec("DROP TABLE migrated");
    db_.exec("DELETE FROM meta WHERE key = 'migration_target'");
    SQLite::Statement q(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('feature_model', ?)");
    q.bind(1, model_id);
    q.exec();
    tx.commit();
    return rest;
  }

 private:
  std::vector<int64_t> insert(const std::string& group, const std::string& face_id,
                              const std::vector<std::vector<float>>& features) {
    erase(group, face_id);
    std::vector<int64_t> ids;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    SQLite::Statement ins(db_, "INSERT INTO features(group_id, face_id, feature, created_ms) VALUES(?, ?, ?, ?)");
    for (const auto& f : features) {
      ins.bind(1, group);
      ins.bind(2, face_id);
      ins.bind(3, f.data(), static_cast<int>(f.size() * sizeof(float)));
      ins.bind(4, static_cast<int64_t>(now));
      ins.exec();
      ins.reset();
      ids.push_back(db_.getLastInsertRowid());
    }
    return ids;
  }

  int erase(const std::string& group, const std::string& face_id) {
    SQLite::Statement crops(db_,
                            "DELETE FROM crops WHERE row_id IN (SELECT id FROM features WHERE group_id = ? AND face_id = ?)");
    crops.bind(1, group);
    crops.bind(2, face_id);
    crops.exec();
    SQLite::Statement del(db_, "DELETE FROM features WHERE group_id = ? AND face_id = ?");
    del.bind(1, group);
    del.bind(2, face_id);
    return del.exec();
  }

  std::mutex mutex_;  // one connection, writes serialised
  SQLite::Database db_;
  int dimension_;
};

}  // namespace

std::unique_ptr<FeatureStore> open_sqlite_store(const std::string& path, int dimension) {
  try {
    return std::make_unique<SqliteStore>(path, dimension);
  } catch (const SQLite::Exception& e) {
    throw Error(ErrorCode::kInvalidArgument, "cannot open registry " + path + ": " + e.what());
  }
}

}  // namespace facekit::registry
