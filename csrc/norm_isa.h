/* Internal: per-ISA primitives of the normalisation family (not shipped).  The drivers in
 * norm.c split tensors into blocks of at most ST_NORM_BLOCK elements, call these on each block
 * and combine the per-block results in a fixed order, so results do not depend on the thread
 * count.  Every primitive handles any n >= 0 and reads only x[0..n). */
#ifndef STRIATE_NORM_ISA_H
#define STRIATE_NORM_ISA_H

#include <stdint.h>

/* Elements of one statistics block (a block is summed in float lanes, blocks are combined in
 * double). */
enum { ST_NORM_BLOCK = 4096 };

typedef struct {
    /* sum of x[i] */
    float (*sum)(const float *x, int64_t n);
    /* *r = sum (x[i] - m), *q = sum (x[i] - m)^2 (the corrected two-pass algorithm) */
    void (*sqdev)(const float *x, int64_t n, float m, float *r, float *q);
    /* *sg = sum g[i], *sgx = sum g[i] * (x[i] - m) with g = gy, or with relu g = gy where
     * (x[i] - m) * pa + pb > 0 and 0 elsewhere (the gradient through a ReLU after a batch
     * norm of scale pa and shift pb) */
    void (*dot)(const float *gy, const float *x, int64_t n, float m, int relu, float pa,
                float pb, float *sg, float *sgx);
    /* y[i] = (x[i] - m) * a + b, with relu max(that, 0) (NaN stays NaN) */
    void (*affine)(const float *x, int64_t n, float m, float a, float b, int relu, float *y);
    /* gx[i] = A * g[i] + B * (x[i] - m) + C, with g as in dot */
    void (*lincomb)(const float *gy, const float *x, int64_t n, float A, float B, float m,
                    float C, int relu, float pa, float pb, float *gx);
    /* Layer-norm row: y[i] = (x[i] - m) * s * w[i] + b[i] (w, b may be NULL). */
    void (*ln_apply)(const float *x, const float *w, const float *b, int64_t n, float m,
                     float s, float *y);
    /* Layer-norm row sums: *c1 = sum g[i], *c2 = sum g[i] * (x[i] - m) with g = gy * w
     * (w may be NULL). */
    void (*ln_sums)(const float *gy, const float *x, const float *w, int64_t n, float m,
                    float *c1, float *c2);
    /* Layer-norm row gradient: xh = (x - m) * s; gx = s * gy * w + k1 + k2 * xh (gx may be
     * NULL); when dw is not NULL, dw[i] += gy * xh and db[i] += gy (db may be NULL). */
    void (*ln_bwd)(const float *gy, const float *x, const float *w, int64_t n, float m,
                   float s, float k1, float k2, float *gx, float *dw, float *db);
    /* GELU, exact (approx = 0) or tanh form (approx = 1): y = gelu(x); its gradient
     * gx = gy * gelu'(x). */
    void (*gelu)(const float *x, int64_t n, int approx, float *y);
    void (*gelu_bwd)(const float *x, const float *gy, int64_t n, int approx, float *gx);
    /* SiLU x * sigmoid(x) and its gradient; sigmoid. */
    void (*silu)(const float *x, int64_t n, float *y);
    void (*silu_bwd)(const float *x, const float *gy, int64_t n, float *gx);
    void (*sigmoid)(const float *x, int64_t n, float *y);
} st_norm_ops;

extern const st_norm_ops st_norm_ops_generic;
extern const st_norm_ops st_norm_ops_avx2;
extern const st_norm_ops st_norm_ops_avx512;

#endif
