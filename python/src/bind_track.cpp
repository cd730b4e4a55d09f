// facekit.FaceTracker: one camera's face tracks, frame by frame (interface 5's track mode).
#include <pybind11/stl.h>

#include "bindings.h"
#include "facekit/engine.h"
#include "facekit/tracker.h"

namespace py = pybind11;

namespace facekit::python {

void bind_track(py::module_& m) {
  py::class_<TrackedFace>(m, "TrackedFace")
      .def_readonly("face", &TrackedFace::face)
      .def_readonly("track_id", &TrackedFace::track_id, "0 when the camera's track cap was reached");
  py::class_<EndedTrack>(m, "EndedTrack")
      .def_readonly("track_id", &EndedTrack::track_id)
      .def_readonly("best_image_id", &EndedTrack::best_image_id)
      .def_readonly("in_ms", &EndedTrack::in_ms)
      .def_readonly("best_ms", &EndedTrack::best_ms)
      .def_readonly("out_ms", &EndedTrack::out_ms)
      .def_readonly("best_face", &EndedTrack::best_face)
      .def_property_readonly("best_jpeg", [](const EndedTrack& t) {
        return py::bytes(reinterpret_cast<const char*>(t.best_jpeg.data()), t.best_jpeg.size());
      }, "JPEG of the clearest face, widened by half its size on each side")
      .def("__repr__", [](const EndedTrack& t) {
        return "EndedTrack(id=" + std::to_string(t.track_id) + ", in=" + std::to_string(t.in_ms) +
               ", out=" + std::to_string(t.out_ms) + ", best='" + t.best_image_id + "')";
      });
  py::class_<TrackUpdate>(m, "TrackUpdate")
      .def_readonly("faces", &TrackUpdate::faces)
      .def_readonly("ended", &TrackUpdate::ended);

  py::class_<FaceTracker>(m, "FaceTracker")
      .def(py::init([](const Engine& e, int min_face, int max_face, int lost_frames, int64_t lost_ms) {
             TrackOptions o;
             o.detect.min_face = min_face;
             o.detect.max_face = max_face;
             o.lost_frames = lost_frames;
             o.lost_ms = lost_ms;
             return std::make_unique<FaceTracker>(e, o);
           }),
           py::arg("engine"), py::arg("min_face") = 40, py::arg("max_face") = 400, py::arg("lost_frames") = 5,
           py::arg("lost_ms") = 2000, py::keep_alive<1, 2>(),
           "Face tracks of one camera. update(frame, image_id, time_ms) per frame; finish() at the end.")
      .def("update", [](FaceTracker& t, const py::object& img, const std::string& image_id, int64_t time_ms, bool rgb) {
             Image image = to_image(img, rgb, DecodeOptions{});
             py::gil_scoped_release release;
             return t.update(image, image_id, time_ms);
           },
           py::arg("frame"), py::arg("image_id"), py::arg("time_ms"), py::arg("rgb") = false)
      .def("finish", &FaceTracker::finish, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("open_tracks", &FaceTracker::open_tracks);
}

}  // namespace facekit::python
