/* Internal: per-ISA primitives of the elementwise family (not shipped). */
#ifndef STRIATE_ELTWISE_ISA_H
#define STRIATE_ELTWISE_ISA_H

#include <stdint.h>

/* y[i] = act(x[i] + b), i < n (y may equal x). */
typedef void (*st_bias_run_fn)(const float *x, float b, int relu, float *y, int64_t n);
/* y[c] = act(x[c] + bias[c]) (bias may be NULL), c < n (y may equal x). */
typedef void (*st_bias_vec_fn)(const float *x, const float *bias, int relu, float *y,
                               int64_t n);
/* gx[i] = y[i] > 0 ? gy[i] : 0. */
typedef void (*st_relu_bwd_fn)(const float *gy, const float *y, float *gx, int64_t n);
/* Maximum of x[0..n) (n >= 1; NaN handling unspecified, callers see NaN through exp). */
typedef float (*st_rowmax_fn)(const float *x, int64_t n);
/* Returns sum of exp(x[i] - shift); also stores each term in y unless y is NULL. */
typedef float (*st_expsum_fn)(const float *x, float shift, float *y, int64_t n);
/* gx[i] = y[i] * (gy[i] - sum(gy * y)), i < n: softmax backward of one row; gx overlaps
 * neither y nor gy. */
typedef void (*st_softmax_bwd_fn)(const float *y, const float *gy, float *gx, int64_t n);

/* Philox4x32-10 (Salmon, Moraes, Dror and Shaw, SC 2011): multipliers and key increments. */
#define ST_PHILOX_M0 0xD2511F53u
#define ST_PHILOX_M1 0xCD9E8D57u
#define ST_PHILOX_W0 0x9E3779B9u
#define ST_PHILOX_W1 0xBB67AE85u

/* Dropout of elements [64 g0, 64 g1) of x[0..n) (see st_dropout_f32); keep[i] in {0, 1}. */
typedef void (*st_dropout_run_fn)(const float *x, int64_t n, int64_t g0, int64_t g1,
                                  uint32_t t24, float scale, uint32_t k0, uint32_t k1, float *y,
                                  uint8_t *keep);
/* gx[i] = gy[i] * (keep[i] ? scale : 0). */
typedef void (*st_dropout_bwd_fn)(const float *gy, const uint8_t *keep, float scale, float *gx,
                                  int64_t n);

typedef struct {
    st_bias_run_fn bias_run;
    st_bias_vec_fn bias_vec;
    st_relu_bwd_fn relu_bwd;
    st_rowmax_fn rowmax;
    st_expsum_fn expsum;
    st_softmax_bwd_fn softmax_bwd;
    st_dropout_run_fn dropout_run;
    st_dropout_bwd_fn dropout_bwd;
} st_eltwise_ops;

extern const st_eltwise_ops st_eltwise_ops_generic;
extern const st_eltwise_ops st_eltwise_ops_avx2;
extern const st_eltwise_ops st_eltwise_ops_avx512;

#endif
