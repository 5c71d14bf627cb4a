/* striate elementwise and row-wise kernels: bias + activation, ReLU gradient, softmax,
 * log-softmax and softmax cross-entropy, float32.  Pure C99; OpenMP inside. */
#ifndef STRIATE_ELTWISE_H
#define STRIATE_ELTWISE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { ST_ACT_NONE = 0, ST_ACT_RELU = 1 };

/* y[n, c, s] = act(x[n, c, s] + bias[c]) for x of N x C x S (S = product of the spatial
 * sizes, 1 for a 2-D input).  bias may be NULL (no bias); y may equal x (in place).
 * Returns ST_OK. */
int st_bias_act_f32(int64_t N, int64_t C, int64_t S, const float *x, const float *bias,
                    int act, float *y);

/* gx[i] = gy[i] where y[i] > 0, else 0 (n elements).  gx may equal gy.  Returns ST_OK. */
int st_relu_backward_f32(int64_t n, const float *gy, const float *y, float *gx);

/* Row-wise softmax / log-softmax of an N x C matrix (numerically stable: the row maximum is
 * subtracted first).  y may equal x.  Returns ST_OK. */
int st_softmax_f32(int64_t N, int64_t C, const float *x, float *y);
int st_log_softmax_f32(int64_t N, int64_t C, const float *x, float *y);

/* Their gradients from the forward output y: softmax gx = y * (gy - sum(gy * y)),
 * log-softmax gx = gy - exp(y) * sum(gy) (sums over each row).  Returns ST_OK. */
int st_softmax_backward_f32(int64_t N, int64_t C, const float *y, const float *gy, float *gx);
int st_log_softmax_backward_f32(int64_t N, int64_t C, const float *y, const float *gy,
                                float *gx);

/* Softmax cross-entropy: prob = softmax(logits) (N x C) and loss[n] = logsumexp(logits[n])
 * - logits[n, target[n]].  Targets must lie in [0, C) (checked by the caller).
 * Returns ST_OK. */
int st_softmax_xent_f32(int64_t N, int64_t C, const float *logits, const int64_t *target,
                        float *loss, float *prob);

/* Its gradient: glogits[n, :] = (prob[n, :] - onehot(target[n])) * gloss[n].  glogits may
 * equal prob.  Returns ST_OK. */
int st_softmax_xent_backward_f32(int64_t N, int64_t C, const float *prob,
                                 const int64_t *target, const float *gloss, float *glogits);

#ifdef __cplusplus
}
#endif
#endif
