// Request bytes from a client: the simdjson reader must read exactly what nlohmann's parser
// reads (or refuse what it refuses), and the protocol's envelope (JSON, api_key, interface,
// authorisation, size) must answer every message with a JSON reply carrying an error code.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "config.h"
#include "json_reader.h"
#include "log.h"
#include "protocol.h"

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
    auto* p = new facekit::server::Protocol(config);
    // One handler that reads fields the way handlers do, so authorisation and parameter
    // checks run past the envelope.
    p->add_handler(3, [](const nlohmann::json& r, nlohmann::json& reply) {
      if (!r.contains("group_id") || !r["group_id"].is_string()) throw facekit::server::ProtocolError{facekit::server::kBadParameter, "group"};
      reply["error_message"] = "401";
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
  const nlohmann::json reply = nlohmann::json::parse(protocol->handle(bytes), nullptr, false);
  if (reply.is_discarded() || !reply.contains("error_message") || !reply["error_message"].is_string()) __builtin_trap();
  return 0;
}
