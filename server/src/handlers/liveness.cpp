// Interface 9: liveness over 1-4 image pairs, one action each.
#include <set>

#include "facekit/liveness.h"
#include "handlers/request.h"

namespace facekit::server {

namespace {

struct Pair {
  LiveAction action;
  const Json* image1;
  const Json* image2;
};

std::vector<Pair> parse_pairs(const Json& r) {
  const Json& live = array_field(r, "live");
  if (live.empty() || live.size() > 4) bad("live must hold 1 to 4 pairs");
  std::vector<Pair> pairs;
  std::set<LiveAction> seen;
  for (const auto& item : live) {
    if (!item.is_object()) bad("each live entry is an object {type, image1_base64, image2_base64}");
    const auto action = live_action_from_name(string_field(item, "type"));
    if (!action) bad("live type must be blink, nod, shake or mouth");
    if (!seen.insert(*action).second) bad("each live type may appear once");
    string_field(item, "image1_base64");
    string_field(item, "image2_base64");
    pairs.push_back({*action, &item.at("image1_base64"), &item.at("image2_base64")});
  }
  return pairs;
}

void liveness(const HandlerContext& ctx, const Json& r, Json& reply) {
  const auto pairs = parse_pairs(r);  // the whole request is valid before any image decodes
  LivenessRules rules;
  rules.same_person_score = ctx.config.compare_threshold;
  rules.min_real = ctx.config.liveness_min_real;
  Json details = Json::array();
  bool all = true;
  for (const auto& p : pairs) {
    const Image a = decode(*p.image1, ctx.decode), b = decode(*p.image2, ctx.decode);
    const LiveCheck c = check_liveness(ctx.engine, p.action, a, b, rules);
    all = all && c.passed;
    details.push_back({{"type", live_action_name(c.action)}, {"passed", c.passed}, {"reason", c.reason}});
  }
  reply["error_message"] = "1001";
  reply["lives"] = all ? "live" : "not live";
  reply["details"] = std::move(details);
}

}  // namespace

void add_liveness_handler(Protocol& p, const HandlerContext& ctx) {
  p.add_handler(9, [&ctx](const Json& r, Json& reply) { liveness(ctx, r, reply); });
}

}  // namespace facekit::server
