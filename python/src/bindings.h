#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "facekit/image.h"
#include "facekit/types.h"

namespace facekit::python {
void bind_models(pybind11::module_& m);
void bind_engine(pybind11::module_& m);
void bind_registry(pybind11::module_& m);
void bind_track(pybind11::module_& m);

/// An image from an HxWx3 uint8 array (BGR, or RGB if `rgb`), encoded bytes or a path.
Image to_image(const pybind11::object& obj, bool rgb, const DecodeOptions& decode);
/// n x 2 float array of points.
pybind11::array_t<float> points_array(const Point* p, size_t n);
}  // namespace facekit::python
