#pragma once
// Handlers: the engine's work for each interface, from a typed request (requests.h) to a
// typed reply (replies.h). No JSON here; a failure is a ProtocolError or a facekit::Error.
#include <string>

#include "config.h"
#include "facekit/engine.h"
#include "facekit/person.h"
#include "facekit/registry.h"
#include "facekit/tracker.h"
#include "protocol/protocol.h"
#include "protocol/replies.h"
#include "protocol/requests.h"

namespace facekit::server {

/// What handlers use.
struct HandlerContext {
  const Engine& engine;
  Registry& registry;
  const ServerConfig& config;
  DecodeOptions decode;
  CameraTracks& cameras;        ///< track mode of interface 5
  const PersonDetector& people;  ///< interface 10
};

/// Decodes one base64 image (10007 on failure), spending the request's pixel budget from its
/// header before decoding.
Image decode(const std::string& image_b64, const DecodeOptions& options);

RegisterReply register_faces(const HandlerContext& ctx, const RegisterRequest& r);
SearchReply search(const HandlerContext& ctx, const SearchRequest& r);
DeleteReply delete_faces(const HandlerContext& ctx, const DeleteRequest& r);
QueryReply query(const HandlerContext& ctx, const QueryRequest& r);
CountsReply counts(const HandlerContext& ctx, const CountsRequest& r);

CompareReply compare(const HandlerContext& ctx, const CompareRequest& r);
DetectReply detect(const HandlerContext& ctx, const DetectRequest& r);
TrackReply track(const HandlerContext& ctx, const DetectRequest& r);
FeaturesReply features(const HandlerContext& ctx, const FeaturesRequest& r);
GenderReply gender(const HandlerContext& ctx, const GenderRequest& r);
AgeReply age(const HandlerContext& ctx, const AgeRequest& r);
HairReply hair(const HandlerContext& ctx, const HairRequest& r);

LivenessReply liveness(const HandlerContext& ctx, const LivenessRequest& r);
PedestrianReply pedestrians(const HandlerContext& ctx, const PedestrianRequest& r);

/// Binds every interface of kInterfaces to its handler, on the protocol of its endpoint.
void add_handlers(Protocol& face, Protocol& pedestrian, const HandlerContext& ctx);

}  // namespace facekit::server
