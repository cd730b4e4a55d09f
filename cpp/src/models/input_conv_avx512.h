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

}  // namespace facekit::models
