// Interface 10 (pedestrian port): people boxes from NanoDet.
#include "handlers/handlers.h"

namespace facekit::server {

PedestrianReply pedestrians(const HandlerContext& ctx, const PedestrianRequest& r) {
  const Image img = decode(r.image, ctx.decode);
  return PedestrianReply{ctx.people.detect(img)};
}

}  // namespace facekit::server
