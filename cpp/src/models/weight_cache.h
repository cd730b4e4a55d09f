#pragma once
// Weights as a kernel reads them, made once per model instead of at every call. A detector call
// ran ~100 blocks (three forward passes), each repacking its weights on the calling thread while
// the team's other thread waited: ~1 ms of a 1024 px headshot's 30 (perf, 2026-12-03).

#include <ATen/ATen.h>
#include <c10/util/intrusive_ptr.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace facekit::models {

/// One weight tensor as it is now: the object, its data and the version of its contents (an
/// in-place change bumps it). An undefined tensor (an absent bias) is all null.
struct WeightState {
  const c10::TensorImpl* impl = nullptr;
  const void* data = nullptr;
  int64_t version = 0;
  bool operator==(const WeightState& o) const { return impl == o.impl && data == o.data && version == o.version; }
};

WeightState weight_state(const at::Tensor& t);
inline WeightState weight_state(const c10::optional<at::Tensor>& t) {
  return t && t->defined() ? weight_state(*t) : WeightState{};
}

/// Values made from sets of weight tensors (and a variant: which kernel path reads them), kept
/// while those tensors live. An entry holds weak references to its tensors, so no other tensor
/// can take their addresses while it lives; one whose tensors died is made again. Thread-safe.
/// At most kMaxEntries entries: a caller passing new tensors at every call (a test) empties it.
/// An inference tensor changed in place is not noticed (it keeps no version); a model's weights
/// do not change.
template <class V>
class WeightCache {
 public:
  static constexpr size_t kMaxEntries = 512;

  /// The value for `weights` (their states, in order) and `variant`, made by `make` on a miss.
  std::shared_ptr<const V> get(const std::vector<at::Tensor>& weights, int variant, const std::function<V()>& make) {
    std::vector<WeightState> key;
    key.reserve(weights.size());
    for (const at::Tensor& t : weights) key.push_back(weight_state(t));
    const c10::TensorImpl* first = key.empty() ? nullptr : key[0].impl;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto range = entries_.equal_range(first);
      for (auto it = range.first; it != range.second; ++it)
        if (it->second.variant == variant && it->second.key == key && alive(it->second)) return it->second.value;
    }
    auto value = std::make_shared<const V>(make());
    Entry e{variant, std::move(key), {}, value};
    for (const at::Tensor& t : weights)
      if (t.defined()) e.watch.emplace_back(t.getIntrusivePtr());
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.size() >= kMaxEntries) {
      for (auto it = entries_.begin(); it != entries_.end();)
        it = alive(it->second) ? std::next(it) : entries_.erase(it);
      if (entries_.size() >= kMaxEntries) entries_.clear();
    }
    entries_.emplace(first, std::move(e));
    return value;
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
  }

 private:
  using Watch = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;
  struct Entry {
    int variant;
    std::vector<WeightState> key;
    std::vector<Watch> watch;
    std::shared_ptr<const V> value;
  };
  static bool alive(const Entry& e) {
    for (const Watch& w : e.watch)
      if (w.expired()) return false;
    return true;
  }
  std::mutex mutex_;
  std::unordered_multimap<const c10::TensorImpl*, Entry> entries_;
};

}  // namespace facekit::models
