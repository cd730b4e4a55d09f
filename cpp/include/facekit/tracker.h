#pragma once
/// Face tracking through the frames of cameras (interface 5, track mode): detections are
/// associated frame to frame by box overlap and descriptor similarity; each track keeps its
/// clearest face and is reported once it ends.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "facekit/types.h"

namespace facekit {

class Engine;

struct TrackOptions {
  DetectOptions detect;          ///< faces looked for in each frame
  int lost_frames = 5;           ///< a track ends after this many frames without its face
  int64_t lost_ms = 2000;        ///< ... or this long without it
  float min_iou = 0.2f;          ///< box overlap that may continue a track
  /// The engine's 0-100 score (70 = FAR 1e-3) of two descriptors that may continue a track
  /// without box overlap (FAR ~3e-3) ...
  float min_score = 66.f;
  float min_score_overlapping = 49.f;  ///< ... and with overlap (FAR ~0.1: someone else in the same place)
  size_t max_tracks = 64;        ///< open tracks per camera; further faces are not tracked
  int best_jpeg_quality = 90;
};

struct TrackedFace {
  Face face;
  int64_t track_id = 0;
};

struct EndedTrack {
  int64_t track_id = 0;
  std::string best_image_id;  ///< the frame where the face was clearest
  int64_t in_ms = 0, best_ms = 0, out_ms = 0;
  Face best_face;                  ///< in the coordinates of the best frame
  std::vector<uint8_t> best_jpeg;  ///< the face widened by half its size on each side
};

struct TrackUpdate {
  std::vector<TrackedFace> faces;  ///< this frame's faces, best score first
  std::vector<EndedTrack> ended;   ///< tracks that ended with this frame
};

/// The clearest-face measure of a track: detector score x size x sharpness x frontality.
float track_quality(const Face& face);

/// Tracks of one camera. Not thread-safe: CameraTracks serialises each camera.
class FaceTracker {
 public:
  FaceTracker(const Engine& engine, const TrackOptions& options = {});
  ~FaceTracker();
  FaceTracker(FaceTracker&&) noexcept;
  FaceTracker& operator=(FaceTracker&&) noexcept;

  /// The next frame of this camera, taken at `time_ms` (ms since the epoch); `detect`
  /// overrides the options' face sizes for this frame.
  TrackUpdate update(const Image& frame, const std::string& image_id, int64_t time_ms,
                     const std::optional<DetectOptions>& detect = std::nullopt);
  /// Ends every open track (end of a video).
  std::vector<EndedTrack> finish();
  size_t open_tracks() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// FaceTrackers by camera id, for many threads: frames of one camera run one at a time.
/// A camera idle for `idle_ms` is dropped with its open tracks (they are not reported); when
/// more than `max_cameras` are active, the longest idle one is dropped.
class CameraTracks {
 public:
  CameraTracks(const Engine& engine, const TrackOptions& options = {}, int64_t idle_ms = 60000,
               size_t max_cameras = 256);
  ~CameraTracks();
  TrackUpdate update(const std::string& camera_id, const Image& frame, const std::string& image_id,
                     int64_t time_ms, const std::optional<DetectOptions>& detect = std::nullopt);
  size_t cameras() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facekit
