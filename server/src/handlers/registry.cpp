// Interfaces 0 (register), 1 (1:N search), 2 (delete), 3 (query), 12 (counts).
#include <chrono>
#include <cmath>

#include "facekit/error.h"
#include "handlers/request.h"

namespace facekit::server {

namespace {

const std::string& group_of(const Json& r) {
  const std::string& g = string_field(r, "group_id");
  if (g.empty() || g.size() > 256) bad("group_id must be 1-256 bytes");
  return g;
}

const std::string& face_id_of(const Json& r) {
  const std::string& id = string_field(r, "face_id");
  if (!Registry::valid_face_id(id)) bad("face_id must be 1-32 digits");
  return id;
}

// A shared registry: the group versions this server holds after a write, at least the
// write's own, so that a search elsewhere can ask for them (min_version). `version` when the
// request touched one group, `versions` (group -> version) always.
void add_versions(const HandlerContext& ctx, const Json& groups, Json& reply) {
  if (!ctx.registry.shared()) return;
  Json versions = Json::object();
  for (const auto& g : groups)
    if (g.is_string() && !versions.contains(g.get<std::string>()))
      versions[g.get<std::string>()] = ctx.registry.version(g.get<std::string>());
  if (versions.size() == 1) reply["version"] = versions.begin().value();
  reply["versions"] = std::move(versions);
}

/// One person's registration; returns "" or the per-person failure code.
std::string register_person(const HandlerContext& ctx, const Json& face_id, const Json& group, const Json& images,
                            const Json* landmarks) {
  if (!face_id.is_string() || !Registry::valid_face_id(face_id.get<std::string>())) return "10005";
  if (!group.is_string() || group.get<std::string>().empty()) return "10005";
  if (!images.is_array() || images.empty() || images.size() > 5) return "10005";
  if (landmarks && (!landmarks->is_array() || landmarks->size() != images.size())) return "10005";
  std::vector<Feature> feats;
  std::vector<FaceCrop> crops;
  try {
    for (size_t i = 0; i < images.size(); ++i) {
      if (!images[i].is_string()) return "10005";
      std::optional<Landmarks5> given;
      if (landmarks && !(*landmarks)[i].is_null()) given = parse_landmarks((*landmarks)[i]);
      const Image img = decode(images[i], ctx.decode);
      if (!given) given = ctx.engine.only_face(img).landmarks;
      feats.push_back(ctx.engine.extract(img, *given));
      if (ctx.config.keep_face_crops) crops.push_back(ctx.engine.face_crop(img, *given));
    }
    ctx.registry.put(group.get<std::string>(), face_id.get<std::string>(), feats, crops);
  } catch (const ProtocolError& e) {
    return std::to_string(e.code);
  } catch (const Error& e) {
    return std::to_string(protocol_error_code(e.code()));
  }
  return "";
}

void register_faces(const HandlerContext& ctx, const Json& r, Json& reply) {
  const Json& ids = array_field(r, "face_id");
  const Json& groups = array_field(r, "group_id");
  const Json& images = array_field(r, "image_base64");
  const Json* landmarks = nullptr;
  if (auto it = r.find("landmarks"); it != r.end() && !it->is_null()) {
    if (!it->is_array()) bad("landmarks must be an array");
    landmarks = &*it;
  }
  if (ids.size() != groups.size() || ids.size() != images.size() || (landmarks && landmarks->size() != ids.size()))
    bad("face_id, group_id, image_base64 (and landmarks) must have the same length");
  if (ids.empty()) bad("no person to register");
  Json failed_id = Json::array(), failed_group = Json::array(), failed_msg = Json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string code = register_person(ctx, ids[i], groups[i], images[i], landmarks ? &(*landmarks)[i] : nullptr);
    if (code.empty()) continue;
    failed_id.push_back(ids[i]);
    failed_group.push_back(groups[i]);
    failed_msg.push_back(code);
  }
  add_versions(ctx, groups, reply);
  if (failed_id.empty()) {
    reply["error_message"] = "101";
    return;
  }
  reply["error_message"] = "102";
  reply["failed_face_id"] = std::move(failed_id);
  reply["failed_group_id"] = std::move(failed_group);
  reply["failed_message"] = std::move(failed_msg);
}

void search(const HandlerContext& ctx, const Json& r, Json& reply) {
  const std::string& group = group_of(r);
  const double threshold = number_field(r, "score", 0, 100);
  const int topk = int_field(r, "topk", 1, 5);
  // Read-your-writes across servers: wait (bounded) until this server holds the group version
  // a write elsewhere answered with.
  int64_t min_version = 0;
  if (auto it = r.find("min_version"); it != r.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) bad("min_version must be a non-negative integer");
    min_version = it->get<int64_t>();
  }
  const auto mode = optional_string(r, "field").value_or("");
  Feature query;
  if (mode == "feature") {
    const Json& f = array_field(r, "feature");
    if (f.empty()) throw ProtocolError{kEmptyArray, "feature is empty"};
    if (static_cast<int>(f.size()) != ctx.engine.dimension()) bad("feature has the wrong dimension");
    for (const auto& v : f) {
      if (!v.is_number()) bad("feature values must be numbers");
      query.push_back(v.get<float>());
      if (!std::isfinite(query.back())) bad("feature values must be finite");
    }
  } else if (mode.empty()) {
    const Json& images = array_field(r, "image_base64");
    if (images.empty()) throw ProtocolError{kEmptyArray, "image_base64 is empty"};
    if (images.size() > 3) bad("at most 3 query images");
    check_image_strings(images);
    const auto landmarks = optional_landmarks(r, images.size());
    // Several images: average of the L2-normalised features, normalised again.
    query.assign(ctx.engine.dimension(), 0.f);
    for (size_t i = 0; i < images.size(); ++i) {
      const Image img = decode(images[i], ctx.decode);
      const Landmarks5 l = landmarks[i] ? *landmarks[i] : ctx.engine.largest_face_landmarks(img);
      const Feature f = ctx.engine.extract(img, l);
      for (size_t k = 0; k < f.size(); ++k) query[k] += f[k];
    }
  } else {
    bad("field must be \"feature\" or absent");
  }
  double norm = 0;
  for (float v : query) norm += double(v) * v;
  if (norm <= 0) bad("feature is all zeros");
  const float min_cosine = ctx.engine.cosine_for_score(static_cast<float>(threshold));
  if (min_version > 0 &&
      !ctx.registry.wait_for_version(group, min_version, std::chrono::milliseconds(ctx.config.min_version_wait_ms)))
    throw Error(ErrorCode::kUnavailable, "group " + group + " is at version " +
                                             std::to_string(ctx.registry.version(group)) + " here, not yet " +
                                             std::to_string(min_version));
  const auto hits = ctx.registry.search(group, query, topk, min_cosine);
  Json ids = Json::array(), scores = Json::array();
  for (const auto& h : hits) {
    const float s = ctx.engine.score(h.cosine);
    if (s < threshold) continue;  // rounding at the boundary
    ids.push_back(h.face_id);
    scores.push_back(std::round(static_cast<double>(s) * 100.0) / 100.0);
  }
  reply["error_message"] = ids.empty() ? "202" : "201";
  reply["face_id"] = std::move(ids);
  reply["score"] = std::move(scores);
}

void remove(const HandlerContext& ctx, const Json& r, Json& reply) {
  const std::string& id = face_id_of(r);
  const std::string& group = group_of(r);
  const auto mode = optional_string(r, "field").value_or("");
  size_t n;
  if (mode == "range") n = ctx.registry.remove_range(group, id);
  else if (mode.empty()) n = ctx.registry.remove(group, id) ? 1 : 0;
  else bad("field must be \"range\" or absent");
  reply["error_message"] = n > 0 ? "301" : "302";
  if (ctx.registry.shared()) reply["version"] = ctx.registry.version(group);
}

void query(const HandlerContext& ctx, const Json& r, Json& reply) {
  const std::string& id = face_id_of(r);
  reply["error_message"] = ctx.registry.contains(group_of(r), id) ? "401" : "402";
}

void counts(const HandlerContext& ctx, const Json& r, Json& reply) {
  if (auto g = optional_string(r, "group_id")) {
    reply["reg_nums"] = ctx.registry.count(*g);
    reply["group_id"] = *g;
  } else {
    reply["reg_nums"] = ctx.registry.count_all();
  }
  reply["error_message"] = "1301";
}

}  // namespace

void add_registry_handlers(Protocol& p, const HandlerContext& ctx, std::shared_ptr<RateLimiter> limited,
                           std::shared_ptr<RateLimiter> register_limit) {
  p.add_handler(0, [&ctx](const Json& r, Json& reply) { register_faces(ctx, r, reply); }, register_limit);
  p.add_handler(1, [&ctx](const Json& r, Json& reply) { search(ctx, r, reply); }, limited);
  p.add_handler(2, [&ctx](const Json& r, Json& reply) { remove(ctx, r, reply); });
  p.add_handler(3, [&ctx](const Json& r, Json& reply) { query(ctx, r, reply); });
  p.add_handler(12, [&ctx](const Json& r, Json& reply) { counts(ctx, r, reply); });
  // From memory; registration and deletion write the store (fsync). A shared registry counts
  // in PostgreSQL, so interface 12 goes to a worker there (and a search with min_version may wait).
  if (ctx.registry.shared()) p.mark_quick({1, 3});
  else p.mark_quick({1, 3, 12});
}

}  // namespace facekit::server
