#include "protocol/fields.h"

#include <cmath>

namespace facekit::server {

const Json& field(const Json& r, const char* name) {
  auto it = r.find(name);
  if (it == r.end() || it->is_null()) bad(std::string("missing ") + name);
  return *it;
}

const std::string& string_field(const Json& r, const char* name) {
  const Json& v = field(r, name);
  if (!v.is_string()) bad(std::string(name) + " must be a string");
  return v.get_ref<const std::string&>();
}

const Json& array_field(const Json& r, const char* name) {
  const Json& v = field(r, name);
  if (!v.is_array()) bad(std::string(name) + " must be an array");
  return v;
}

std::optional<std::string> optional_string(const Json& r, const char* name) {
  auto it = r.find(name);
  if (it == r.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad(std::string(name) + " must be a string");
  return it->get<std::string>();
}

double number_field(const Json& r, const char* name, double lo, double hi) {
  const Json& v = field(r, name);
  if (!v.is_number()) bad(std::string(name) + " must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) bad(std::string(name) + " out of range");
  return d;
}

static int as_int(const Json& v, const char* name, int lo, int hi) {
  if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
    bad(std::string(name) + " must be an integer");
  const double d = v.get<double>();
  if (d < lo || d > hi) bad(std::string(name) + " out of range");
  return static_cast<int>(d);
}

int int_field(const Json& r, const char* name, int lo, int hi) { return as_int(field(r, name), name, lo, hi); }

std::optional<int> optional_int(const Json& r, const char* name, int lo, int hi) {
  auto it = r.find(name);
  if (it == r.end() || it->is_null()) return std::nullopt;
  return as_int(*it, name, lo, hi);
}

Landmarks5 parse_landmarks(const Json& j) {
  if (!j.is_object()) bad("a landmark must be {x: [5], y: [5]}");
  auto xs = j.find("x"), ys = j.find("y");
  if (xs == j.end() || ys == j.end() || !xs->is_array() || !ys->is_array() || xs->size() != 5 || ys->size() != 5)
    bad("a landmark must be {x: [5], y: [5]}");
  Landmarks5 l;
  for (size_t i = 0; i < 5; ++i) {
    if (!(*xs)[i].is_number() || !(*ys)[i].is_number()) bad("landmark coordinates must be numbers");
    l[i] = {(*xs)[i].get<float>(), (*ys)[i].get<float>()};
    if (!std::isfinite(l[i].x) || !std::isfinite(l[i].y)) bad("landmark coordinates must be finite");
  }
  return l;
}

std::vector<std::optional<Landmarks5>> optional_landmarks(const Json& r, size_t images) {
  auto it = r.find("landmarks");
  if (it == r.end() || it->is_null()) return std::vector<std::optional<Landmarks5>>(images);
  if (!it->is_array() || it->size() != images) bad("landmarks must be an array matching the images");
  std::vector<std::optional<Landmarks5>> out;
  for (const auto& l : *it) out.push_back(l.is_null() ? std::nullopt : std::optional<Landmarks5>(parse_landmarks(l)));
  return out;
}

std::vector<std::string> take_image_strings(Json& images) {
  std::vector<std::string> out;
  out.reserve(images.size());
  for (auto& i : images) {
    if (!i.is_string()) bad("images must be base64 strings");
    out.push_back(std::move(i.get_ref<std::string&>()));
  }
  return out;
}

}  // namespace facekit::server
