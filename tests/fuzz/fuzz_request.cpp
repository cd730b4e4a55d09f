// Request bytes from a client: the simdjson reader must read exactly what nlohmann's parser
// reads (or refuse what it refuses); parse(bytes) must return a typed request or a wire error
// (never throw, never crash); and the protocol's envelope (JSON, api_key, interface,
// authorisation, size) must answer every message with a JSON reply carrying an error code.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "config.h"
#include "log.h"
#include "protocol/json_reader.h"
#include "protocol/protocol.h"
#include "protocol/requests.h"

namespace {
facekit::server::ServerConfig make_config() {
  facekit::server::ServerConfig c;
  c.api_keys = {{"key", {}, {}}, {"reader", {"3", "12"}, {"visible"}}};
  c.max_request_bytes = 1 << 16;
  c.max_requests = 0;
  return c;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const facekit::server::ServerConfig config = make_config();
  static facekit::server::Protocol* protocol = [] {
    facekit::server::set_log_level("error");
    auto* p = new facekit::server::Protocol(config, facekit::server::Endpoint::kFace, false, 4);
    // Every face interface served by a handler that answers its typed request, so
    // authorisation and every interface's parser run past the envelope.
    for (const auto& spec : facekit::server::kInterfaces)
      if (spec.endpoint == facekit::server::Endpoint::kFace)
        p->set_handler(spec.id, [](const facekit::server::Request& r) {
          return nlohmann::json{{"error_message", std::to_string(r.index())}};
        });
    return p;
  }();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const nlohmann::json fast = facekit::server::read_json(bytes);
  if (bytes.find('\0') != std::string::npos) {
    // A raw NUL is never valid JSON; nlohmann's lexer takes it for the end of input (so it
    // accepts `{"a":1}\0junk`), the server's reader refuses it: the stricter answer is right.
    if (!fast.is_discarded()) __builtin_trap();
  } else {
    const nlohmann::json reference = nlohmann::json::parse(bytes, nullptr, false);
    if (fast.is_discarded() != reference.is_discarded()) __builtin_trap();
    if (!fast.is_discarded() && fast != reference) __builtin_trap();
  }
  facekit::server::ParseLimits limits;
  limits.max_request_bytes = config.max_request_bytes;
  limits.feature_dimension = 4;
  const auto parsed = facekit::server::parse(bytes, limits);  // returns; never throws
  if (parsed.valueless_by_exception()) __builtin_trap();
  const nlohmann::json reply = nlohmann::json::parse(protocol->handle(bytes), nullptr, false);
  if (reply.is_discarded() || !reply.contains("error_message") || !reply["error_message"].is_string()) __builtin_trap();
  return 0;
}
