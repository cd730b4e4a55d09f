#include "protocol/protocol.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>

#include "facekit/error.h"
#include "log.h"

namespace facekit::server {

namespace {

bool equal_constant_time(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
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

Protocol::Protocol(const ServerConfig& config, Endpoint endpoint, bool shared_registry, int feature_dimension)
    : config_(config), endpoint_(endpoint), shared_registry_(shared_registry) {
  limits_.max_request_bytes = config.max_request_bytes;
  limits_.feature_dimension = feature_dimension;
}

void Protocol::set_handler(int interface_id, Handler handler) {
  if (interface_id < 0 || interface_id >= kInterfaceCount || interface_spec(interface_id).endpoint != endpoint_)
    throw std::invalid_argument("interface " + std::to_string(interface_id) + " is not served on this endpoint");
  handlers_[interface_id] = std::move(handler);
}

void Protocol::set_limiter(RateClass rate, std::shared_ptr<RateLimiter> limiter) {
  if (rate == RateClass::kGeneral) general_limit_ = std::move(limiter);
  if (rate == RateClass::kRegister) register_limit_ = std::move(limiter);
}

bool Protocol::served(int interface_id) const {
  return interface_id >= 0 && interface_id < kInterfaceCount && handlers_[interface_id] != nullptr;
}

const ApiKey* Protocol::check_key(const Envelope& envelope) const {
  if (config_.api_keys.empty()) return nullptr;  // development mode: any key (loopback only)
  if (!envelope.api_key) throw ProtocolError{kUnknownKey, "api_key missing"};
  const std::string& key = *envelope.api_key;
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
    if (interface_spec(interface_id).names_groups)
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
  if (bytes.find("image") != std::string_view::npos || bytes.find("min_version") != std::string_view::npos)
    return false;
  const int id = peek_interface(bytes);
  if (!served(id)) return false;
  const Quick q = interface_spec(id).quick;
  return q == Quick::kAlways || (q == Quick::kLocalRegistry && !shared_registry_);
}

bool Protocol::heavy(std::string_view bytes) const {
  const int id = peek_interface(bytes);
  return served(id) && interface_spec(id).heavy;
}

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
    Envelope envelope = parse_envelope(bytes, limits_);
    const ApiKey* key = check_key(envelope);
    const int id = interface_of(envelope);
    interface_label = std::to_string(id);
    if (!served(id)) throw ProtocolError{kBadParameter, "interface " + interface_label + " is not served on this endpoint"};
    authorise(key, id, envelope.document);
    const RateClass rate = interface_spec(id).rate;
    RateLimiter* limiter = rate == RateClass::kGeneral    ? general_limit_.get()
                           : rate == RateClass::kRegister ? register_limit_.get()
                                                          : nullptr;
    if (limiter && !limiter->try_acquire()) throw ProtocolError{kRateLimited, "rate limit"};
    const Request request = parse_body(envelope, limits_);
    reply = handlers_[id](request);
  } catch (const ProtocolError& e) {
    reply = {{"error_message", wire_text(e.code)}};
    log_line(LogLevel::kDebug, "request " + request_id + ": " + e.message);
  } catch (const facekit::Error& e) {
    reply = {{"error_message", std::to_string(protocol_error_code(e.code()))}};
    if (e.code() == facekit::ErrorCode::kDeadlineExceeded) {
      reply["reason"] = "request_timeout_ms passed before the work was done";
      log_line(LogLevel::kWarn, "request " + request_id + " (interface " + interface_label + "): " + e.what());
    }
    log_line(LogLevel::kDebug, "request " + request_id + ": " + e.what());
  } catch (const std::exception& e) {
    reply = {{"error_message", wire_text(kServerError)}};
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
