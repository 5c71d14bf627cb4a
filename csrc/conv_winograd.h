/* Internal: the Winograd F(4x4, 3x3) convolution path (conv_winograd.c), called by conv.c. */
#ifndef STRIATE_CONV_WINOGRAD_H
#define STRIATE_CONV_WINOGRAD_H

#include "striate/conv.h"

/* auto mode thresholds (see st_conv_use_winograd): C*K/(C+K)/tile waste and tiles per call,
 * the same for forward, backward-data and backward-weight.  Measured with the register-transpose
 * tile transforms (AVX-512 and AVX2, 1 and 2 threads): Winograd wins from a score of about 6
 * in all three directions (64x48->12 28x28 forward 8.2 -> 5.3 ms, 64x12->12 32x32 2.5 ->
 * 1.7 ms on AVX-512), is even or loses below it (64x8->16 28x28, score 5.3) and with fewer
 * than 16 tiles. */
#define ST_WINOGRAD_MIN_SCORE 6.0
#define ST_WINOGRAD_MIN_TILES 16
/* a chunk holds at least this many tiles (the GEMMs' column count), memory permitting */
#define ST_WINOGRAD_MIN_CHUNK_TILES 128

/* 3x3, stride 1, dilation 1, groups 1 */
int st_conv_winograd_applies(const st_conv_desc *d);
/* applies, and the mode (st_conv_set_winograd) and the shape choose it (any direction) */
int st_conv_use_winograd(const st_conv_desc *d);
int st_conv_winograd_forward(const st_conv_desc *d, const float *x, const float *w,
                             const float *bias, float *y);
int st_conv_winograd_backward_data(const st_conv_desc *d, const float *dy, const float *w,
                                   float *dx);
int st_conv_winograd_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                                     float *dw);

#endif
