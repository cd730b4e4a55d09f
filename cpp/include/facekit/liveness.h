#pragma once
/// Action liveness over image pairs (blink, mouth, nod, shake) plus passive anti-spoofing:
/// interface 9 of the protocol. Signals and thresholds are measured in docs/ACCURACY.md.
#include <optional>
#include <string>
#include <string_view>

#include "facekit/types.h"

namespace facekit {

class Engine;

enum class LiveAction { kBlink, kMouth, kNod, kShake };

/// The protocol's names of the actions. Inline: the server's request parser uses them without
/// the engine (and so does its fuzz target).
inline constexpr struct {
  const char* name;
  LiveAction action;
} kLiveActionNames[] = {{"blink", LiveAction::kBlink}, {"mouth", LiveAction::kMouth}, {"nod", LiveAction::kNod},
                        {"shake", LiveAction::kShake}};

/// "blink", "mouth", "nod", "shake" -> the action; anything else -> nullopt.
inline std::optional<LiveAction> live_action_from_name(std::string_view name) {
  for (const auto& a : kLiveActionNames)
    if (name == a.name) return a.action;
  return std::nullopt;
}
inline const char* live_action_name(LiveAction action) {
  for (const auto& a : kLiveActionNames)
    if (a.action == action) return a.name;
  return "?";
}

/// What one image says about liveness: its only face and the measures of that face.
struct LiveSignals {
  Face face;               ///< with mesh and pose
  float eye_open[2] = {};  ///< image-left, image-right eye: lid gap / eye width
  float mouth_open = 0.f;  ///< inner-lip gap / inner mouth width
  float real = 0.f;        ///< passive anti-spoofing, 0 fake .. 1 real
};

struct LivenessRules {
  float eye_closed_max = 0.118f;    ///< both eyes at most this: closed (docs/ACCURACY.md, Liveness)
  float eye_open_min = 0.125f;      ///< both eyes at least this: open
  float mouth_closed_max = 0.10f;
  float mouth_open_min = 0.25f;
  float nod_min_degrees = 10.f;     ///< pitch change
  float shake_min_degrees = 15.f;   ///< yaw change
  float same_person_score = 70.f;   ///< calibrated score of the two faces (70 = FAR 1e-3)
  float min_real = 0.25f;           ///< anti-spoofing score below this: a spoof
};

struct LiveCheck {
  LiveAction action = LiveAction::kBlink;
  bool passed = false;
  std::string reason;  ///< "ok", or why the pair failed
};

/// The action test alone on two images' signals (no identity or spoof check).
LiveCheck check_action(LiveAction action, const LiveSignals& a, const LiveSignals& b, const LivenessRules& rules = {});

/// The whole test of one pair: exactly one face in each image (kNoFace / kMultipleFaces
/// otherwise), the same person, no spoof, and the action between the two images.
LiveCheck check_liveness(const Engine& engine, LiveAction action, const Image& a, const Image& b,
                         const LivenessRules& rules = {});

}  // namespace facekit
