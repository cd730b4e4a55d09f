// The model runtime: every converted model loads, passes its checksum and runs on a real
// photo; a missing or corrupted model is a clear error.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "facekit/deadline.h"
#include "facekit/error.h"
#include "facekit/models.h"
#include "models/team_size.h"
#include "test_support.h"

namespace fs = std::filesystem;
using facekit::ErrorCode;

namespace {

const facekit::ModelRuntime& runtime() {
  static facekit::ModelRuntime rt;
  return rt;
}

facekit::Tensor real_input(const facekit::ModelInfo& m, const std::string& rel) {
  cv::Mat img = cv::imread(facekit::testing::shared(rel), cv::IMREAD_COLOR);
  EXPECT_FALSE(img.empty()) << rel;
  return facekit::prepare_input(m, img.data, img.cols, img.rows);
}

float max_of(const facekit::Tensor& t) { return *std::max_element(t.data.begin(), t.data.end()); }

// The same models as plain TorchScript graphs (no oneDNN conversion).
const facekit::ModelRuntime& plain_runtime() {
  static const facekit::ModelRuntime rt([] {
    facekit::RuntimeOptions o;
    o.optimize_graphs = false;
    o.warm_up = false;
    return o;
  }());
  return rt;
}

// Every output of `got` within 1e-4 of its scale of `want`'s.
void expect_same_outputs(const std::vector<facekit::Tensor>& got, const std::vector<facekit::Tensor>& want,
                         const std::string& name) {
  ASSERT_EQ(got.size(), want.size()) << name;
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].data.size(), want[k].data.size()) << name;
    float scale = 1e-3f;
    for (float v : want[k].data) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < got[k].data.size(); ++i)
      ASSERT_NEAR(got[k].data[i], want[k].data[i], 1e-4f * scale) << name << " output " << k << " at " << i;
  }
}

}  // namespace

TEST(ModelRuntime, LoadsEveryManifestModelAndRunsARealPhoto) {
  const auto& rt = runtime();
  ASSERT_GE(rt.models().size(), 8u);
  for (const auto& m : rt.models()) {
    auto outs = rt.run(m.name, real_input(m, "faces-dev/obama/obama1.jpg"));
    ASSERT_EQ(outs.size(), m.output_names.size()) << m.name;
    for (const auto& o : outs) {
      ASSERT_EQ(o.shape[0], 1) << m.name;
      for (float v : o.data) ASSERT_TRUE(std::isfinite(v)) << m.name;
    }
  }
}

TEST(ModelRuntime, FaceDetectorFiresOnAFaceAndNotOnAStreet) {
  const auto& rt = runtime();
  const auto& m = rt.info("blazeface-back");
  auto face = rt.run(m.name, real_input(m, "faces-dev/obama/obama1.jpg"));
  auto street = rt.run(m.name, real_input(m, "pedestrians-pennfudan/PNGImages/FudanPed00042.png"));
  auto best = [](const std::vector<facekit::Tensor>& o) { return std::max(max_of(o[0]), max_of(o[1])); };
  EXPECT_GT(best(face), 0.f);   // logit > 0: probability > 0.5
  EXPECT_GT(best(face), best(street));
}

TEST(ModelRuntime, PersonDetectorFindsThePedestrian) {
  const auto& rt = runtime();
  const auto& m = rt.info("nanodet");
  auto outs = rt.run(m.name, real_input(m, "pedestrians-pennfudan/PNGImages/FudanPed00042.png"));
  float person = 0.f;
  for (size_t k = 0; k < outs.size(); k += 2)  // scores13, boxes13, scores26, ...
    for (int64_t i = 0; i < outs[k].shape[1]; ++i) person = std::max(person, outs[k].data[i * 80]);
  EXPECT_GT(person, 0.5f);
}

TEST(ModelRuntime, BatchOfTwoMatchesSingles) {
  const auto& rt = runtime();
  const auto& m = rt.info("faceres");
  auto a = real_input(m, "faces-dev/obama/obama1.jpg");
  auto b = real_input(m, "faces-dev/biden/biden1.jpg");
  facekit::Tensor batch{{2, 224, 224, 3}, a.data};
  batch.data.insert(batch.data.end(), b.data.begin(), b.data.end());
  auto both = rt.run(m.name, batch);
  auto first = rt.run(m.name, a);
  ASSERT_EQ(both[0].shape[0], 2);
  for (int i = 0; i < 1024; ++i) ASSERT_NEAR(both[0].data[i], first[0].data[i], 1e-4f);
}

// The accurate descriptor runs dlib's net on the crops and on the mirrors as two batches (side
// by side when the machine is free): an image's output must not depend on the batch it is in.
TEST(ModelRuntime, DlibOutputsDoNotDependOnTheBatch) {
  const auto& rt = runtime();
  for (const char* name : {"face_recognition_int8", "face_recognition"}) {
    const auto& all = rt.models();
    if (std::none_of(all.begin(), all.end(), [&](const facekit::ModelInfo& i) { return i.name == name; })) continue;
    const auto& m = rt.info(name);
    auto a = real_input(m, "faces-dev/obama/obama1.jpg");
    auto b = real_input(m, "faces-dev/biden/biden1.jpg");
    facekit::Tensor batch{a.shape, a.data};
    batch.shape[0] = 2;
    batch.data.insert(batch.data.end(), b.data.begin(), b.data.end());
    const auto both = rt.run(name, batch), first = rt.run(name, a), second = rt.run(name, b);
    const size_t n = first[0].data.size();
    float worst = 0.f;
    for (size_t i = 0; i < n; ++i)
      worst = std::max({worst, std::abs(both[0].data[i] - first[0].data[i]), std::abs(both[0].data[n + i] - second[0].data[i])});
    EXPECT_LE(worst, 1e-5f) << name;
  }
}

// The oneDNN graphs (RuntimeOptions::optimize_graphs) give the plain graphs' outputs, at batch 1
// and 2, on real faces.
TEST(ModelRuntime, OptimisedGraphsMatchThePlainOnes) {
  const facekit::ModelRuntime& plain = plain_runtime();
  const auto& rt = runtime();
  for (const auto& m : rt.models()) {
    auto a = real_input(m, "faces-dev/obama/obama1.jpg");
    auto b = real_input(m, "faces-dev/biden/biden1.jpg");
    facekit::Tensor batch{a.shape, a.data};
    batch.shape[0] = 2;
    batch.data.insert(batch.data.end(), b.data.begin(), b.data.end());
    for (const auto* input : {&a, &batch}) expect_same_outputs(rt.run(m.name, *input), plain.run(m.name, *input), m.name);
  }
}

// A call made while another is in flight runs on one thread (two teams of two on two cores
// wait for each other at every layer), and its outputs are the same: the oneDNN graphs were
// prepacked at the configured thread count.
TEST(ModelRuntime, ConcurrentCallsRunOnOneThreadWithTheSameOutputs) {
  const facekit::ModelRuntime& plain = plain_runtime();
  const auto& rt = runtime();
  for (const char* name : {"faceres", "face_recognition", "blazeface-back"}) {
    const auto input = real_input(rt.info(name), "faces-dev/obama/obama1.jpg");
    const auto want = plain.run(name, input);
    facekit::models::TeamScope other_call(2, true);  // as if another worker were inside forward()
    {
      facekit::models::TeamScope this_call(2, true);
      EXPECT_EQ(this_call.team(), 1);
      EXPECT_EQ(omp_get_max_threads(), 1);
    }
    expect_same_outputs(rt.run(name, input), want, name);
  }
  facekit::models::TeamScope fixed(2, false);
  EXPECT_EQ(fixed.team(), 2);
}

// The descriptor's two models side by side: both run, each with a team of one, on two
// threads when OpenMP gives two; outputs as when run alone; the caller's deadline holds in
// both lanes; an error of either lane reaches the caller once both have ended.
TEST(ModelRuntime, SideBySideLanesRunBothKeepTheDeadlineAndRethrow) {
  const facekit::ModelRuntime& plain = plain_runtime();
  const auto& rt = runtime();
  const auto a_in = real_input(rt.info("faceres"), "faces-dev/obama/obama1.jpg");
  const auto b_in = real_input(rt.info("face_recognition"), "faces-dev/obama/obama1.jpg");
  std::vector<facekit::Tensor> a, b;
  int teams[2] = {0, 0};
  std::thread::id threads[2];
  facekit::models::run_side_by_side(
      [&] {
        threads[0] = std::this_thread::get_id();
        facekit::models::TeamScope t(2, true);
        teams[0] = t.team();
        a = rt.run("faceres", a_in);
      },
      [&] {
        threads[1] = std::this_thread::get_id();
        facekit::models::TeamScope t(2, true);
        teams[1] = t.team();
        b = rt.run("face_recognition", b_in);
      });
  EXPECT_EQ(teams[0], 1);
  EXPECT_EQ(teams[1], 1);
  EXPECT_NE(threads[0], threads[1]);
  expect_same_outputs(a, plain.run("faceres", a_in), "faceres");
  expect_same_outputs(b, plain.run("face_recognition", b_in), "face_recognition");
  {
    facekit::ScopedDeadline passed(std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
    bool first_ran = false;
    try {
      facekit::models::run_side_by_side([&] { first_ran = true; }, [&] { facekit::check_deadline(); });
      ADD_FAILURE() << "the second lane ignored the caller's deadline";
    } catch (const facekit::Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kDeadlineExceeded);
    }
    EXPECT_TRUE(first_ran);
  }
  bool second_ran = false;
  EXPECT_THROW(facekit::models::run_side_by_side([] { throw std::runtime_error("lane one"); },
                                                 [&] { second_ran = true; }),
               std::runtime_error);
  EXPECT_TRUE(second_ran);
}

// Another process's busy thread is seen (the measure that sends calls to one thread under
// load), and this process's own busy threads are not counted as another's.
TEST(ModelRuntime, SeesOtherProcessesRunnableThreads) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    volatile unsigned long spin = 0;
    for (;;) ++spin;
  }
  int seen = 0;
  for (int i = 0; i < 50 && seen < 1; ++i) {  // the child is runnable from its first instant
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seen = facekit::models::other_runnable_threads();
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_GE(seen, 1) << "a spinning child process was not seen";
}

// A team of two runs one thread per CPU while pinned, and the caller gets its own CPU set back.
TEST(ModelRuntime, PinnedTeamRunsOneThreadPerCpuAndGivesTheCallersSetBack) {
  cpu_set_t before;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
  if (CPU_COUNT(&before) < 2) GTEST_SKIP() << "one CPU: nothing to pin";
  {
    facekit::models::PinnedTeam pinned(2);
    ASSERT_TRUE(pinned.pinned());
    cpu_set_t during;
    ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof during, &during), 0);
    EXPECT_EQ(CPU_COUNT(&during), 1);
    int cpus[2] = {-1, -1}, threads = 0;
#pragma omp parallel num_threads(2)
    {
#pragma omp single
      threads = omp_get_num_threads();
      cpus[omp_get_thread_num()] = sched_getcpu();
    }
    ASSERT_EQ(threads, 2);
    EXPECT_NE(cpus[0], cpus[1]);
    EXPECT_TRUE(CPU_ISSET(cpus[0], &during));
  }
  cpu_set_t after;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&before, &after));
  facekit::models::PinnedTeam alone(1);
  EXPECT_FALSE(alone.pinned());
}

TEST(ModelRuntime, RejectsAWrongInputShape) {
  facekit::Tensor wrong{{1, 10, 10, 3}, std::vector<float>(300)};
  try {
    runtime().run("faceres", wrong);
    FAIL() << "no error";
  } catch (const facekit::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_THROW(runtime().run("no-such-model", wrong), facekit::Error);
}

TEST(ModelRuntime, MissingModelFolderNamesTheManifest) {
  facekit::RuntimeOptions o;
  o.model_dir = "/nonexistent/facekit-models";
  try {
    facekit::ModelRuntime rt(o);
    FAIL() << "no error";
  } catch (const facekit::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kModelUnavailable);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/facekit-models/manifest.json"), std::string::npos);
  }
}

TEST(ModelRuntime, CorruptModelFileFailsItsChecksum) {
  const std::string src = runtime().model_dir();
  fs::path dir = fs::temp_directory_path() / ("facekit-corrupt-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(src + "/manifest.json", dir / "manifest.json", fs::copy_options::overwrite_existing);
  for (const auto& m : runtime().models())
    fs::copy_file(src + "/" + m.file, dir / m.file, fs::copy_options::overwrite_existing);
  {
    std::fstream f(dir / "liveness.pt", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  facekit::RuntimeOptions o;
  o.model_dir = dir.string();
  o.warm_up = false;
  try {
    facekit::ModelRuntime rt(o);
    FAIL() << "no error";
  } catch (const facekit::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kModelUnavailable);
    EXPECT_NE(std::string(e.what()).find("liveness.pt"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}
