#include "facekit/liveness.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "facekit/engine.h"

namespace facekit {

namespace {

enum class State { kOpen, kClosed, kUnclear };

State eye_state(const LiveSignals& s, const LivenessRules& r) {
  const float lo = std::min(s.eye_open[0], s.eye_open[1]), hi = std::max(s.eye_open[0], s.eye_open[1]);
  if (hi <= r.eye_closed_max) return State::kClosed;
  if (lo >= r.eye_open_min) return State::kOpen;
  return State::kUnclear;
}

State mouth_state(const LiveSignals& s, const LivenessRules& r) {
  if (s.mouth_open <= r.mouth_closed_max) return State::kClosed;
  if (s.mouth_open >= r.mouth_open_min) return State::kOpen;
  return State::kUnclear;
}

LiveCheck open_closed(LiveAction action, State a, State b, const char* part) {
  LiveCheck c{action, false, ""};
  if ((a == State::kOpen && b == State::kClosed) || (a == State::kClosed && b == State::kOpen)) {
    c.passed = true;
    c.reason = "ok";
  } else if (a == b && a != State::kUnclear) {
    c.reason = std::string(part) + (a == State::kOpen ? " open in both images" : " closed in both images");
  } else {
    c.reason = std::string(part) + " not clearly open in one image and closed in the other";
  }
  return c;
}

LiveCheck angle_change(LiveAction action, float a, float b, float min_degrees, const char* what) {
  LiveCheck c{action, false, "ok"};
  const float change = std::abs(a - b);
  if (change < min_degrees) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s changed %.1f degrees, less than %.0f", what, change, min_degrees);
    c.reason = buf;
  } else {
    c.passed = true;
  }
  return c;
}

}  // namespace

LiveCheck check_action(LiveAction action, const LiveSignals& a, const LiveSignals& b, const LivenessRules& r) {
  switch (action) {
    case LiveAction::kBlink: return open_closed(action, eye_state(a, r), eye_state(b, r), "eyes");
    case LiveAction::kMouth: return open_closed(action, mouth_state(a, r), mouth_state(b, r), "mouth");
    case LiveAction::kNod:
      return angle_change(action, a.face.quality.pitch, b.face.quality.pitch, r.nod_min_degrees, "pitch");
    case LiveAction::kShake:
      return angle_change(action, a.face.quality.yaw, b.face.quality.yaw, r.shake_min_degrees, "yaw");
  }
  return {action, false, "unknown action"};
}

LiveCheck check_liveness(const Engine& engine, LiveAction action, const Image& a, const Image& b,
                         const LivenessRules& rules) {
  const LiveSignals sa = engine.live_signals(a), sb = engine.live_signals(b);
  const auto features = engine.extract_batch({a, b}, {sa.face.landmarks, sb.face.landmarks});
  if (engine.score(features[0], features[1]) < rules.same_person_score)
    return {action, false, "the two images show different people"};
  for (int i = 0; i < 2; ++i)
    if ((i == 0 ? sa : sb).real < rules.min_real)
      return {action, false, "image " + std::to_string(i + 1) + " looks like a spoof (photo or screen)"};
  return check_action(action, sa, sb, rules);
}

}  // namespace facekit
