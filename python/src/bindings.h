#pragma once
#include <pybind11/pybind11.h>

namespace facekit::python {
void bind_models(pybind11::module_& m);
void bind_engine(pybind11::module_& m);
void bind_registry(pybind11::module_& m);
}  // namespace facekit::python
