// Interface 10 (pedestrian port): people boxes from NanoDet.
#include <cmath>

#include "handlers/request.h"

namespace facekit::server {

void add_pedestrian_handler(Protocol& p, const HandlerContext& ctx, const PersonDetector& people) {
  p.add_handler(10, [&ctx, &people](const Json& r, Json& reply) {
    const Image img = decode(Json(string_field(r, "image1_base64")), ctx.decode);
    Json result = Json::array();
    const auto found = people.detect(img);
    for (const auto& person : found)
      result.push_back({{"left", static_cast<int>(std::lround(person.box.left))},
                        {"top", static_cast<int>(std::lround(person.box.top))},
                        {"width", static_cast<int>(std::lround(person.box.width))},
                        {"height", static_cast<int>(std::lround(person.box.height))}});
    reply["error_message"] = "1101";
    reply["person_nums"] = found.size();
    reply["result"] = std::move(result);
  });
}

}  // namespace facekit::server
