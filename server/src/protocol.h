#pragma once
// Protocol layer: request bytes -> validated envelope -> handler -> reply JSON. The one
// place where engine errors become wire codes (through facekit::protocol_error_code).
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config.h"
#include "rate_limit.h"

namespace facekit::server {

/// Wire error codes (shared/spec/interfaces.md).
enum WireCode : int {
  kUnknownKey = 10001,
  kNoFace = 10002,
  kManyFaces = 10003,
  kServerError = 10004,
  kBadParameter = 10005,
  kBadJson = 10006,
  kBadImage = 10007,
  kRateLimited = 10008,
  kEmptyArray = 10009,
  kForbidden = 10010,
};

/// A failure to answer with a wire code (thrown by validation and handlers).
struct ProtocolError {
  int code;
  std::string message;
};

/// A handler fills `reply` (its success code and fields) from a validated request.
using Handler = std::function<void(const nlohmann::json& request, nlohmann::json& reply)>;

/// Pixels the images of the request being handled on this thread may still take together:
/// Protocol::handle sets the budget (max_request_pixels) per request, handlers spend it as
/// they decode, from each image's header. False (nothing spent): over budget.
bool spend_request_pixels(int64_t pixels);

class Protocol {
 public:
  explicit Protocol(const ServerConfig& config);
  /// `limiter`: shared by the interfaces of one rate class; null = not rate limited.
  void add_handler(int interface_id, Handler handler, std::shared_ptr<RateLimiter> limiter = nullptr);
  /// Always returns one JSON reply, whatever the bytes.
  std::string handle(const std::string& request_bytes) const;
  /// Declares interfaces that answer from memory in well under a millisecond when the request
  /// carries no image (search by feature, query, counts).
  void mark_quick(std::initializer_list<int> interface_ids);
  /// A cheap look at the bytes, not a parse: true when they name a quick interface and hold
  /// no image. A wrong guess only changes which thread answers, never the answer.
  bool quick(std::string_view request_bytes) const;
  /// Declares interfaces whose work can take long (detection, registration, liveness,
  /// pedestrians): they never hold every worker at once.
  void mark_heavy(std::initializer_list<int> interface_ids);
  /// A cheap look at the bytes, as quick(): true when they name a heavy interface.
  bool heavy(std::string_view request_bytes) const;

 private:
  const ApiKey* check_key(const nlohmann::json& request) const;
  void authorise(const ApiKey* key, int interface_id, const nlohmann::json& request) const;
  const ServerConfig& config_;
  struct Entry {
    Handler handler;
    std::shared_ptr<RateLimiter> limiter;
  };
  std::map<int, Entry> handlers_;
  std::set<int> quick_, heavy_;
};

/// A fresh random UUID v4 string.
std::string uuid4();

}  // namespace facekit::server
