#pragma once
// The detectors' first convolution (input_conv.h) with AVX-512: each output pixel's channels
// as 16-float vectors (BlazeFace's 24 as 16 + 8), eight pixels at a time, where AVX2 takes
// three 8-float vectors for 24 channels and four pixels. The taps in the AVX2 kernel's order:
// the same floats.
#include "models/kernel_isa.h"

namespace facekit::models {

/// The packed weights: the box of kernel taps not zero in every output channel (kw x kh from
/// column kx0), w [row][column][input channel][output channel], bias [output channel].
struct InputConvTaps {
  int stride, pad, kx0, kw, kh;
  const float* w;
  const float* bias;
};

/// Where output row `oy` reads the image: the box's first image row, its kernel rows inside
/// the image [ky_lo, ky_hi), and the output columns [first, end) whose taps all lie inside
/// the image row.
struct InputConvRowSpan {
  int iy_first, ky_lo, ky_hi, first, end;
};

InputConvRowSpan input_conv_row_span(const InputConvTaps& k, int height, int width, int oy, int out_width, int ky0);

/// Output row `oy` (ReLU applied) of a height x width x 3 image into `out` (out_width x
/// channels floats); channels 16, 24 or 32.
void input_conv_row_avx512(int channels, const float* image, int height, int width, int oy, int out_width,
                           const InputConvTaps& k, int ky0, float* out);

/// Floats of the scratch input_conv_planar_row24_avx512 needs for an image `width` wide.
int input_conv_planes_floats(int width);

/// The same output row (24 channels, stride 2) straight into a planar row as
/// block_row_planar24 reads it (blaze_block_avx512.h: channel c's out_width floats at
/// planar + c * planar_stride(out_width) + kPlanarPad; the lanes up to the next 16 stored as
/// zeros, the padding before left as it is). The box's image rows are first split by channel and
/// by column parity into `planes` (input_conv_planes_floats(width) floats, zeros outside the
/// image), so that 16 neighbouring outputs read each tap's inputs as one vector: each
/// output's taps in input_conv_row_avx512's order (a tap outside the image adds 0 x its
/// weight), the same floats.
void input_conv_planar_row24_avx512(const float* image, int height, int width, int oy, int out_width,
                                    const InputConvTaps& k, int ky0, float* planar, float* planes);

}  // namespace facekit::models
