#pragma once
// Protocol layer of one endpoint: request bytes -> envelope (size, JSON, api_key, interface,
// authorisation, rate limit, in the spec's order of precedence) -> typed request -> handler
// -> reply JSON. The one place where engine errors become wire codes (through
// facekit::protocol_error_code). Per-interface rules come from kInterfaces (interfaces.h).
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config.h"
#include "protocol/interfaces.h"
#include "protocol/rate_limit.h"
#include "protocol/requests.h"
#include "protocol/wire_codes.h"

namespace facekit::server {

/// Answers one typed request with its reply's JSON (replies.h's to_json), or throws
/// ProtocolError / facekit::Error.
using Handler = std::function<nlohmann::json(const Request& request)>;

/// Pixels the images of the request being handled on this thread may still take together:
/// Protocol::handle sets the budget (max_request_pixels) per request, handlers spend it as
/// they decode, from each image's header. False (nothing spent): over budget.
bool spend_request_pixels(int64_t pixels);

class Protocol {
 public:
  /// `shared_registry`: the registry is PostgreSQL (Quick::kLocalRegistry interfaces are then
  /// not quick). `feature_dimension`: interface 1's feature length (0: not checked).
  Protocol(const ServerConfig& config, Endpoint endpoint, bool shared_registry = false, int feature_dimension = 0);
  /// Serves `interface_id`, which kInterfaces places on this endpoint.
  void set_handler(int interface_id, Handler handler);
  /// The limiter of a rate class (kInterfaces says which interfaces count against it); none
  /// set = not limited.
  void set_limiter(RateClass rate, std::shared_ptr<RateLimiter> limiter);
  /// Always returns one JSON reply, whatever the bytes.
  std::string handle(const std::string& request_bytes) const;
  /// A cheap look at the bytes, not a parse: true when they name a served quick interface and
  /// hold no image. A wrong guess only changes which thread answers, never the answer.
  bool quick(std::string_view request_bytes) const;
  /// A cheap look at the bytes, as quick(): true when they name a served heavy interface.
  bool heavy(std::string_view request_bytes) const;
  Endpoint endpoint() const { return endpoint_; }

 private:
  const ApiKey* check_key(const Envelope& envelope) const;
  void authorise(const ApiKey* key, int interface_id, const nlohmann::json& request) const;
  bool served(int interface_id) const;
  const ServerConfig& config_;
  Endpoint endpoint_;
  bool shared_registry_;
  ParseLimits limits_;
  std::array<Handler, kInterfaceCount> handlers_;
  std::shared_ptr<RateLimiter> general_limit_, register_limit_;
};

/// A fresh random UUID v4 string.
std::string uuid4();

}  // namespace facekit::server
