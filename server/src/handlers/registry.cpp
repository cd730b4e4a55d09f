// Interfaces 0 (register), 1 (1:N search), 2 (delete), 3 (query), 12 (counts).
#include <chrono>

#include "facekit/error.h"
#include "handlers/handlers.h"

namespace facekit::server {

namespace {

/// One person's registration: nothing, or its failure code.
std::optional<WireCode> register_person(const HandlerContext& ctx, const RegisterRequest::Person& p) {
  if (p.invalid) return p.invalid;
  std::vector<Feature> feats;
  std::vector<FaceCrop> crops;
  try {
    for (size_t i = 0; i < p.images.size(); ++i) {
      const Image img = decode(p.images[i], ctx.decode);
      const Landmarks5 landmarks = p.landmarks[i] ? *p.landmarks[i] : ctx.engine.only_face(img).landmarks;
      feats.push_back(ctx.engine.extract(img, landmarks));
      if (ctx.config.keep_face_crops) crops.push_back(ctx.engine.face_crop(img, landmarks));
    }
    ctx.registry.put(p.group_id, p.face_id, feats, crops);
  } catch (const ProtocolError& e) {
    return e.code;
  } catch (const Error& e) {
    // Past the deadline too: persons are independent, and the ones before may be committed,
    // so each answers for itself (10004) rather than the request failing whole.
    return static_cast<WireCode>(protocol_error_code(e.code()));
  }
  return std::nullopt;
}

}  // namespace

RegisterReply register_faces(const HandlerContext& ctx, const RegisterRequest& r) {
  RegisterReply reply;
  for (const auto& p : r.people)
    if (const auto code = register_person(ctx, p)) reply.failed.push_back({p.face_id, p.group_id, *code});
  // A shared registry: the group versions this server holds after the write, at least the
  // write's own, so that a search elsewhere can ask for them (min_version).
  if (ctx.registry.shared()) {
    reply.versions.emplace();
    for (const auto& p : r.people)
      if (!p.invalid && !reply.versions->count(p.group_id)) (*reply.versions)[p.group_id] = ctx.registry.version(p.group_id);
  }
  return reply;
}

SearchReply search(const HandlerContext& ctx, const SearchRequest& r) {
  Feature query = r.feature;
  if (query.empty()) {
    // Several images: average of the L2-normalised features, normalised again.
    query.assign(ctx.engine.dimension(), 0.f);
    for (size_t i = 0; i < r.images.size(); ++i) {
      const Image img = decode(r.images[i], ctx.decode);
      const Landmarks5 l = r.landmarks[i] ? *r.landmarks[i] : ctx.engine.largest_face_landmarks(img);
      const Feature f = ctx.engine.extract(img, l);
      for (size_t k = 0; k < f.size(); ++k) query[k] += f[k];
    }
    double norm = 0;
    for (float v : query) norm += double(v) * v;
    if (norm <= 0) throw ProtocolError{kBadParameter, "the images' features cancel out"};
  }
  const float min_cosine = ctx.engine.cosine_for_score(static_cast<float>(r.score));
  // Read-your-writes across servers: wait (bounded) until this server holds the group version
  // a write elsewhere answered with.
  if (r.min_version > 0 && !ctx.registry.wait_for_version(r.group_id, r.min_version,
                                                          std::chrono::milliseconds(ctx.config.min_version_wait_ms)))
    throw Error(ErrorCode::kUnavailable, "group " + r.group_id + " is at version " +
                                             std::to_string(ctx.registry.version(r.group_id)) + " here, not yet " +
                                             std::to_string(r.min_version));
  SearchReply reply;
  for (const auto& h : ctx.registry.search(r.group_id, query, r.topk, min_cosine)) {
    const float s = ctx.engine.score(h.cosine);
    if (s < r.score) continue;  // rounding at the boundary
    reply.hits.push_back({h.face_id, s});
  }
  return reply;
}

DeleteReply delete_faces(const HandlerContext& ctx, const DeleteRequest& r) {
  DeleteReply reply;
  reply.deleted = r.range ? ctx.registry.remove_range(r.group_id, r.face_id)
                          : (ctx.registry.remove(r.group_id, r.face_id) ? 1 : 0);
  if (ctx.registry.shared()) reply.version = ctx.registry.version(r.group_id);
  return reply;
}

QueryReply query(const HandlerContext& ctx, const QueryRequest& r) {
  return QueryReply{ctx.registry.contains(r.group_id, r.face_id)};
}

CountsReply counts(const HandlerContext& ctx, const CountsRequest& r) {
  CountsReply reply;
  reply.group_id = r.group_id;
  reply.faces = r.group_id ? ctx.registry.count(*r.group_id) : ctx.registry.count_all();
  return reply;
}

}  // namespace facekit::server
