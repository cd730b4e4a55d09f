// Interface 9: liveness over 1-4 image pairs, one action each.
#include "facekit/liveness.h"
#include "handlers/handlers.h"

namespace facekit::server {

LivenessReply liveness(const HandlerContext& ctx, const LivenessRequest& r) {
  LivenessRules rules;
  rules.same_person_score = ctx.config.compare_threshold;
  rules.min_real = ctx.config.liveness_min_real;
  LivenessReply reply;
  for (const auto& p : r.pairs) {
    const Image a = decode(p.image1, ctx.decode), b = decode(p.image2, ctx.decode);
    reply.checks.push_back(check_liveness(ctx.engine, p.action, a, b, rules));
  }
  return reply;
}

}  // namespace facekit::server
