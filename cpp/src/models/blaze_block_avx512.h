#pragma once
// BlazeFace's and FaceMesh's residual block row (blaze_block.cpp's block_row) with AVX-512,
// whose 16-float vectors double the multiply-adds an instruction (kernel_isa.h). Channels that
// are a multiple of 16 take the vectors as they come. BlazeFace's 24 go two pixels at a time:
// a pair is 48 floats, three vectors [p0 0..15], [p0 16..23 | p1 0..7], [p1 8..23]; in the
// pointwise product the middle one takes input channel k of both pixels from one 64-bit
// broadcast of the depthwise row, stored pixel-pair interleaved ([pair][k][2]), so an input
// channel costs three multiply-adds a pair where AVX2 takes six. The arithmetic is block_row's,
// in the same order: the same floats (zero taps past the row's ends are added where block_row
// skips them, which can flip the sign of a zero only).
//
// BlazeFace's first chain (seven 24-channel blocks at half the detector's input) is about half
// of the detector's time at a group photo's size.
#include "models/aligned_vector.h"
#include "models/kernel_isa.h"

namespace facekit::models {

/// One block's weights as the pair kernel reads them, each vector laid out for a pixel pair.
struct PairWeights24 {
  AlignedVector<float> dw;       // [9][48]: tap t of channel i % 24 at lane i
  AlignedVector<float> dw_bias;  // [48]
  AlignedVector<float> pw;       // [24][48]: input k: outputs 0..15, interleaved (16 + i, i), 8..23
  AlignedVector<float> pw_bias;  // [48], as the pointwise accumulators start
  AlignedVector<float> slope;    // [48] (empty: ReLU)
};

/// From block_row's packing: taps [9][24], pointwise [24 in][24 out], biases [24], slopes
/// [24] or nullptr (ReLU).
PairWeights24 pack_pairs24(const float* dw, const float* dw_bias, const float* pw, const float* pw_bias,
                           const float* slope);

/// One output row of the block: rows[0..2] are the input rows above, at and below it (rows of
/// zeros past the image), `residual` the input row added back. `scratch` holds at least
/// (width + 1) * 24 floats.
void block_row_pairs24(const float* const rows[3], const float* residual, float* out, int width, const PairWeights24& w,
                       float* scratch);

/// The same row for 16, 32, 48, 64, 96 or 128 channels (FaceMesh's blocks, BlazeFace's of 48
/// and 96) with 16-channel vectors, from block_row's packing as it is: taps [9][C], pointwise
/// [C in][C out], biases [C], slopes [C] or nullptr (ReLU). `scratch` holds width * C floats.
/// The arithmetic is block_row's, in the same order: the same floats.
void block_row_16_lanes(int channels, const float* const rows[3], const float* residual, float* out, int width,
                        const float* dw, const float* dw_bias, const float* pw, const float* pw_bias,
                        const float* slope, float* scratch);

/// BlazeFace's 24-channel ReLU block on planar rows: channel c of a row is `width` floats at
/// row + c * planar_stride(width) + kPlanarPad, with zeros in the kPlanarPad floats before and
/// up to the next channel after. A row of 16 pixels is one vector, so each pointwise weight
/// broadcast feeds several multiply-adds, where the pair layout's loads bound the pair kernel
/// (in cache, one block row 14-15 against 19 ns a pixel). The arithmetic is block_row's, in
/// the same order: the same floats. Taps [9][24], pointwise [24 in][24 out] and biases [24]
/// as block_row packs them; `scratch` holds planar_scratch_floats() floats.
constexpr int kPlanarPad = 16;
constexpr int planar_stride(int width) { return (width + 15) / 16 * 16 + 2 * kPlanarPad; }
int planar_scratch_floats();
void block_row_planar24(const float* const rows[3], const float* residual, float* out, int width, const float* dw,
                        const float* dw_bias, const float* pw, const float* pw_bias, float* scratch);
/// A channels-last row of 24 channels to a planar row (its padding left as it is: zeros) and
/// back.
void to_planar24(const float* channels_last, int width, float* planar);
void from_planar24(const float* planar, int width, float* channels_last);

}  // namespace facekit::models
