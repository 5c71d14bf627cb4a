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

typedef struct {
    st_bias_run_fn bias_run;
    st_bias_vec_fn bias_vec;
    st_relu_bwd_fn relu_bwd;
    st_rowmax_fn rowmax;
    st_expsum_fn expsum;
    st_softmax_bwd_fn softmax_bwd;
} st_eltwise_ops;

extern const st_eltwise_ops st_eltwise_ops_generic;
extern const st_eltwise_ops st_eltwise_ops_avx2;
extern const st_eltwise_ops st_eltwise_ops_avx512;

#endif
