// Registry semantics with synthetic unit vectors: register / replace / delete / range /
// count, threshold and top-k, one entry per face_id, restart and crash durability, threads.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "facekit/error.h"
#include "facekit/registry.h"
#include "registry/half_vectors.h"
#include "registry/stored_vector.h"

namespace fs = std::filesystem;
using facekit::Feature;

namespace {

constexpr int kDim = 64;

Feature random_unit(std::mt19937& rng) {
  std::normal_distribution<float> n;
  Feature f(kDim);
  double s = 0;
  for (auto& v : f) {
    v = n(rng);
    s += v * v;
  }
  for (auto& v : f) v = static_cast<float>(v / std::sqrt(s));
  return f;
}

Feature near(const Feature& f, float noise, std::mt19937& rng) {
  std::normal_distribution<float> n(0.f, noise);
  Feature g = f;
  for (auto& v : g) v += n(rng);
  return g;
}

// Two unit vectors of `dim` floats with a cosine near `mix`, and their exact cosine.
struct UnitPair {
  std::vector<float> a, b;
  double cosine;
};
UnitPair unit_pair(size_t dim, float mix, std::mt19937& rng) {
  std::normal_distribution<float> n;
  UnitPair p{std::vector<float>(dim), std::vector<float>(dim), 0.0};
  double na = 0, nb = 0;
  for (size_t i = 0; i < dim; ++i) {
    p.a[i] = n(rng), p.b[i] = mix * p.a[i] + std::sqrt(1 - mix * mix) * n(rng);
    na += p.a[i] * p.a[i], nb += p.b[i] * p.b[i];
  }
  for (size_t i = 0; i < dim; ++i) {
    p.a[i] = static_cast<float>(p.a[i] / std::sqrt(na)), p.b[i] = static_cast<float>(p.b[i] / std::sqrt(nb));
    p.cosine += double(p.a[i]) * p.b[i];
  }
  return p;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("facekit-reg-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  facekit::RegistryOptions options(const std::string& model = "test-model") const {
    facekit::RegistryOptions o;
    o.path = (dir_ / "registry.db").string();
    o.dimension = kDim;
    o.feature_model_id = model;
    return o;
  }
  fs::path dir_;
  std::mt19937 rng_{42};
};

}  // namespace

TEST_F(RegistryTest, RegisterQueryCountDelete) {
  facekit::Registry r(options());
  auto a = random_unit(rng_), b = random_unit(rng_);
  r.put("g1", "1", {a});
  r.put("g1", "2", {b, near(b, 0.05f, rng_)});
  r.put("g2", "1", {b});
  EXPECT_TRUE(r.contains("g1", "2"));
  EXPECT_FALSE(r.contains("g1", "3"));
  EXPECT_FALSE(r.contains("nope", "1"));
  EXPECT_EQ(r.count("g1"), 2u);
  EXPECT_EQ(r.count_all(), 3u);
  EXPECT_EQ(r.groups(), (std::vector<std::string>{"g1", "g2"}));
  EXPECT_TRUE(r.remove("g1", "2"));
  EXPECT_FALSE(r.remove("g1", "2"));
  EXPECT_EQ(r.count("g1"), 1u);
}

// A delete names any group it likes: one nobody registered must not get an index (each was
// ~3.5 MiB, so a stream of made-up names filled memory) nor show up among the groups.
TEST_F(RegistryTest, DeletesNamingAnUnknownGroupLeaveNoGroupBehind) {
  facekit::Registry r(options());
  r.put("g1", "1", {random_unit(rng_)});
  EXPECT_FALSE(r.remove("made-up", "1"));
  EXPECT_EQ(r.remove_range("another", "99"), 0u);
  EXPECT_EQ(r.groups(), (std::vector<std::string>{"g1"}));
  EXPECT_EQ(r.count("made-up"), 0u);
  r.put("made-up", "1", {random_unit(rng_)});  // a real registration still makes the group
  EXPECT_TRUE(r.contains("made-up", "1"));
  EXPECT_TRUE(r.remove("made-up", "1"));
  EXPECT_EQ(r.groups(), (std::vector<std::string>{"g1", "made-up"}));
}

// New groups start small and grow: faces well past the first capacity are all found.
TEST_F(RegistryTest, AGroupGrowsFromItsSmallFirstIndex) {
  facekit::Registry r(options());
  std::vector<facekit::Feature> people;
  for (int i = 0; i < 300; ++i) {
    people.push_back(random_unit(rng_));
    r.put("g", std::to_string(i), {people.back()});
  }
  ASSERT_EQ(r.count("g"), 300u);
  for (int i = 0; i < 300; ++i) {
    const auto hits = r.search("g", people[static_cast<size_t>(i)], 1, 0.5f);
    ASSERT_EQ(hits.size(), 1u) << i;
    EXPECT_EQ(hits[0].face_id, std::to_string(i));
  }
}

TEST_F(RegistryTest, ReplaceRemovesOldFeatures) {
  facekit::Registry r(options());
  auto old_face = random_unit(rng_), new_face = random_unit(rng_);
  r.put("g", "7", {old_face});
  r.put("g", "7", {new_face});
  EXPECT_EQ(r.count("g"), 1u);
  EXPECT_TRUE(r.search("g", old_face, 5, 0.9f).empty());
  auto hits = r.search("g", new_face, 5, 0.9f);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].face_id, "7");
  EXPECT_NEAR(hits[0].cosine, 1.f, 1e-3);  // the index holds half floats
  EXPECT_LE(hits[0].cosine, 1.f);
}

TEST_F(RegistryTest, SearchTopkThresholdAndOneEntryPerPerson) {
  facekit::Registry r(options());
  auto target = random_unit(rng_);
  // Person 1 has 5 features all close to the target: it must appear once.
  std::vector<Feature> five;
  for (int i = 0; i < 5; ++i) five.push_back(near(target, 0.02f, rng_));
  r.put("g", "1", five);
  r.put("g", "2", {near(target, 0.08f, rng_)});
  for (int i = 3; i < 200; ++i) r.put("g", std::to_string(i), {random_unit(rng_)});
  auto hits = r.search("g", target, 5, 0.5f);
  ASSERT_EQ(hits.size(), 2u);  // the random ones are below 0.5
  EXPECT_EQ(hits[0].face_id, "1");
  EXPECT_EQ(hits[1].face_id, "2");
  EXPECT_GE(hits[0].cosine, hits[1].cosine);
  EXPECT_EQ(r.search("g", target, 1, 0.5f).size(), 1u);
  EXPECT_EQ(r.search("g", target, 5, -1.f).size(), 5u);
  EXPECT_TRUE(r.search("empty-group", target, 5, -1.f).empty());
}

TEST_F(RegistryTest, TopkPeopleWhenTheNearestFeaturesAllBelongToFewPeople) {
  facekit::Registry r(options());
  auto target = random_unit(rng_);
  // The 10 nearest features belong to people 1 and 2 (5 each); person 3 comes after them.
  for (const char* id : {"1", "2"}) {
    std::vector<Feature> five;
    for (int i = 0; i < 5; ++i) five.push_back(near(target, 0.01f, rng_));
    r.put("g", id, five);
  }
  r.put("g", "3", {near(target, 0.1f, rng_)});
  for (int i = 4; i < 100; ++i) r.put("g", std::to_string(i), {random_unit(rng_)});
  auto hits = r.search("g", target, 3, 0.f);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[2].face_id, "3");
  EXPECT_EQ(r.search("g", target, 4, -1.f).size(), 4u);  // and past them, into the strangers
}

TEST_F(RegistryTest, RangeDeleteIsNumeric) {
  facekit::Registry r(options());
  for (const char* id : {"0", "5", "9", "10", "0011", "100", "123456789012345678901234567890"})
    r.put("g", id, {random_unit(rng_)});
  r.put("other", "1", {random_unit(rng_)});
  EXPECT_EQ(r.remove_range("g", "10"), 4u);  // 0, 5, 9, 10
  EXPECT_TRUE(r.contains("g", "0011"));
  EXPECT_TRUE(r.contains("g", "100"));
  EXPECT_TRUE(r.contains("other", "1"));
  EXPECT_EQ(r.remove_range("g", "99999999999999999999999999999999"), 3u);
  EXPECT_EQ(r.count("g"), 0u);
  EXPECT_EQ(r.remove_range("g", "5"), 0u);
}

TEST_F(RegistryTest, RejectsBadInput) {
  facekit::Registry r(options());
  auto f = random_unit(rng_);
  EXPECT_THROW(r.put("g", "12a", {f}), facekit::Error);
  EXPECT_THROW(r.put("g", "", {f}), facekit::Error);
  EXPECT_THROW(r.put("g", std::string(33, '1'), {f}), facekit::Error);
  EXPECT_THROW(r.put("g", "1", {}), facekit::Error);
  EXPECT_THROW(r.put("g", "1", std::vector<Feature>(6, f)), facekit::Error);
  EXPECT_THROW(r.put("g", "1", {Feature(kDim - 1, 0.1f)}), facekit::Error);
  EXPECT_THROW(r.search("g", Feature(3, 1.f), 5, 0.f), facekit::Error);
  EXPECT_EQ(r.count_all(), 0u);
}

TEST_F(RegistryTest, ReopenRestoresEverything) {
  auto a = random_unit(rng_), b = random_unit(rng_);
  {
    facekit::Registry r(options());
    r.put("g", "1", {a});
    r.put("g", "2", {b});
    r.remove("g", "2");
  }
  facekit::Registry r(options());
  EXPECT_EQ(r.count("g"), 1u);
  EXPECT_EQ(r.search("g", a, 5, 0.9f).at(0).face_id, "1");
}

TEST_F(RegistryTest, AVariantOfTheSameModelOpensItsRegistry) {
  {
    facekit::Registry r(options("model-a"));
    r.put("g", "1", {random_unit(rng_)});
  }
  {
    facekit::Registry flip(options("model-a:flip"));  // dlib's half mirror-averaged: interchangeable
    EXPECT_EQ(flip.count("g"), 1u);
  }
  {
    facekit::Registry int8(options("model-a:flip:int8"));  // and from the int8 model
    EXPECT_EQ(int8.count("g"), 1u);
  }
  {
    facekit::Registry int8_alone(options("model-a:int8"));
    EXPECT_EQ(int8_alone.count("g"), 1u);
  }
  EXPECT_THROW(facekit::Registry(options("model-a:other")), facekit::Error);
  EXPECT_THROW(facekit::Registry(options("model-b:int8")), facekit::Error);
  EXPECT_THROW(facekit::Registry(options("model:int8")), facekit::Error);  // a prefix is another model
}

TEST_F(RegistryTest, FeaturesOfAnotherModelAreRefused) {
  { facekit::Registry r(options("model-a")); }
  try {
    facekit::Registry r(options("model-b"));
    FAIL() << "no error";
  } catch (const facekit::Error& e) {
    EXPECT_EQ(e.code(), facekit::ErrorCode::kModelUnavailable);
    EXPECT_NE(std::string(e.what()).find("registry migrate"), std::string::npos);
  }
}

// A kept crop stands for a face: here its bytes carry a seed, and "describing" it draws a
// unit vector of the new model's dimension from that seed.
facekit::FaceCrop crop_of(int seed) {
  facekit::FaceCrop c;
  c.jpeg = "crop-" + std::to_string(seed);
  c.landmarks[0] = {static_cast<float>(seed), 1.f};
  return c;
}

TEST_F(RegistryTest, MigrationRedescribesKeptCropsResumesAndSwitchesModel) {
  constexpr int kNewDim = 24;
  auto describe = [](const facekit::FaceCrop& c) {
    std::mt19937 g(static_cast<unsigned>(c.landmarks[0].x));
    std::vector<float> v(kNewDim);
    for (auto& x : v) x = std::normal_distribution<float>()(g);
    return v;
  };
  {
    facekit::Registry r(options("model-a"));
    for (int i = 0; i < 40; ++i)  // more than one batch
      r.put("g", std::to_string(i), {random_unit(rng_)}, {crop_of(i)});
    r.put("g", "100", {random_unit(rng_), random_unit(rng_)}, {crop_of(100), crop_of(101)});
    r.put("g", "200", {random_unit(rng_)});  // no crop
    r.put("g", "300", {random_unit(rng_)}, {crop_of(300)});
    EXPECT_TRUE(r.remove("g", "300"));  // its crop goes with it
    EXPECT_THROW(r.put("g", "400", {random_unit(rng_)}, {crop_of(1), crop_of(2)}), facekit::Error);
  }
  auto target = options("model-b");
  target.dimension = kNewDim;
  EXPECT_THROW(facekit::Registry::migrate(target, describe), facekit::Error);  // "200" has no crop
  size_t calls = 0;
  EXPECT_THROW(facekit::Registry::migrate(target, describe,
                                          [&](size_t, size_t) {
                                            if (++calls == 1) throw std::runtime_error("interrupted");
                                          },
                                          true),
               std::runtime_error);
  { facekit::Registry still_a(options("model-a")); EXPECT_EQ(still_a.count("g"), 42u); }
  size_t last_done = 0, last_total = 0;
  const auto m = facekit::Registry::migrate(target, describe, [&](size_t d, size_t t) { last_done = d, last_total = t; },
                                            true);
  EXPECT_TRUE(m.done);
  EXPECT_EQ(m.features, 43u);
  EXPECT_EQ(m.resumed, 32u);  // the first batch, committed before the interruption
  EXPECT_EQ(m.described, 10u);
  EXPECT_EQ(m.dropped, 1u);
  EXPECT_EQ(last_done, 42u);
  EXPECT_EQ(last_total, 42u);
  facekit::Registry b(target);
  EXPECT_EQ(b.count("g"), 41u);
  EXPECT_FALSE(b.contains("g", "200"));
  auto probe = describe(crop_of(7));
  const auto hits = b.search("g", probe, 1, 0.99f);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].face_id, "7");
  probe = describe(crop_of(101));
  EXPECT_EQ(b.search("g", probe, 1, 0.99f).at(0).face_id, "100");
  EXPECT_FALSE(facekit::Registry::migrate(target, describe).done);  // nothing left to do
}

TEST_F(RegistryTest, AcknowledgedRegistrationSurvivesSigkill) {
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    facekit::Registry r(options());
    std::mt19937 rng(7);
    for (int i = 0; i < 50; ++i) {
      r.put("g", std::to_string(i), {random_unit(rng)});
      const char ack = 1;
      if (write(pipefd[1], &ack, 1) != 1) _exit(3);
    }
    pause();  // killed while idle, never shut down
    _exit(0);
  }
  close(pipefd[1]);
  int acks = 0;
  char c;
  while (acks < 20 && read(pipefd[0], &c, 1) == 1) ++acks;
  kill(child, SIGKILL);  // right after the 20th acknowledgement
  waitpid(child, nullptr, 0);
  close(pipefd[0]);
  facekit::Registry r(options());
  EXPECT_GE(r.count("g"), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(r.contains("g", std::to_string(i))) << i;
}

TEST_F(RegistryTest, ReadersAndWritersInThreads) {
  facekit::Registry r(options());
  std::vector<Feature> people;
  for (int i = 0; i < 100; ++i) people.push_back(random_unit(rng_));
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int w = 0; w < 2; ++w)
    threads.emplace_back([&, w] {
      for (int i = w; i < 100; i += 2) r.put("g", std::to_string(i), {people[i], people[i]});
    });
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&] {
      for (int k = 0; k < 300; ++k) {
        const int i = k % 100;
        auto hits = r.search("g", people[i], 3, 0.99f);
        // Either not yet registered, or found exactly once as itself.
        if (!hits.empty() && (hits.size() != 1 || hits[0].face_id != std::to_string(i))) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(r.count("g"), 100u);
}

TEST_F(RegistryTest, BulkPutIsAllOrNothing) {
  facekit::Registry r(options());
  std::vector<std::pair<std::string, std::vector<Feature>>> people;
  for (int i = 0; i < 10; ++i) people.push_back({std::to_string(i), {random_unit(rng_)}});
  r.put_many("g", people);
  EXPECT_EQ(r.count("g"), 10u);
  people.push_back({"bad-id", {random_unit(rng_)}});
  people[0].second = {random_unit(rng_)};
  EXPECT_THROW(r.put_many("g", people), facekit::Error);
  EXPECT_EQ(r.count("g"), 10u);
}

// Bulk registration and rebuilding at start insert on several threads (4 here, more than
// this machine's cores, so inserts interleave): the graph must still find everyone, a face_id
// repeated in one batch keeps its last features, and re-registered people revive slots.
TEST_F(RegistryTest, BulkInsertOnSeveralThreadsFindsEveryone) {
  auto o = options();
  o.insert_threads = 4;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr int kPeople = 400;  // sanitized hnswlib is 10-50x slower
#else
  constexpr int kPeople = 3000;
#endif
  std::vector<Feature> f;
  for (int i = 0; i < kPeople; ++i) f.push_back(random_unit(rng_));
  auto misses = [&](const facekit::Registry& r) {
    int missed = 0;
    for (int i = 0; i < kPeople; ++i) {
      auto hits = r.search("g", f[i], 1, 0.99f);
      missed += hits.empty() || hits[0].face_id != std::to_string(i);
    }
    return missed;
  };
  {
    facekit::Registry r(o);
    std::vector<std::pair<std::string, std::vector<Feature>>> people;
    for (int i = 0; i < kPeople; ++i) people.push_back({std::to_string(i), {random_unit(rng_), f[i]}});
    people.push_back({"5", {f[5]}});  // the last entry wins
    r.put_many("g", people);
    EXPECT_EQ(r.count("g"), static_cast<size_t>(kPeople));
    EXPECT_LE(misses(r), kPeople / 200);
    // Everyone again with one feature: every old slot is freed and revived.
    people.clear();
    for (int i = 0; i < kPeople; ++i) people.push_back({std::to_string(i), {f[i]}});
    r.put_many("g", people);
    EXPECT_EQ(r.count("g"), static_cast<size_t>(kPeople));
    EXPECT_LE(misses(r), kPeople / 200);
    auto five = r.search("g", f[5], 5, 0.99f);
    ASSERT_EQ(five.size(), 1u);
    EXPECT_EQ(five[0].face_id, "5");
  }
  facekit::Registry rebuilt(o);  // no snapshot was saved: rebuilt from SQLite on 4 threads
  EXPECT_EQ(rebuilt.startup().rows_rebuilt, static_cast<size_t>(kPeople));
  EXPECT_EQ(rebuilt.count("g"), static_cast<size_t>(kPeople));
  EXPECT_LE(misses(rebuilt), kPeople / 200);
}

// The search walks int8 codes and re-scores on half floats: against exact brute force its
// top 5 are (nearly always) the true top 5, in order, with the true cosines.
TEST_F(RegistryTest, SearchAgreesWithBruteForce) {
  facekit::Registry r(options());
  std::vector<Feature> f;
  for (int i = 0; i < 2000; ++i) f.push_back(random_unit(rng_));
  std::vector<std::pair<std::string, std::vector<Feature>>> people;
  for (int i = 0; i < 2000; ++i) people.push_back({std::to_string(i), {f[i]}});
  r.put_many("g", people);
  int agree = 0, total = 0;
  for (int q = 0; q < 100; ++q) {
    Feature query = near(f[q * 7], 0.1f, rng_);
    double norm = 0;
    for (float v : query) norm += double(v) * v;
    std::vector<std::pair<double, int>> exact;
    for (int i = 0; i < 2000; ++i) {
      double dot = 0;
      for (int d = 0; d < kDim; ++d) dot += double(query[d]) * f[i][d];
      exact.push_back({-dot / std::sqrt(norm), i});
    }
    std::partial_sort(exact.begin(), exact.begin() + 5, exact.end());
    const auto hits = r.search("g", query, 5, -1.f);
    ASSERT_EQ(hits.size(), 5u);
    for (int k = 0; k < 5; ++k) {
      ++total;
      if (hits[k].face_id == std::to_string(exact[k].second)) {
        ++agree;
        EXPECT_NEAR(hits[k].cosine, -exact[k].first, 2e-3);
      }
      if (k > 0) EXPECT_GE(hits[k - 1].cosine, hits[k].cosine);
    }
  }
  EXPECT_GE(agree, total * 95 / 100);
}

TEST_F(RegistryTest, SnapshotPlusReplayOfLaterChanges) {
  std::vector<Feature> f;
  for (int i = 0; i < 60; ++i) f.push_back(random_unit(rng_));
  {
    facekit::Registry r(options());
    for (int i = 0; i < 50; ++i) r.put("g", std::to_string(i), {f[i]});
    r.save_snapshot();
    for (int i = 50; i < 60; ++i) r.put("g", std::to_string(i), {f[i]});  // after the snapshot
    for (int i = 0; i < 5; ++i) r.remove("g", std::to_string(i));
    r.put("g", "7", {f[59]});  // replaced after the snapshot
  }
  facekit::Registry r(options());
  EXPECT_EQ(r.startup().groups_from_snapshot, 1u);
  EXPECT_EQ(r.startup().rows_replayed, 11u);
  EXPECT_EQ(r.startup().rows_dropped, 6u);  // 5 deleted + the old feature of 7
  EXPECT_EQ(r.startup().rows_rebuilt, 0u);
  EXPECT_EQ(r.count("g"), 55u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(r.contains("g", std::to_string(i)));
  EXPECT_EQ(r.search("g", f[55], 1, 0.99f).at(0).face_id, "55");
  EXPECT_TRUE(r.search("g", f[7], 5, 0.99f).empty());
  auto hits = r.search("g", f[59], 5, 0.99f);
  ASSERT_EQ(hits.size(), 2u);  // 59 and 7 now share a feature
}

// Re-registering and deleting over and over (each replaced feature's slot is freed and revived
// by the next one): every answer stays right, through a snapshot too.
TEST_F(RegistryTest, ChurnKeepsAnswersRight) {
  facekit::Registry r(options());
  std::vector<Feature> now(300);
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < 300; ++i) {
      now[i] = random_unit(rng_);
      r.put("g", std::to_string(i), {now[i]});  // replaces: the old feature's slot is deleted
    }
  for (int i = 0; i < 300; i += 3) r.remove("g", std::to_string(i));
  EXPECT_EQ(r.count("g"), 200u);
  for (int i = 0; i < 300; ++i) {
    auto hits = r.search("g", now[i], 1, 0.99f);
    if (i % 3 == 0) {
      EXPECT_TRUE(hits.empty()) << i;
    } else {
      ASSERT_EQ(hits.size(), 1u) << i;
      EXPECT_EQ(hits[0].face_id, std::to_string(i));
    }
  }
  r.save_snapshot();
  facekit::Registry again(options());
  EXPECT_EQ(again.startup().groups_from_snapshot, 1u);
  EXPECT_EQ(again.count("g"), 200u);
  EXPECT_EQ(again.search("g", now[1], 1, 0.99f).at(0).face_id, "1");
}

// A loaded snapshot's vectors are mapped from its file: deleting, reviving slots and growing
// past the snapshot (the block moves to the heap) must all keep working, and so must saving
// a new snapshot over the mapped file.
TEST_F(RegistryTest, ALoadedSnapshotTakesChangesAndGrows) {
  std::vector<Feature> f;
  for (int i = 0; i < 1100; ++i) f.push_back(random_unit(rng_));
  {
    facekit::Registry r(options());
    for (int i = 0; i < 100; ++i) r.put("g", std::to_string(i), {f[i]});
    r.save_snapshot();
  }
  {
    facekit::Registry r(options());
    ASSERT_EQ(r.startup().groups_from_snapshot, 1u);
    for (int i = 0; i < 10; ++i) r.remove("g", std::to_string(i));       // marks in the mapped block
    for (int i = 100; i < 1100; ++i) r.put("g", std::to_string(i), {f[i]});  // revives, then grows
    r.save_snapshot();
    for (int i = 10; i < 1100; i += 7) EXPECT_EQ(r.search("g", f[i], 1, 0.99f).at(0).face_id, std::to_string(i));
  }
  facekit::Registry r(options());
  EXPECT_EQ(r.startup().groups_from_snapshot, 1u);
  EXPECT_EQ(r.startup().rows_replayed, 0u);
  EXPECT_EQ(r.count("g"), 1090u);
  EXPECT_TRUE(r.search("g", f[3], 1, 0.99f).empty());
  for (int i = 10; i < 1100; i += 7) EXPECT_EQ(r.search("g", f[i], 1, 0.99f).at(0).face_id, std::to_string(i));
}

// A registry opened whole from its snapshot writes none until something changes (an idle 1M-face
// server rewrote 3.6 GB every snapshot_interval_s): the removed file stays away until a put.
TEST_F(RegistryTest, ASnapshotIsWrittenOnlyAfterAChange) {
  std::string snapshot_dir;
  {
    facekit::Registry r(options());
    for (int i = 0; i < 20; ++i) r.put("g", std::to_string(i), {random_unit(rng_)});
    r.save_snapshot();
    snapshot_dir = r.options().snapshot_dir;
  }
  facekit::Registry r(options());
  ASSERT_EQ(r.startup().groups_from_snapshot, 1u);
  auto index_files = [&] {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(snapshot_dir))
      if (e.path().extension() == ".hnsw") out.push_back(e.path());
    return out;
  };
  ASSERT_EQ(index_files().size(), 1u);
  fs::remove(index_files()[0]);  // the open index keeps its mapping
  r.save_snapshot();
  EXPECT_TRUE(index_files().empty());
  // Deletes naming groups this registry has no index for change no index: still no rewrite.
  EXPECT_FALSE(r.remove("made-up", "1"));
  EXPECT_EQ(r.remove_range("another", "99"), 0u);
  r.save_snapshot();
  EXPECT_TRUE(index_files().empty());
  r.put("g", "20", {random_unit(rng_)});
  r.save_snapshot();
  EXPECT_EQ(index_files().size(), 1u);
}

// The snapshot loader reads while the digest is still being checked: no damage may crash it.
TEST_F(RegistryTest, DamagedSnapshotsOfEveryKindAreRebuiltNotTrusted) {
  std::vector<Feature> f;
  for (int i = 0; i < 200; ++i) f.push_back(random_unit(rng_));
  std::string snapshot_dir;
  {
    facekit::Registry r(options());
    for (int i = 0; i < 200; ++i) r.put("g", std::to_string(i), {f[i]});
    r.save_snapshot();
    snapshot_dir = r.options().snapshot_dir;
  }
  fs::path index_file;
  for (const auto& e : fs::directory_iterator(snapshot_dir))
    if (e.path().extension() == ".hnsw") index_file = e.path();
  ASSERT_FALSE(index_file.empty());
  const auto size = fs::file_size(index_file);
  std::vector<char> original(size);
  std::ifstream(index_file, std::ios::binary).read(original.data(), static_cast<std::streamsize>(size));
  // Header fields (counts, sizes, levels), vectors, link lists, the last byte; then cut short.
  std::vector<size_t> offsets = {8, 16, 24, 64, 80, 96, size / 2, size - 200, size - 1};
  for (size_t offset : offsets) {
    std::vector<char> damaged = original;
    for (size_t k = offset; k < std::min(size, offset + 8); ++k) damaged[k] = static_cast<char>(0xff);
    std::ofstream(index_file, std::ios::binary | std::ios::trunc).write(damaged.data(), static_cast<std::streamsize>(size));
    facekit::Registry r(options());
    EXPECT_EQ(r.startup().groups_from_snapshot, 0u) << offset;
    EXPECT_EQ(r.startup().rows_rebuilt, 200u) << offset;
    EXPECT_EQ(r.search("g", f[123], 1, 0.99f).at(0).face_id, "123") << offset;
  }
  for (size_t cut : {size_t{0}, size_t{40}, size / 3, size - 4}) {
    std::ofstream(index_file, std::ios::binary | std::ios::trunc).write(original.data(), static_cast<std::streamsize>(cut));
    facekit::Registry r(options());
    EXPECT_EQ(r.startup().groups_from_snapshot, 0u) << cut;
    EXPECT_EQ(r.search("g", f[7], 1, 0.99f).at(0).face_id, "7") << cut;
  }
}

TEST_F(RegistryTest, CorruptSnapshotIsRebuiltFromSqlite) {
  std::vector<Feature> f;
  for (int i = 0; i < 30; ++i) f.push_back(random_unit(rng_));
  std::string snapshot_dir;
  {
    facekit::Registry r(options());
    for (int i = 0; i < 30; ++i) r.put("g", std::to_string(i), {f[i]});
    r.save_snapshot();
    snapshot_dir = r.options().snapshot_dir;
  }
  for (const auto& e : fs::directory_iterator(snapshot_dir))
    if (e.path().extension() == ".hnsw") {
      std::fstream file(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      file.seekp(64);
      file.write("garbage!", 8);
    }
  facekit::Registry r(options());
  EXPECT_EQ(r.startup().groups_from_snapshot, 0u);
  EXPECT_EQ(r.startup().rows_rebuilt, 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(r.search("g", f[i], 1, 0.99f).at(0).face_id, std::to_string(i));
}

// The index keeps half floats: both kernels must agree with a double-precision dot product
// to ~1e-4 of a cosine (a score of 0-100 moves by 0.01), far below any threshold's resolution.
TEST(HalfVectors, KernelsMatchExactDotProduct) {
  using namespace facekit::registry;
  std::mt19937 rng(7);
  for (size_t dim : {size_t{1024}, size_t{64}, size_t{21}}) {  // 21: the scalar tail of the SIMD loop
    const auto [a, b, exact] = unit_pair(dim, 0.6f, rng);
    std::vector<Half> ha(dim), hb(dim);
    to_half(a.data(), ha.data(), dim);
    to_half(b.data(), hb.data(), dim);
    for (size_t i = 0; i < dim; ++i) {  // the SIMD conversion rounds as the compiler's does
      const _Float16 h = static_cast<_Float16>(a[i]);
      Half bits;
      std::memcpy(&bits, &h, sizeof bits);
      ASSERT_EQ(ha[i], bits) << i;
    }
    const float fast = 1.f - best_half_distance()(ha.data(), hb.data(), &dim);
    const float portable = 1.f - portable_half_distance()(ha.data(), hb.data(), &dim);
    const double tolerance = dim >= 64 ? 2e-4 : 5e-4;  // few, large components round worse
    EXPECT_NEAR(fast, exact, tolerance) << dim;
    EXPECT_NEAR(portable, exact, tolerance) << dim;
    EXPECT_NEAR(fast, portable, 1e-5) << dim;
    EXPECT_NEAR(1.f - best_half_distance()(ha.data(), ha.data(), &dim), 1.0, tolerance) << dim;
  }
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma"))
    EXPECT_STREQ(half_kernel_name(), "avx2-fma-f16c");
#endif
}

// The int8 codes the index walks on: both kernels agree exactly (integer arithmetic), and the
// cosine they give is within 1e-3 of the exact one for face-sized features.
TEST(StoredVectors, CodeKernelsApproximateTheExactDotProduct) {
  using namespace facekit::registry;
  std::mt19937 rng(11);
  for (size_t dim : {size_t{1024}, size_t{512}, size_t{45}}) {  // 45: the scalar tail of the SIMD loop
    for (float mix : {0.f, 0.6f, 0.95f}) {
      const auto [a, b, exact] = unit_pair(dim, mix, rng);
      const StoredVector layout(dim);
      std::vector<char> ba(layout.bytes()), bb(layout.bytes());
      layout.encode(a.data(), ba.data());
      layout.encode(b.data(), bb.data());
      const float fast = 1.f - best_code_distance()(ba.data(), bb.data(), &dim);
      const float portable = 1.f - portable_code_distance()(ba.data(), bb.data(), &dim);
      EXPECT_FLOAT_EQ(fast, portable) << dim;
      EXPECT_NEAR(fast, exact, dim >= 512 ? 1e-3 : 5e-3) << dim << " " << mix;
      // The half floats behind the codes are the feature's own.
      std::vector<Half> h(dim);
      to_half(a.data(), h.data(), dim);
      EXPECT_EQ(std::memcmp(StoredVector::halves(ba.data(), dim), h.data(), dim * sizeof(Half)), 0);
    }
  }
}
