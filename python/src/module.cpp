// The _facekit extension: thin bindings, one file per area. facekit::Error becomes
// facekit.FacekitError carrying `.code` (name) and `.protocol_code` (the wire code).
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "facekit/error.h"
#include "facekit/version.h"

namespace py = pybind11;

PYBIND11_MODULE(_facekit, m) {
  m.doc() = "facekit native core (use the `facekit` package)";
  m.attr("__version__") = facekit::version();
  static py::exception<facekit::Error> error(m, "FacekitError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const facekit::Error& e) {
      py::object inst = py::reinterpret_borrow<py::object>(error.ptr())(e.what());
      inst.attr("code") = facekit::error_code_name(e.code());
      inst.attr("protocol_code") = facekit::protocol_error_code(e.code());
      PyErr_SetObject(error.ptr(), inst.ptr());
    }
  });
  facekit::python::bind_models(m);
  facekit::python::bind_engine(m);
  facekit::python::bind_registry(m);
  facekit::python::bind_track(m);
}
