#include "protocol/json_reader.h"

#include <simdjson.h>

namespace facekit::server {

namespace {

using nlohmann::json;
namespace dom = simdjson::dom;

// The element as T; callers switch on its type first, so the read cannot fail.
template <typename T>
T as(dom::element e) {
  T v{};
  return e.get(v) == simdjson::SUCCESS ? v : T{};
}

json convert(dom::element e) {  // simdjson bounds the depth, so recursion is safe
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      const auto items = as<dom::array>(e);
      json out = json::array();
      auto& array = out.get_ref<json::array_t&>();
      array.reserve(items.size());
      for (dom::element item : items) array.push_back(convert(item));
      return out;
    }
    case dom::element_type::OBJECT: {
      json out = json::object();
      for (dom::key_value_pair field : as<dom::object>(e))
        out[std::string(field.key)] = convert(field.value);  // a repeated key: the last wins
      return out;
    }
    case dom::element_type::INT64: {
      const auto v = as<int64_t>(e);
      return v >= 0 ? json(static_cast<uint64_t>(v)) : json(v);
    }
    case dom::element_type::UINT64:
      return json(as<uint64_t>(e));
    case dom::element_type::DOUBLE:
      return json(as<double>(e));
    case dom::element_type::STRING:
      return json(std::string(as<std::string_view>(e)));
    case dom::element_type::BOOL:
      return json(as<bool>(e));
    case dom::element_type::NULL_VALUE:
      return json(nullptr);
  }
  return json(json::value_t::discarded);
}

}  // namespace

json read_json(std::string_view bytes) {
  thread_local dom::parser parser;  // keeps its buffers between requests
  dom::element root;
  const auto error = parser.parse(bytes.data(), bytes.size(), /*realloc_if_needed=*/true).get(root);
  if (!error) return convert(root);
  // Valid JSON that simdjson does not represent (integers beyond 64 bits, numbers beyond a
  // double's range) is left to nlohmann, so both readers accept exactly the same requests.
  // nlohmann's lexer takes a raw NUL for the end of input (it would accept `{"a":1e999}\0junk`):
  // a NUL is never valid JSON, so such bytes are refused first (found by tests/fuzz).
  if ((error == simdjson::NUMBER_OUT_OF_RANGE || error == simdjson::NUMBER_ERROR) &&
      bytes.find('\0') == std::string_view::npos)
    return json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  return json(json::value_t::discarded);
}

}  // namespace facekit::server
