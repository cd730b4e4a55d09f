#include "protocol.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <random>

#include "facekit/error.h"
#include "json_reader.h"
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

void Protocol::add_handler(int interface_id, Handler handler, std::shared_ptr<RateLimiter> limiter) {
  handlers_[interface_id] = {std::move(handler), std::move(limiter)};
}

const ApiKey* Protocol::check_key(const nlohmann::json& request) const {
  if (config_.api_keys.empty()) return nullptr;  // development mode: any key (loopback only)
  auto it = request.find("api_key");
  if (it == request.end() || !it->is_string()) throw ProtocolError{kUnknownKey, "api_key missing"};
  const std::string key = it->get<std::string>();
  const ApiKey* found = nullptr;
  for (const auto& k : config_.api_keys)  // every key compared, in constant time each
    if (equal_constant_time(key, k.key)) found = &k;
  if (!found) throw ProtocolError{kUnknownKey, "api_key not configured"};
  return found;
}

void Protocol::authorise(const ApiKey* key, int interface_id, const nlohmann::json& request) const {
  if (!key) return;
  const std::string id = std::to_string(interface_id);
  if (!key->interfaces.empty() && std::find(key->interfaces.begin(), key->interfaces.end(), id) == key->interfaces.end())
    throw ProtocolError{kForbidden, "key may not call interface " + id};
  if (key->groups.empty()) return;
  auto allowed = [&](const nlohmann::json& g) {
    return g.is_string() && std::find(key->groups.begin(), key->groups.end(), g.get<std::string>()) != key->groups.end();
  };
  auto it = request.find("group_id");
  if (it == request.end()) {
    if (interface_id == 0 || interface_id == 1 || interface_id == 2 || interface_id == 3 || interface_id == 12)
      throw ProtocolError{kForbidden, "key is limited to some groups"};
    return;
  }
  if (it->is_array()) {
    for (const auto& g : *it)
      if (!allowed(g)) throw ProtocolError{kForbidden, "key may not touch this group"};
  } else if (it->is_string() && !allowed(*it)) {
    throw ProtocolError{kForbidden, "key may not touch this group"};
  }
}

void Protocol::mark_quick(std::initializer_list<int> interface_ids) { quick_.insert(interface_ids); }

namespace {
// The interface a request names, from a look at its bytes (no parse); -1 if none is found.
int peek_interface(std::string_view bytes) {
  const size_t key = bytes.find("\"interface\"");
  if (key == std::string_view::npos) return -1;
  size_t i = key + 11;
  while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == ':' || bytes[i] == '\t' || bytes[i] == '\n')) ++i;
  if (i >= bytes.size() || bytes[i] != '"') return -1;
  int id = 0, digits = 0;
  for (++i; i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9' && digits < 3; ++i, ++digits) id = id * 10 + (bytes[i] - '0');
  return digits > 0 && i < bytes.size() && bytes[i] == '"' ? id : -1;
}
}  // namespace

bool Protocol::quick(std::string_view bytes) const {
  if (quick_.empty() || bytes.find("image") != std::string_view::npos ||
      bytes.find("min_version") != std::string_view::npos)
    return false;
  return quick_.count(peek_interface(bytes)) > 0;
}

void Protocol::mark_heavy(std::initializer_list<int> interface_ids) { heavy_.insert(interface_ids); }

bool Protocol::heavy(std::string_view bytes) const { return !heavy_.empty() && heavy_.count(peek_interface(bytes)) > 0; }

namespace {
thread_local int64_t t_pixels_left = std::numeric_limits<int64_t>::max();
}

bool spend_request_pixels(int64_t pixels) {
  if (pixels > t_pixels_left) return false;
  t_pixels_left -= pixels;
  return true;
}

std::string Protocol::handle(const std::string& bytes) const {
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json reply = nlohmann::json::object();
  const std::string request_id = uuid4();
  std::string interface_label = "?";
  t_pixels_left = config_.max_request_pixels > 0 ? config_.max_request_pixels : std::numeric_limits<int64_t>::max();
  try {
    if (bytes.size() > config_.max_request_bytes) throw ProtocolError{kBadParameter, "request too large"};
    nlohmann::json request = read_json(bytes);
    if (request.is_discarded() || !request.is_object()) throw ProtocolError{kBadJson, "not a JSON object"};
    const ApiKey* key = check_key(request);
    const int id = parse_interface(request);
    interface_label = std::to_string(id);
    auto h = handlers_.find(id);
    if (h == handlers_.end())
      throw ProtocolError{kBadParameter, "interface " + interface_label + " is not served on this endpoint"};
    authorise(key, id, request);
    if (h->second.limiter && !h->second.limiter->try_acquire()) throw ProtocolError{kRateLimited, "rate limit"};
    h->second.handler(request, reply);
  } catch (const ProtocolError& e) {
    reply = {{"error_message", std::to_string(e.code)}};
    log_line(LogLevel::kDebug, "request " + request_id + ": " + e.message);
  } catch (const facekit::Error& e) {
    reply = {{"error_message", std::to_string(protocol_error_code(e.code()))}};
    if (e.code() == facekit::ErrorCode::kDeadlineExceeded) {
      reply["reason"] = "request_timeout_ms passed before the work was done";
      log_line(LogLevel::kWarn, "request " + request_id + " (interface " + interface_label + "): " + e.what());
    }
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
