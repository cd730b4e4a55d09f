#include "protocol.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "facekit/error.h"
#include "log.h"

namespace facekit::server {

namespace {

bool equal_constant_time(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
}

int parse_interface(const nlohmann::json& request) {
  auto it = request.find("interface");
  if (it == request.end() || !it->is_string()) throw ProtocolError{kBadParameter, "interface must be a string"};
  const std::string s = it->get<std::string>();
  if (s.empty() || s.size() > 2 || s.find_first_not_of("0123456789") != std::string::npos ||
      (s.size() == 2 && s[0] == '0'))
    throw ProtocolError{kBadParameter, "unknown interface"};
  const int id = std::stoi(s);
  if (id > 12) throw ProtocolError{kBadParameter, "unknown interface"};
  return id;
}

}  // namespace

std::string uuid4() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

Protocol::Protocol(const ServerConfig& config) : config_(config) {}

void Protocol::add_handler(int interface_id, Handler handler) { handlers_[interface_id] = std::move(handler); }

void Protocol::check_key(const nlohmann::json& request) const {
  if (config_.api_keys.empty()) return;  // development mode: any key (loopback only)
  auto it = request.find("api_key");
  if (it == request.end() || !it->is_string()) throw ProtocolError{kUnknownKey, "api_key missing"};
  const std::string key = it->get<std::string>();
  bool known = false;
  for (const auto& k : config_.api_keys) known |= equal_constant_time(key, k);
  if (!known) throw ProtocolError{kUnknownKey, "api_key not configured"};
}

std::string Protocol::handle(const std::string& bytes) const {
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json reply = nlohmann::json::object();
  const std::string request_id = uuid4();
  std::string interface_label = "?";
  try {
    if (bytes.size() > config_.max_request_bytes) throw ProtocolError{kBadParameter, "request too large"};
    nlohmann::json request = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) throw ProtocolError{kBadJson, "not a JSON object"};
    check_key(request);
    const int id = parse_interface(request);
    interface_label = std::to_string(id);
    auto h = handlers_.find(id);
    if (h == handlers_.end())
      throw ProtocolError{kServerError, "interface " + interface_label + " is not available in this build"};
    h->second(request, reply);
  } catch (const ProtocolError& e) {
    reply = {{"error_message", std::to_string(e.code)}};
    log_line(LogLevel::kDebug, "request " + request_id + ": " + e.message);
  } catch (const facekit::Error& e) {
    reply = {{"error_message", std::to_string(protocol_error_code(e.code()))}};
    log_line(LogLevel::kDebug, "request " + request_id + ": " + e.what());
  } catch (const std::exception& e) {
    reply = {{"error_message", std::to_string(kServerError)}};
    log_line(LogLevel::kError, "request " + request_id + " failed unexpectedly: " + e.what());
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  reply["request_id"] = request_id;
  reply["time_used"] = ms;
  if (!reply.contains("error_message")) reply["error_message"] = "";
  log_line(LogLevel::kInfo, "interface=" + interface_label + " code=" + reply["error_message"].get<std::string>() +
                                " ms=" + std::to_string(ms));
  return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace facekit::server
