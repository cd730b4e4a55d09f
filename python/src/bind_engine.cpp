// facekit.Engine: numpy / bytes / paths in, plain result objects and numpy features out.
// The GIL is released around all native compute.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "facekit/engine.h"
#include "facekit/error.h"
#include "facekit/image.h"
#include "facekit/liveness.h"
#include "facekit/person.h"
#include "facekit/registry.h"

namespace py = pybind11;

namespace facekit::python {

namespace {

Landmarks5 to_landmarks(const py::object& obj) {
  auto arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!arr || arr.size() != 10) throw Error(ErrorCode::kInvalidArgument, "landmarks must be 5 (x, y) points");
  Landmarks5 l;
  for (int i = 0; i < 5; ++i) l[i] = {arr.data()[2 * i], arr.data()[2 * i + 1]};
  return l;
}

py::array_t<float> to_numpy(const Feature& f) {
  py::array_t<float> a(static_cast<py::ssize_t>(f.size()));
  std::copy(f.begin(), f.end(), a.mutable_data());
  return a;
}

/// Descriptors as an (n, dimension) array.
py::array_t<float> feature_rows(const std::vector<Feature>& feats, int dimension) {
  py::array_t<float> out({static_cast<py::ssize_t>(feats.size()), static_cast<py::ssize_t>(dimension)});
  for (size_t i = 0; i < feats.size(); ++i) std::copy(feats[i].begin(), feats[i].end(), out.mutable_data() + i * dimension);
  return out;
}

}  // namespace

Image to_image(const py::object& obj, bool rgb, const DecodeOptions& decode) {
  if (py::isinstance<py::bytes>(obj) || py::isinstance<py::bytearray>(obj)) {
    std::string bytes = py::isinstance<py::bytes>(obj) ? obj.cast<std::string>()
                                                       : std::string(py::bytes(obj.attr("__bytes__")()));
    py::gil_scoped_release release;
    return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), decode);
  }
  if (py::isinstance<py::str>(obj) || py::hasattr(obj, "__fspath__")) {
    std::string path = py::str(py::module_::import("os").attr("fspath")(obj));
    py::gil_scoped_release release;
    return read_image(path, decode);
  }
  auto arr = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!arr || arr.ndim() != 3 || arr.shape(2) != 3)
    throw Error(ErrorCode::kInvalidArgument, "image must be an HxWx3 uint8 array, bytes or a path");
  Image img;
  img.height = static_cast<int>(arr.shape(0));
  img.width = static_cast<int>(arr.shape(1));
  img.bgr.assign(arr.data(), arr.data() + arr.size());
  if (rgb)
    for (size_t i = 0; i + 2 < img.bgr.size(); i += 3) std::swap(img.bgr[i], img.bgr[i + 2]);
  return img;
}

py::array_t<float> points_array(const Point* p, size_t n) {
  py::array_t<float> a({static_cast<py::ssize_t>(n), py::ssize_t{2}});
  auto m = a.mutable_unchecked<2>();
  for (size_t i = 0; i < n; ++i) {
    m(i, 0) = p[i].x;
    m(i, 1) = p[i].y;
  }
  return a;
}


void bind_engine(py::module_& m) {
  py::class_<Box>(m, "Box")
      .def_readonly("left", &Box::left).def_readonly("top", &Box::top)
      .def_readonly("width", &Box::width).def_readonly("height", &Box::height)
      .def("__repr__", [](const Box& b) {
        return "Box(left=" + std::to_string(b.left) + ", top=" + std::to_string(b.top) +
               ", width=" + std::to_string(b.width) + ", height=" + std::to_string(b.height) + ")";
      });
  py::class_<FaceQuality>(m, "FaceQuality")
      .def_readonly("pitch", &FaceQuality::pitch).def_readonly("yaw", &FaceQuality::yaw)
      .def_readonly("roll", &FaceQuality::roll).def_readonly("blur", &FaceQuality::blur)
      .def_readonly("illu", &FaceQuality::illu).def_readonly("side_face", &FaceQuality::side_face)
      .def_readonly("good", &FaceQuality::good)
      .def("__repr__", [](const FaceQuality& q) {
        char buf[200];
        std::snprintf(buf, sizeof buf, "FaceQuality(pitch=%.1f, yaw=%.1f, roll=%.1f, blur=%.2f, illu=%.0f, good=%d)",
                      q.pitch, q.yaw, q.roll, q.blur, q.illu, q.good);
        return std::string(buf);
      });
  py::class_<FaceAttributes>(m, "FaceAttributes")
      .def_readonly("male", &FaceAttributes::male).def_readonly("female", &FaceAttributes::female)
      .def_readonly("age_years", &FaceAttributes::age_years).def_readonly("kid", &FaceAttributes::kid)
      .def("__repr__", [](const FaceAttributes& a) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "FaceAttributes(male=%.2f, female=%.2f, age_years=%.1f, kid=%d)", a.male,
                      a.female, a.age_years, a.kid);
        return std::string(buf);
      });
  py::class_<Face>(m, "Face")
      .def_readonly("box", &Face::box)
      .def_readonly("score", &Face::score)
      .def_property_readonly("landmarks", [](const Face& f) { return points_array(f.landmarks.data(), 5); },
                             "5 x 2: left eye, right eye, nose tip, left / right mouth corner (image left first)")
      .def_property_readonly("mesh", [](const Face& f) { return points_array(f.mesh.data(), f.mesh.size()); })
      .def_readonly("quality", &Face::quality)
      .def_readonly("glasses", &Face::glasses)
      .def_property_readonly("glasses_kind", [](const Face& f) {
            switch (f.glasses_kind) {
              case GlassesKind::kEyeglasses: return "eyeglasses";
              case GlassesKind::kSunglasses: return "sunglasses";
              default: return "none";
            }
          }, "\"none\", \"eyeglasses\" or \"sunglasses\"")
      .def_readonly("attributes", &Face::attributes)
      .def("__repr__", [](const Face& f) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "Face(box=[%.0f, %.0f, %.0f, %.0f], score=%.3f)", f.box.left, f.box.top,
                      f.box.width, f.box.height, f.score);
        return std::string(buf);
      });

  py::class_<LiveSignals>(m, "LiveSignals")
      .def_readonly("face", &LiveSignals::face)
      .def_property_readonly("eye_open", [](const LiveSignals& s) { return py::make_tuple(s.eye_open[0], s.eye_open[1]); },
                             "lid gap / eye width of the image-left and image-right eye")
      .def_readonly("mouth_open", &LiveSignals::mouth_open)
      .def_readonly("real", &LiveSignals::real, "passive anti-spoofing: 0 fake .. 1 real");
  py::class_<LiveCheck>(m, "LiveCheck")
      .def_property_readonly("action", [](const LiveCheck& c) { return std::string(live_action_name(c.action)); })
      .def_readonly("passed", &LiveCheck::passed)
      .def_readonly("reason", &LiveCheck::reason)
      .def("__repr__", [](const LiveCheck& c) {
        return std::string("LiveCheck(") + live_action_name(c.action) + ", passed=" + (c.passed ? "True" : "False") +
               ", reason='" + c.reason + "')";
      });

  py::class_<FaceCrop>(m, "FaceCrop")
      .def(py::init([](const py::bytes& jpeg, const py::object& landmarks) {
             FaceCrop c;
             c.jpeg = jpeg;
             c.landmarks = to_landmarks(landmarks);
             return c;
           }),
           py::arg("jpeg"), py::arg("landmarks"))
      .def_property_readonly("jpeg", [](const FaceCrop& c) { return py::bytes(c.jpeg); })
      .def_property_readonly("landmarks", [](const FaceCrop& c) { return points_array(c.landmarks.data(), 5); });

  py::class_<Engine>(m, "Engine")
      .def(py::init([](const std::string& model_dir, int num_threads, float cosine_at_threshold,
                       const std::string& descriptor, bool int8) {
             EngineOptions o;
             o.runtime.model_dir = model_dir;
             o.runtime.num_threads = num_threads;
             o.cosine_at_threshold = cosine_at_threshold;
             o.descriptor = parse_descriptor(descriptor);
             o.int8 = int8;
             py::gil_scoped_release release;
             return std::make_unique<Engine>(o);
           }),
           py::arg("model_dir") = "", py::arg("num_threads") = 0, py::arg("cosine_at_threshold") = 0.f,
           py::arg("descriptor") = "accurate", py::arg("int8") = true)
      .def("detect", [](const Engine& e, const py::object& img, int min_face, int max_face, bool portrait,
                        bool attributes, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             DetectOptions o;
             o.min_face = min_face;
             o.max_face = max_face;
             o.portrait = portrait;
             o.attributes = attributes;
             py::gil_scoped_release release;
             return e.detect(image, o);
           },
           py::arg("image"), py::arg("min_face") = 20, py::arg("max_face") = 0, py::arg("portrait") = false,
           py::arg("attributes") = false, py::arg("rgb") = false,
           "Faces of `image` (HxWx3 uint8 BGR array, encoded bytes or a path), best score first.\n\n"
           "min_face / max_face: face size range in pixels of the image; by default every face\n"
           "from 20 px up (max_face 0: no maximum; the wire protocol's default is 80-300); in a photo\n"
           "over 3.2 MP the scan is coarser and the smallest face found grows with the root of\n"
           "the excess (36 MP: 67 px; docs/ENGINE.md). portrait: ID-photo mode, any face down to 5% of the\n"
           "short side. attributes: also gender and age. rgb: the array is RGB, not BGR.\n"
           "Each Face has box, score, landmarks (5x2), mesh (468x2), quality, glasses, attributes.\n"
           "Raises FacekitError (protocol_code 10007 for undecodable bytes, 10005 for bad options).")
      .def("largest_face", [](const Engine& e, const py::object& img, bool attributes, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             py::gil_scoped_release release;
             return e.largest_face(image, attributes);
           },
           py::arg("image"), py::arg("attributes") = false, py::arg("rgb") = false)
      .def("detect_people", [](const Engine& e, const py::object& img, float threshold, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             PersonOptions o;
             o.threshold = threshold;
             std::vector<Person> people;
             {
               py::gil_scoped_release release;
               people = PersonDetector(e.models()).detect(image, o);
             }
             py::list out;
             for (const auto& p : people)
               out.append(py::make_tuple(p.box.left, p.box.top, p.box.width, p.box.height, p.score));
             return out;
           },
           py::arg("image"), py::arg("threshold") = 0.35f, py::arg("rgb") = false,
           "People (NanoDet, COCO person): [(left, top, width, height, score)], best first.")
      .def("only_face", [](const Engine& e, const py::object& img, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             py::gil_scoped_release release;
             return e.only_face(image);
           },
           py::arg("image"), py::arg("rgb") = false,
           "The image's only face: raises (10002) if none, (10003) if several.")
      .def("extract_one", [](const Engine& e, const py::object& img, const py::object& landmarks, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             std::optional<Landmarks5> lm;
             if (!landmarks.is_none()) lm = to_landmarks(landmarks);
             Feature f;
             {
               py::gil_scoped_release release;
               f = lm ? e.extract(image, *lm) : e.extract(image);
             }
             return to_numpy(f);
           },
           py::arg("image"), py::arg("landmarks") = py::none(), py::arg("rgb") = false)
      .def("extract_faces", [](const Engine& e, const py::object& img, const std::vector<py::object>& faces, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             std::vector<Landmarks5> lms;
             for (const auto& f : faces) lms.push_back(to_landmarks(f));
             std::vector<Feature> feats;
             {
               py::gil_scoped_release release;
               feats = e.extract(image, lms);
             }
             return feature_rows(feats, e.dimension());
           },
           py::arg("image"), py::arg("landmarks"), py::arg("rgb") = false)
      .def("extract_batch", [](const Engine& e, const std::vector<py::object>& imgs, const py::object& landmarks,
                               bool rgb) {
             std::vector<Image> images;
             for (const auto& i : imgs) images.push_back(to_image(i, rgb, e.options().decode));
             std::vector<Landmarks5> lms;
             if (landmarks.is_none()) {
               py::gil_scoped_release release;
               for (const auto& im : images) lms.push_back(e.largest_face_landmarks(im));
             } else {
               for (const auto& l : landmarks) lms.push_back(to_landmarks(py::reinterpret_borrow<py::object>(l)));
             }
             std::vector<Feature> feats;
             {
               py::gil_scoped_release release;
               feats = e.extract_batch(images, lms);
             }
             return feature_rows(feats, e.dimension());
           },
           py::arg("images"), py::arg("landmarks") = py::none(), py::arg("rgb") = false,
           "One descriptor per image (largest face, or the given landmarks), one batch per descriptor net.")
      .def("face_crop", [](const Engine& e, const py::object& img, const py::object& landmarks, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             Landmarks5 lm = to_landmarks(landmarks);
             py::gil_scoped_release release;
             return e.face_crop(image, lm);
           },
           py::arg("image"), py::arg("landmarks"), py::arg("rgb") = false,
           "The face kept by a registry for migration: a 256 px aligned JPEG and its 5 points.")
      .def("extract_crop", [](const Engine& e, const FaceCrop& c) {
             Feature f;
             {
               py::gil_scoped_release release;
               f = e.extract(c);
             }
             return to_numpy(f);
           },
           py::arg("crop"), "Descriptor of a kept face crop.")
      .def("live_signals", [](const Engine& e, const py::object& img, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             py::gil_scoped_release release;
             return e.live_signals(image);
           },
           py::arg("image"), py::arg("rgb") = false,
           "Liveness measures of the image's only face: eye_open (2), mouth_open, real, face.")
      .def("check_liveness", [](const Engine& e, const std::string& action, const py::object& a, const py::object& b,
                                bool rgb) {
             const auto act = live_action_from_name(action);
             if (!act) throw Error(ErrorCode::kInvalidArgument, "action must be blink, mouth, nod or shake");
             Image ia = to_image(a, rgb, e.options().decode), ib = to_image(b, rgb, e.options().decode);
             py::gil_scoped_release release;
             return check_liveness(e, *act, ia, ib);
           },
           py::arg("action"), py::arg("image1"), py::arg("image2"), py::arg("rgb") = false,
           "Interface 9 for one pair: same person, no spoof, and the action (blink, mouth, nod,\n"
           "shake) between the two images. Returns LiveCheck(passed, reason).")
      .def("hair_style", [](const Engine& e, const py::object& img, const Face& face, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             py::gil_scoped_release release;
             return std::string(hair_style_name(e.hair_style(image, face)));
           },
           py::arg("image"), py::arg("face"), py::arg("rgb") = false,
           "\"shortHair\" or \"longHair\" for a face detected in `image` (docs/ACCURACY.md).")
      .def("attributes", [](const Engine& e, const py::object& img, const py::object& landmarks, bool rgb) {
             Image image = to_image(img, rgb, e.options().decode);
             Landmarks5 lm = to_landmarks(landmarks);
             py::gil_scoped_release release;
             return e.attributes(image, lm);
           },
           py::arg("image"), py::arg("landmarks"), py::arg("rgb") = false)
      .def("score", [](const Engine& e, float cosine) { return e.score(cosine); }, py::arg("cosine"),
           "Calibrated 0-100 score of a cosine similarity (70 = the FAR 1e-3 point).")
      .def("cosine_for_score", [](const Engine& e, float s) { return e.cosine_for_score(s); }, py::arg("score"))
      .def_static("cosine", [](py::array_t<float, py::array::c_style | py::array::forcecast> a,
                               py::array_t<float, py::array::c_style | py::array::forcecast> b) {
             return Engine::cosine(Feature(a.data(), a.data() + a.size()), Feature(b.data(), b.data() + b.size()));
           })
      .def_property_readonly("descriptor", [](const Engine& e) { return descriptor_name(e.options().descriptor); })
      .def_property_readonly("dimension", &Engine::dimension)
      .def_property_readonly("feature_model_id", &Engine::feature_model_id);

  m.def("migrate_registry",
        [](const std::string& path, const Engine& e, const py::object& progress, bool drop_without_crop) {
          RegistryOptions o;
          o.path = path;
          o.dimension = e.dimension();
          o.feature_model_id = e.feature_model_id();
          std::function<void(size_t, size_t)> report;
          if (!progress.is_none())
            report = [&progress](size_t done, size_t total) {
              py::gil_scoped_acquire acquire;
              progress(done, total);
            };
          Registry::Migration r;
          {
            py::gil_scoped_release release;
            r = Registry::migrate(o, [&e](const FaceCrop& c) { return e.extract(c); }, report, drop_without_crop);
          }
          py::dict d;
          d["from_model"] = r.from_model;
          d["to_model"] = r.to_model;
          d["features"] = r.features;
          d["described"] = r.described;
          d["resumed"] = r.resumed;
          d["dropped"] = r.dropped;
          d["done"] = r.done;
          return d;
        },
        py::arg("path"), py::arg("engine"), py::arg("progress") = py::none(), py::arg("drop_without_crop") = false,
        "Re-describe every face of the registry file at `path` from its kept crop with `engine`\n"
        "(resumable; progress(done, total) after each batch). Returns what was done.");

  m.def("decode_base64", [](const std::string& s) {
    auto v = decode_base64(s);
    return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
  });
}

}  // namespace facekit::python
