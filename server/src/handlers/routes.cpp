// Every interface of kInterfaces bound to its handler: the typed request in, the typed
// reply's JSON out.
#include "handlers/handlers.h"

namespace facekit::server {

namespace {

/// A Handler from a typed handler: takes the request's alternative for `interface_id`.
template <size_t kInterface, typename Answer>
void bind(Protocol& protocol, const HandlerContext& ctx, Answer answer) {
  protocol.set_handler(static_cast<int>(kInterface), [&ctx, answer](const Request& r) {
    return to_json(answer(ctx, std::get<kInterface>(r)));
  });
}

}  // namespace

void add_handlers(Protocol& face, Protocol& pedestrian, const HandlerContext& ctx) {
  bind<0>(face, ctx, register_faces);
  bind<1>(face, ctx, search);
  bind<2>(face, ctx, delete_faces);
  bind<3>(face, ctx, query);
  bind<4>(face, ctx, compare);
  face.set_handler(5, [&ctx](const Request& r) {
    const auto& d = std::get<5>(r);
    return d.mode == DetectRequest::Mode::kTrack ? to_json(track(ctx, d)) : to_json(detect(ctx, d));
  });
  bind<6>(face, ctx, features);
  bind<7>(face, ctx, gender);
  bind<8>(face, ctx, age);
  bind<9>(face, ctx, liveness);
  bind<10>(pedestrian, ctx, pedestrians);
  bind<11>(face, ctx, hair);
  bind<12>(face, ctx, counts);
}

}  // namespace facekit::server
