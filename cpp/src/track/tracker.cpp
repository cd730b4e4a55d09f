// Greedy frame-to-frame association: every (track, face) pair that overlaps enough or looks
// alike enough is a candidate, scored IoU + cosine; the best pairs are taken first.
#include "facekit/tracker.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "facekit/engine.h"
#include "facekit/error.h"
#include "image/cv_image.h"

namespace facekit {

namespace {

float iou(const Box& a, const Box& b) {
  const float x0 = std::max(a.left, b.left), y0 = std::max(a.top, b.top);
  const float x1 = std::min(a.left + a.width, b.left + b.width), y1 = std::min(a.top + a.height, b.top + b.height);
  const float inter = std::max(0.f, x1 - x0) * std::max(0.f, y1 - y0);
  const float uni = a.width * a.height + b.width * b.height - inter;
  return uni > 0 ? inter / uni : 0.f;
}

// The face box widened by half its size on each side, clipped to the frame (the spec's crop).
cv::Mat widened_crop(const cv::Mat& bgr, const Box& b) {
  const cv::Rect r(static_cast<int>(std::floor(b.left - b.width / 2)), static_cast<int>(std::floor(b.top - b.height / 2)),
                   static_cast<int>(std::ceil(2 * b.width)), static_cast<int>(std::ceil(2 * b.height)));
  const cv::Rect clipped = r & cv::Rect(0, 0, bgr.cols, bgr.rows);
  return clipped.area() > 0 ? bgr(clipped).clone() : cv::Mat();
}

struct Track {
  int64_t id = 0;
  Feature feature;  ///< of the latest sighting
  Box box;          ///< latest sighting
  int missed = 0;
  int64_t in_ms = 0, last_ms = 0;
  float best_quality = -1.f;
  int64_t best_ms = 0;
  std::string best_image_id;
  Face best_face;
  cv::Mat best_crop;
};

}  // namespace

float track_quality(const Face& f) {
  constexpr float kDeg = 3.14159265f / 180.f;
  const float size = std::min(1.f, std::max(f.box.width, f.box.height) / 112.f);
  const float frontal = std::cos(std::min(90.f, std::abs(f.quality.yaw)) * kDeg) *
                        std::cos(std::min(90.f, std::abs(f.quality.pitch)) * kDeg);
  return f.score * size * (1.f - f.quality.blur) * frontal;
}

class FaceTracker::Impl {
 public:
  Impl(const Engine& e, const TrackOptions& o) : engine(e), options(o) {
    if (o.lost_frames < 1 || o.lost_ms < 0 || o.max_tracks < 1)
      throw Error(ErrorCode::kInvalidArgument, "track options: lost_frames >= 1, lost_ms >= 0, max_tracks >= 1");
  }

  TrackUpdate update(const Image& frame, const std::string& image_id, int64_t now,
                     const std::optional<DetectOptions>& detect) {
    TrackUpdate out;
    auto faces = engine.detect(frame, detect ? *detect : options.detect);
    std::vector<Landmarks5> lms;
    for (const auto& f : faces) lms.push_back(f.landmarks);
    const auto features = lms.empty() ? std::vector<Feature>{} : engine.extract(frame, lms);

    struct Pair {
      float score;
      size_t track, face;
    };
    std::vector<Pair> pairs;
    for (size_t t = 0; t < tracks.size(); ++t)
      for (size_t f = 0; f < faces.size(); ++f) {
        const float overlap = iou(tracks[t].box, faces[f].box);
        const float similar = engine.score(tracks[t].feature, features[f]);  // 0-100, any descriptor
        if ((overlap >= options.min_iou && similar >= options.min_score_overlapping) || similar >= options.min_score)
          pairs.push_back({overlap + similar / 100.f, t, f});
      }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.score > b.score; });
    std::vector<int64_t> face_track(faces.size(), -1);
    std::vector<bool> track_taken(tracks.size(), false);
    for (const auto& p : pairs) {
      if (track_taken[p.track] || face_track[p.face] >= 0) continue;
      track_taken[p.track] = true;
      face_track[p.face] = static_cast<int64_t>(p.track);
    }

    cv::Mat bgr;  // made once, only if a track gets a new best face
    for (size_t f = 0; f < faces.size(); ++f) {
      Track* t = nullptr;
      if (face_track[f] >= 0) {
        t = &tracks[static_cast<size_t>(face_track[f])];
      } else if (tracks.size() < options.max_tracks) {
        tracks.push_back(Track{});
        track_taken.push_back(true);
        t = &tracks.back();
        t->id = next_id++;
        t->in_ms = now;
      }
      if (!t) {
        out.faces.push_back({faces[f], 0});  // over the cap: seen but not tracked
        continue;
      }
      t->feature = features[f];
      t->box = faces[f].box;
      t->missed = 0;
      t->last_ms = now;
      const float q = track_quality(faces[f]);
      if (q > t->best_quality) {
        if (bgr.empty()) bgr = as_mat(frame);
        t->best_quality = q;
        t->best_ms = now;
        t->best_image_id = image_id;
        t->best_face = faces[f];
        t->best_crop = widened_crop(bgr, faces[f].box);
      }
      out.faces.push_back({faces[f], t->id});
    }

    // Tracks not seen in this frame age; those lost long enough end. Every track matched or
    // created in this frame is marked in track_taken.
    std::vector<Track> open;
    for (size_t t = 0; t < tracks.size(); ++t) {
      Track& tr = tracks[t];
      if (track_taken[t]) {
        open.push_back(std::move(tr));
        continue;
      }
      ++tr.missed;
      if (tr.missed >= options.lost_frames || now - tr.last_ms >= options.lost_ms)
        out.ended.push_back(end(tr));
      else
        open.push_back(std::move(tr));
    }
    tracks = std::move(open);
    return out;
  }

  std::vector<EndedTrack> finish() {
    std::vector<EndedTrack> out;
    for (auto& t : tracks) out.push_back(end(t));
    tracks.clear();
    return out;
  }

  EndedTrack end(Track& t) const {
    EndedTrack e;
    e.track_id = t.id;
    e.best_image_id = t.best_image_id;
    e.in_ms = t.in_ms;
    e.best_ms = t.best_ms;
    e.out_ms = t.last_ms;
    e.best_face = std::move(t.best_face);
    if (!t.best_crop.empty())
      cv::imencode(".jpg", t.best_crop, e.best_jpeg, {cv::IMWRITE_JPEG_QUALITY, options.best_jpeg_quality});
    return e;
  }

  const Engine& engine;
  TrackOptions options;
  std::vector<Track> tracks;
  int64_t next_id = 1;
};

FaceTracker::FaceTracker(const Engine& engine, const TrackOptions& options)
    : impl_(std::make_unique<Impl>(engine, options)) {}
FaceTracker::~FaceTracker() = default;
FaceTracker::FaceTracker(FaceTracker&&) noexcept = default;
FaceTracker& FaceTracker::operator=(FaceTracker&&) noexcept = default;
TrackUpdate FaceTracker::update(const Image& frame, const std::string& image_id, int64_t time_ms,
                                const std::optional<DetectOptions>& detect) {
  return impl_->update(frame, image_id, time_ms, detect);
}
std::vector<EndedTrack> FaceTracker::finish() { return impl_->finish(); }
size_t FaceTracker::open_tracks() const { return impl_->tracks.size(); }

class CameraTracks::Impl {
 public:
  struct Camera {
    std::mutex mutex;  // frames of one camera, one at a time
    FaceTracker tracker;
    int64_t last_ms = 0;
    Camera(const Engine& e, const TrackOptions& o) : tracker(e, o) {}
  };

  Impl(const Engine& e, const TrackOptions& o, int64_t idle, size_t max)
      : engine(e), options(o), idle_ms(idle), max_cameras(max) {
    if (max < 1 || idle < 0) throw Error(ErrorCode::kInvalidArgument, "camera options: max_cameras >= 1, idle >= 0");
  }

  std::shared_ptr<Camera> camera(const std::string& id, int64_t now) {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = cameras.begin(); it != cameras.end();)  // drop the idle ones
      it = (it->first != id && now - it->second->last_ms > idle_ms) ? cameras.erase(it) : std::next(it);
    auto it = cameras.find(id);
    if (it == cameras.end()) {
      if (cameras.size() >= max_cameras) {
        auto oldest = std::min_element(cameras.begin(), cameras.end(), [](const auto& a, const auto& b) {
          return a.second->last_ms < b.second->last_ms;
        });
        cameras.erase(oldest);
      }
      it = cameras.emplace(id, std::make_shared<Camera>(engine, options)).first;
    }
    it->second->last_ms = std::max(it->second->last_ms, now);
    return it->second;
  }

  const Engine& engine;
  TrackOptions options;
  int64_t idle_ms;
  size_t max_cameras;
  mutable std::mutex mutex;
  std::map<std::string, std::shared_ptr<Camera>> cameras;
};

CameraTracks::CameraTracks(const Engine& engine, const TrackOptions& options, int64_t idle_ms, size_t max_cameras)
    : impl_(std::make_unique<Impl>(engine, options, idle_ms, max_cameras)) {}
CameraTracks::~CameraTracks() = default;

TrackUpdate CameraTracks::update(const std::string& camera_id, const Image& frame, const std::string& image_id,
                                 int64_t time_ms, const std::optional<DetectOptions>& detect) {
  auto cam = impl_->camera(camera_id, time_ms);
  std::lock_guard<std::mutex> lock(cam->mutex);
  return cam->tracker.update(frame, image_id, time_ms, detect);
}

size_t CameraTracks::cameras() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->cameras.size();
}

}  // namespace facekit
