// facekit.Registry (native part): the face registry (SQLite or PostgreSQL) with HNSW search.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>

#include "bindings.h"
#include "facekit/error.h"
#include "facekit/registry.h"

namespace py = pybind11;

namespace facekit::python {

namespace {
Feature to_feature(py::array_t<float, py::array::c_style | py::array::forcecast> a) {
  return Feature(a.data(), a.data() + a.size());
}
}  // namespace

void bind_registry(py::module_& m) {
  py::class_<SearchHit>(m, "SearchHit")
      .def_readonly("face_id", &SearchHit::face_id)
      .def_readonly("cosine", &SearchHit::cosine)
      .def("__repr__", [](const SearchHit& h) { return "SearchHit(" + h.face_id + ", " + std::to_string(h.cosine) + ")"; });

  py::class_<Registry>(m, "NativeRegistry")
      .def(py::init([](const std::string& path, int dimension, const std::string& model_id, int m_, int efc, int ef,
                       int insert_threads, int64_t change_log_keep, int sync_interval_ms,
                       const std::string& snapshot_dir) {
             RegistryOptions o;
             o.path = path;
             o.dimension = dimension;
             o.feature_model_id = model_id;
             o.hnsw_m = m_;
             o.hnsw_ef_construction = efc;
             o.hnsw_ef_search = ef;
             o.insert_threads = insert_threads;
             o.change_log_keep = change_log_keep;
             o.sync_interval_ms = sync_interval_ms;
             o.snapshot_dir = snapshot_dir;
             py::gil_scoped_release release;
             return std::make_unique<Registry>(o);
           }),
           py::arg("path"), py::arg("dimension"), py::arg("feature_model_id"), py::arg("hnsw_m") = 16,
           py::arg("hnsw_ef_construction") = 200, py::arg("hnsw_ef_search") = 64,
           py::arg("insert_threads") = 0, py::arg("change_log_keep") = 100000, py::arg("sync_interval_ms") = 2000,
           py::arg("snapshot_dir") = "")
      .def_property_readonly("shared", &Registry::shared,
                             "True on a PostgreSQL registry shared with other servers")
      .def("version", &Registry::version, py::arg("group"),
           "the group's version this registry's index holds (PostgreSQL; 0 on SQLite)")
      .def(
          "wait_for_version",
          [](const Registry& r, const std::string& group, int64_t version, double timeout) {
            return r.wait_for_version(group, version,
                                      std::chrono::milliseconds(static_cast<int64_t>(std::max(0.0, timeout) * 1000)));
          },
          py::arg("group"), py::arg("version"), py::arg("timeout") = 2.0, py::call_guard<py::gil_scoped_release>(),
          "wait until the index holds `version` of the group; False after `timeout` seconds")
      .def("put", [](Registry& r, const std::string& group, const std::string& face_id, const py::object& feats,
                     const std::vector<FaceCrop>& crops) {
             std::vector<Feature> fs;
             auto arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(feats);
             if (arr && arr.ndim() == 1) {
               fs.push_back(to_feature(arr));
             } else if (arr && arr.ndim() == 2) {
               for (py::ssize_t i = 0; i < arr.shape(0); ++i)
                 fs.emplace_back(arr.data() + i * arr.shape(1), arr.data() + (i + 1) * arr.shape(1));
             } else {
               for (const auto& f : feats) fs.push_back(to_feature(py::reinterpret_borrow<py::object>(f)));
             }
             py::gil_scoped_release release;
             r.put(group, face_id, fs, crops);
           },
           py::arg("group"), py::arg("face_id"), py::arg("features"), py::arg("crops") = std::vector<FaceCrop>(),
           "Register or replace a person (1-5 features); durable when it returns. crops: none, or\n"
           "one Engine.face_crop per feature, kept for `facekit registry migrate`.")
      .def("put_many", [](Registry& r, const std::string& group, const std::vector<std::string>& ids,
                          py::array_t<float, py::array::c_style | py::array::forcecast> feats) {
             if (feats.ndim() != 2 || static_cast<size_t>(feats.shape(0)) != ids.size())
               throw Error(ErrorCode::kInvalidArgument, "features must be one row per face_id");
             std::vector<std::pair<std::string, std::vector<Feature>>> people;
             people.reserve(ids.size());
             const auto dim = feats.shape(1);
             for (size_t i = 0; i < ids.size(); ++i)
               people.push_back({ids[i], {Feature(feats.data() + i * dim, feats.data() + (i + 1) * dim)}});
             py::gil_scoped_release release;
             r.put_many(group, people);
           },
           py::arg("group"), py::arg("face_ids"), py::arg("features"),
           "Bulk registration, one feature per face_id, one transaction.")
      .def("save_snapshot", &Registry::save_snapshot, py::call_guard<py::gil_scoped_release>(),
           "Write the index snapshot now (the server does it periodically and at exit).")
      .def("remove", &Registry::remove, py::arg("group"), py::arg("face_id"), py::call_guard<py::gil_scoped_release>())
      .def("remove_range", &Registry::remove_range, py::arg("group"), py::arg("max_face_id"),
           py::call_guard<py::gil_scoped_release>())
      .def("contains", &Registry::contains, py::arg("group"), py::arg("face_id"))
      .def("count", &Registry::count, py::arg("group"))
      .def("count_all", &Registry::count_all)
      .def("groups", &Registry::groups)
      .def_property_readonly(
          "startup",
          [](const Registry& r) {
            const auto& s = r.startup();
            py::dict d;
            d["groups_from_snapshot"] = s.groups_from_snapshot;
            d["rows_replayed"] = s.rows_replayed;
            d["rows_rebuilt"] = s.rows_rebuilt;
            d["rows_dropped"] = s.rows_dropped;
            d["distance_kernel"] = s.distance_kernel;
            d["seconds"] = s.seconds;
            return d;
          },
          "How the index was obtained when the registry opened (snapshot, replay, rebuild) and how long it took.")
      .def("search", [](const Registry& r, const std::string& group,
                        py::array_t<float, py::array::c_style | py::array::forcecast> q, int topk, float min_cosine) {
             Feature f = to_feature(q);
             py::gil_scoped_release release;
             return r.search(group, f, topk, min_cosine);
           },
           py::arg("group"), py::arg("feature"), py::arg("topk") = 5, py::arg("min_cosine") = -1.f);
}

}  // namespace facekit::python
