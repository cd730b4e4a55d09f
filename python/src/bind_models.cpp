#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "facekit/error.h"
#include "facekit/models.h"

namespace py = pybind11;

namespace facekit::python {

namespace {

py::dict info_to_dict(const ModelInfo& m) {
  py::dict d;
  d["name"] = m.name;
  d["file"] = m.file;
  d["sha256"] = m.sha256;
  d["task"] = m.task;
  d["package"] = m.package;
  d["origin"] = m.origin;
  d["weights_licence"] = m.weights_licence;
  d["package_licence"] = m.package_licence;
  d["input_shape"] = m.input_shape;
  d["layout"] = m.layout;
  d["colour"] = m.colour;
  d["scale"] = m.scale;
  d["mean"] = std::vector<float>(m.mean, m.mean + 3);
  d["outputs"] = m.output_names;
  d["bytes"] = m.bytes;
  return d;
}

py::array_t<float> to_numpy(Tensor&& t) {
  auto* owned = new std::vector<float>(std::move(t.data));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  return py::array_t<float>(t.shape, owned->data(), free_when_done);
}

}  // namespace

void bind_models(py::module_& m) {
  m.def("read_manifest", [](const std::string& dir) {
    py::list out;
    for (const auto& info : read_manifest(dir)) out.append(info_to_dict(info));
    return out;
  }, py::arg("model_dir"), "The models listed in model_dir/manifest.json, without loading them.");

  py::class_<ModelRuntime>(m, "ModelRuntime", "Every converted model, loaded once and checksummed.")
      .def(py::init([](const std::string& model_dir, int num_threads, bool verify, bool warm_up) {
             RuntimeOptions o;
             o.model_dir = model_dir;
             o.num_threads = num_threads;
             o.verify_checksums = verify;
             o.warm_up = warm_up;
             py::gil_scoped_release release;
             return std::make_unique<ModelRuntime>(o);
           }),
           py::arg("model_dir") = "", py::arg("num_threads") = 0, py::arg("verify_checksums") = true,
           py::arg("warm_up") = true)
      .def_property_readonly("model_dir", &ModelRuntime::model_dir)
      .def("models", [](const ModelRuntime& rt) {
        py::list out;
        for (const auto& info : rt.models()) out.append(info_to_dict(info));
        return out;
      })
      .def("run", [](const ModelRuntime& rt, const std::string& name,
                     py::array_t<float, py::array::c_style | py::array::forcecast> input) {
        Tensor t;
        t.shape.assign(input.shape(), input.shape() + input.ndim());
        t.data.assign(input.data(), input.data() + input.size());
        std::vector<Tensor> outs;
        {
          py::gil_scoped_release release;
          outs = rt.run(name, t);
        }
        py::list result;
        for (auto& o : outs) result.append(to_numpy(std::move(o)));
        return result;
      }, py::arg("name"), py::arg("input"), "Run model `name` on a float32 batch; returns its outputs.")
      .def("prepare_input", [](const ModelRuntime& rt, const std::string& name,
                               py::array_t<uint8_t, py::array::c_style | py::array::forcecast> bgr) {
        if (bgr.ndim() != 3 || bgr.shape(2) != 3)
          throw Error(ErrorCode::kInvalidArgument, "image must be HxWx3 uint8 (BGR)");
        Tensor t;
        {
          py::gil_scoped_release release;
          t = prepare_input(rt.info(name), bgr.data(), static_cast<int>(bgr.shape(1)), static_cast<int>(bgr.shape(0)));
        }
        return to_numpy(std::move(t));
      }, py::arg("name"), py::arg("image"), "Resize a whole BGR image to the model's input, normalised.");
}

}  // namespace facekit::python
