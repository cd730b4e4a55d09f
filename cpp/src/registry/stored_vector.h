#pragma once
// What the index stores for each feature, in one block per element of hnswlib's graph:
//
//   [float scale][int8 code x dim][half x dim]
//
// Search walks the graph on the int8 codes (1 KiB per 1,024-d face, read with the node's link
// list); the half floats behind them are read only to re-score the few candidates a search
// keeps. HNSW search over a million faces is bound by memory traffic (one random 2 KiB read
// costs ~500 ns on the reference machine, its arithmetic ~80 ns): walking on half the bytes is
// nearly twice as fast, and the re-score gives back the half floats' precision.
//
// The code is the feature divided by its largest magnitude and scaled to +-127 (one scale per
// feature); a cosine of codes is off by ~5e-4 at most for a 1,024-d feature, far less than
// what separates neighbours in the walk, and the final scores come from the halves.
#include <cstddef>
#include <cstdint>

#include "registry/half_vectors.h"

namespace facekit::registry {

struct StoredVector {
  explicit StoredVector(size_t dim) : dimension(dim) {}
  size_t dimension;
  /// Bytes of the searched part (scale + codes) and of the whole block.
  size_t code_bytes() const { return sizeof(float) + dimension; }
  size_t bytes() const { return code_bytes() + dimension * sizeof(Half); }
  static const Half* halves(const void* block, size_t dimension) {
    return reinterpret_cast<const Half*>(static_cast<const char*>(block) + sizeof(float) + dimension);
  }
  /// Writes the block for a unit-length feature of `dimension` floats.
  void encode(const float* feature, void* block) const;
};

/// hnswlib's distance signature over two blocks' codes: 1 - approximate cosine;
/// *static_cast<const size_t*>(dim) is the dimension.
using CodeDistance = float (*)(const void* a, const void* b, const void* dim);
/// AVX2 where the CPU has it (checked at run time), portable C++ elsewhere.
CodeDistance best_code_distance();
CodeDistance portable_code_distance();

}  // namespace facekit::registry
