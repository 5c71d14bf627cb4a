/* striate pooling kernels: 2-D max / average / global-average pooling over NCHW float32
 * planes, forward and backward, with PyTorch's semantics.  Pure C99; OpenMP inside. */
#ifndef STRIATE_POOL_H
#define STRIATE_POOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Geometry of one pooled plane.  The caller computes Ho, Wo with PyTorch's output-size rule
 * (floor or ceil mode; the last window starts inside the input or the left padding) and
 * checks pad <= kernel / 2: below that line the kernels trust it. */
typedef struct {
    int64_t H, W;    /* input plane */
    int64_t Ho, Wo;  /* output plane */
    int kh, kw;      /* window */
    int sh, sw;      /* stride */
    int ph, pw;      /* implicit padding, both sides */
    int dh, dw;      /* dilation (max pooling only; 1 for average pooling) */
} st_pool2d_geom;

/* Max pooling over P = N*C planes: x is P x H x W, y and idx are P x Ho x Wo.  idx holds the
 * flat index ih*W + iw of the chosen element inside its input plane.  Ties keep the first
 * element in window order (rows, then columns); a NaN is always taken (the last one wins);
 * padding is never chosen.  A window with no element inside the input (possible only with
 * dilation) yields -inf and index -1.  Returns ST_OK. */
int st_maxpool2d_f32(const st_pool2d_geom *g, int64_t P, const float *x, float *y,
                     int32_t *idx);

/* Gradient of max pooling: gx (P x H x W) = scatter-add of gy (P x Ho x Wo) at idx.  Indices
 * outside [0, H*W) are skipped (never written).  gx is overwritten.  Returns ST_OK. */
int st_maxpool2d_backward_f32(const st_pool2d_geom *g, int64_t P, const float *gy,
                              const int32_t *idx, float *gx);

/* Average pooling.  Divisor per window as PyTorch: divisor_override when nonzero, else the window
 * area clipped to the padded input (count_include_pad) or to the input (otherwise); a window
 * with no element inside the input gives 0.  divisor_override 0 means none.  Returns ST_OK. */
int st_avgpool2d_f32(const st_pool2d_geom *g, int64_t P, int count_include_pad,
                     int64_t divisor_override, const float *x, float *y);

/* Gradient of average pooling; gx (P x H x W) is overwritten.  Returns ST_OK. */
int st_avgpool2d_backward_f32(const st_pool2d_geom *g, int64_t P, int count_include_pad,
                              int64_t divisor_override, const float *gy, float *gx);

/* Global average pooling: y[p] = mean of plane p (HW elements) of x.  Returns ST_OK. */
int st_global_avgpool2d_f32(int64_t P, int64_t HW, const float *x, float *y);

/* Its gradient: gx[p, :] = gy[p] / HW.  Returns ST_OK. */
int st_global_avgpool2d_backward_f32(int64_t P, int64_t HW, const float *gy, float *gx);

#ifdef __cplusplus
}
#endif
#endif
