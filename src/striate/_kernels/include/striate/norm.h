/* striate normalisation and smooth-activation kernels, float32: batch norm (training and
 * evaluation forward, backward), layer norm over the last dimension (forward, backward), GELU
 * (exact and tanh forms), SiLU and sigmoid.  Pure C99; OpenMP inside.  Statistics are
 * accumulated in double over blocks in a fixed order: results do not depend on the thread
 * count. */
#ifndef STRIATE_NORM_H
#define STRIATE_NORM_H

#include <stdint.h>

#include "striate/eltwise.h" /* ST_ACT_NONE, ST_ACT_RELU */

#ifdef __cplusplus
extern "C" {
#endif

enum { ST_GELU_NONE = 0, ST_GELU_TANH_APPROX = 1 };

/* The batch-norm kernels read x as N images of C x S contiguous floats, image n at
 * x + n * xs (xs >= C * S; xs = C * S for a contiguous tensor, larger for a channel slice of a
 * wider tensor such as DenseNet's feature buffer).  Every other array is contiguous.
 *
 * Batch-norm training forward over x of N x C x S (S = product of the spatial sizes, 1 for an
 * (N, C) input): per channel the batch mean and biased variance over N * S values,
 * y = (x - mean) * invstd * weight[c] + bias[c] with invstd = 1 / sqrt(var + eps).  weight
 * and bias may be NULL (1 and 0); var (the biased variance, C values) may be NULL.  With
 * act = ST_ACT_RELU, y = max(that, 0) (a batch norm and the ReLU after it in one pass; NaN
 * stays NaN); ST_ACT_NONE: no activation.  Writes mean and invstd (C values each).
 * N * S >= 1.  Returns ST_OK or ST_ENOMEM. */
int st_batch_norm_train_f32(int64_t N, int64_t C, int64_t S, const float *x, int64_t xs,
                            const float *weight, const float *bias, float eps, int act,
                            float *y, float *mean, float *invstd, float *var);

/* Batch-norm evaluation forward: y = act((x - mean[c]) * scale[c] + shift[c]), act as
 * above.  Returns ST_OK. */
int st_batch_norm_eval_f32(int64_t N, int64_t C, int64_t S, const float *x, int64_t xs,
                           const float *mean, const float *scale, const float *shift, int act,
                           float *y);

/* Batch-norm training backward from the saved mean and invstd: with xhat = (x - mean) *
 * invstd and M = N * S, dweight[c] = sum(g * xhat), dbias[c] = sum(g) and
 * gx = invstd * w * (g - dbias / M - xhat * dweight / M), where g = gy, or with
 * act = ST_ACT_RELU (the forward ran with it and gy is the gradient of its output) g = gy
 * where the forward's output was positive and 0 elsewhere, from x, mean, invstd, weight and
 * bias (the forward's) without the output.  weight and bias may be NULL (1 and 0); any of
 * gx, dweight, dbias may be NULL (not computed).  Returns ST_OK or ST_ENOMEM. */
int st_batch_norm_backward_f32(int64_t N, int64_t C, int64_t S, const float *gy,
                               const float *x, int64_t xs, const float *weight,
                               const float *bias, const float *mean, const float *invstd,
                               int act, float *gx, float *dweight, float *dbias);

/* Layer norm over the last dimension of an R x M matrix: per row mean and biased variance,
 * y = (x - mean) * invstd * weight + bias (weight, bias: M values, may be NULL).  Writes mean
 * and invstd (R values each).  M >= 1.  Returns ST_OK. */
int st_layer_norm_f32(int64_t R, int64_t M, const float *x, const float *weight,
                      const float *bias, float eps, float *y, float *mean, float *invstd);

/* Layer-norm backward: with xhat = (x - mean) * invstd and g = gy * weight,
 * gx = invstd * (g - mean_row(g) - xhat * mean_row(g * xhat)), dweight = sum over rows of
 * gy * xhat, dbias = sum over rows of gy.  weight may be NULL (1); gx, dweight, dbias may be
 * NULL (not computed).  Returns ST_OK or ST_ENOMEM. */
int st_layer_norm_backward_f32(int64_t R, int64_t M, const float *gy, const float *x,
                               const float *weight, const float *mean, const float *invstd,
                               float *gx, float *dweight, float *dbias);

/* GELU over n elements: approx ST_GELU_NONE is x * Phi(x) (Phi the normal CDF, through erfc
 * so the negative tail keeps its relative accuracy: about 1e-6 relative for |x| <= 5, 1e-5
 * beyond), ST_GELU_TANH_APPROX is
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).  y may equal x.  Returns ST_OK. */
int st_gelu_f32(int64_t n, const float *x, int approx, float *y);
/* gx = gy * gelu'(x).  gx may equal gy.  Returns ST_OK. */
int st_gelu_backward_f32(int64_t n, const float *x, const float *gy, int approx, float *gx);

/* SiLU y = x * sigmoid(x), its gradient gx = gy * s * (1 + x (1 - s)), and sigmoid.
 * Outputs may equal inputs.  Returns ST_OK. */
int st_silu_f32(int64_t n, const float *x, float *y);
int st_silu_backward_f32(int64_t n, const float *x, const float *gy, float *gx);
int st_sigmoid_f32(int64_t n, const float *x, float *y);

#ifdef __cplusplus
}
#endif
#endif
