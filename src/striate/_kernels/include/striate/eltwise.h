/* striate elementwise and row-wise kernels: bias + activation, ReLU gradient, dropout (with
 * its Philox4x32-10 stream), softmax, log-softmax and softmax cross-entropy, float32.  Pure
 * C99; OpenMP inside. */
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

/* Philox4x32-10 (Salmon, Moraes, Dror and Shaw, SC 2011): the four output words of counter
 * ctr under key. */
void st_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Dropout with drop probability p in [0, 1]: keep[i] = 1 when u_i >= p, else 0, and
 * y[i] = x[i] * (keep[i] ? 1 / (1 - p) : 0) (y[i] = x[i] * 0 for p = 1; NaN and inf stay NaN
 * when dropped, as x * mask does).  u_i is the i-th uniform of the stream `seed`: element
 * i = 64 g + 16 w + l takes word w of Philox4x32-10 with counter (16 g + l as 64 bits, 0, 0)
 * and key (seed low 32 bits, seed high 32 bits), u = (word >> 8) / 2^24.  The same on every
 * ISA path and thread count.  y may equal x.  Returns ST_OK, or ST_EINVAL for p outside
 * [0, 1] (NaN included). */
int st_dropout_f32(int64_t n, const float *x, float p, uint64_t seed, float *y, uint8_t *keep);

/* Its gradient: gx[i] = gy[i] * (keep[i] ? 1 / (1 - p) : 0).  gx may equal gy.  Returns
 * ST_OK, or ST_EINVAL for p outside [0, 1]. */
int st_dropout_backward_f32(int64_t n, const float *gy, const uint8_t *keep, float p,
                            float *gx);

/* One Adam / AdamW step on n parameters in place, in float32 with the operations (and their
 * order) of striate.optim.Adam's NumPy formulas, so both give the same bits:
 *   d = (maximize ? -g : g) + w * wd       (wd: the L2 penalty; 0 for none or AdamW)
 *   m += (d - m) * c1                      (c1 = 1 - beta1)
 *   v = v * beta2 + (d * d) * c2           (c2 = 1 - beta2)
 *   vmax = max(vmax, v), v' = vmax         (AMSGrad, when vmax is not NULL; NaN propagates)
 *   w = w * shrink - m / (sqrt(v') + eps_hat) * step_size
 * where eps_hat = eps * sqrt(1 - beta2^t), step_size = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 * and shrink = 1 - lr * weight_decay for AdamW (1 otherwise).  Returns ST_OK. */
int st_adam_step_f32(int64_t n, float *w, const float *g, float *m, float *v, float *vmax,
                     float c1, float beta2, float c2, float eps_hat, float step_size, float wd,
                     float shrink, int maximize);

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
