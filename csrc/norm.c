/* Normalisation kernels: drivers, threading and the generic C path.
 *
 * Batch norm works on N x C x S tensors split into blocks of at most ST_NORM_BLOCK elements
 * of one (n, c) plane, visited in memory order by parallel tasks (a channel-major walk jumps
 * between planes C * S apart and ran several times slower).  Each block's mean and M2 come
 * from two passes over the block (in L1) into a workspace; a serial pass merges each
 * channel's blocks in double by Chan's formula, always in (n, block) order, so the statistics
 * do not depend on the thread count; a second parallel pass writes the output.  A channel
 * (or a layer-norm row) whose merged moments are not finite is summed again in double (see
 * moments_f64): rare, and free for the others, the blocks' passes unchanged.  The backward
 * works the same way with the sums of gy and gy * (x - mean).  An (N, C) input (S = 1) runs
 * on column chunks with double accumulators.  x may have a wider image stride than C x S (a
 * channel slice read in place, see bn_xoff); every other array is dense.
 * Layer norm runs one task per row; its weight/bias gradients are summed per fixed group of
 * rows into a workspace and the groups reduced in order.  Small problems run serially. */
#include <math.h>
#include <string.h>

#include "norm_isa.h"
#include "striate/norm.h"
#include "striate/runtime.h"

/* Elements below which a call stays on one thread; elements per elementwise task; blocks
 * below which the per-channel merge stays serial (one parallel region less); channels
 * per column chunk (S = 1); layer-norm gradient groups (at most) and rows per group (at
 * least); row tasks per thread. */
enum {
    ST_NORM_PAR_MIN = 32768,
    ST_NORM_CHUNK = 16384,
    ST_NORM_MERGE_PAR_MIN = 65536, /* statistics blocks below which the merge is serial */
    ST_NORM_COLS = 64,
    ST_LN_GROUPS = 64,
    ST_LN_GROUP_ROWS = 32,
    ST_NORM_TASKS_PER_THREAD = 8
};

#define ST_SFX generic
#include "norm_body.inc"

static const st_norm_ops *ops(void) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: return &st_norm_ops_avx512;
    case ST_ARCH_AVX2: return &st_norm_ops_avx2;
    default: return &st_norm_ops_generic;
    }
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* ---- moments ------------------------------------------------------------------------------ */

typedef struct {
    double n, mean, m2;
} st_moments;

/* Merge a block of nb values with mean mb and sum of squared deviations m2b (Chan et al.). */
static void moments_add(st_moments *a, double nb, double mb, double m2b) {
    const double n = a->n + nb, d = mb - a->mean;
    a->mean += d * (nb / n);
    a->m2 += m2b + d * d * (a->n * nb / n);
    a->n = n;
}

/* Mean and M2 in double of `planes` runs of len floats, stride apart (a batch-norm channel, a
 * layer-norm row), by two plain passes: the fallback for values whose float block sums
 * cannot hold them (see moments_fix).  A NaN or an infinity in x gives the mean float64
 * gives (NaN, or the infinity, NaN for both), and M2 NaN. */
__attribute__((cold, noinline)) static void moments_f64(const float *x, int64_t planes,
                                                       int64_t len, int64_t stride,
                                                       st_moments *mo) {
    double s = 0.0, q = 0.0;
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t i = 0; i < len; ++i) s += x[p * stride + i];
    const double n = (double)planes * (double)len, m = s / n;
    if (isfinite(m)) {
        for (int64_t p = 0; p < planes; ++p)
            for (int64_t i = 0; i < len; ++i) {
                const double d = (double)x[p * stride + i] - m;
                q += d * d;
            }
    } else {
        q = NAN;
    }
    mo->n = n;
    mo->mean = m;
    mo->m2 = q;
}

/* Moments merged from the float block sums, checked once: a NaN or an infinity in the
 * values, a float sum of finite values past FLT_MAX or a sum of squares past it (|x - m|
 * above 1.8e19 somewhere) leave the mean or M2 not finite (inf, or NaN from inf - inf), and
 * the values are then summed again in double.  The float sums gave var 0 and invstd
 * 1 / sqrt(eps) for a NaN (hiding it from the running statistics), a NaN mean for +inf, and
 * var inf, invstd 0 for one 1e20 among unit values, where the reference's are finite. */
static inline void moments_fix(st_moments *mo, const float *x, int64_t planes, int64_t len,
                               int64_t stride) {
    if (__builtin_expect(!(isfinite(mo->mean) && isfinite(mo->m2)), 0))
        moments_f64(x, planes, len, stride, mo);
}

/* Mean and M2 of one block by the corrected two-pass algorithm: a float sum gives a first
 * mean m, then the deviations from m (small, so summed accurately) give the residual
 * r = sum (x - m) and q = sum (x - m)^2: mean = m + r / len, M2 = q - r^2 / len. */
static void block_moments(const st_norm_ops *o, const float *x, int64_t len, double *mb,
                          double *m2b) {
    const float m = o->sum(x, len) / (float)len;
    float r, q;
    o->sqdev(x, len, m, &r, &q);
    const double m2 = (double)q - (double)r * (double)r / (double)len;
    *mb = (double)m + (double)r / (double)len;
    *m2b = m2 > 0.0 ? m2 : 0.0;
}

static void row_moments(const st_norm_ops *o, const float *x, int64_t M, double *mean,
                        double *m2) {
    st_moments mo = {0.0, 0.0, 0.0};
    if (M <= ST_NORM_BLOCK) {
        mo.n = (double)M;
        block_moments(o, x, M, &mo.mean, &mo.m2);
    } else {
        for (int64_t i = 0; i < M; i += ST_NORM_BLOCK) {
            const int64_t len = M - i < ST_NORM_BLOCK ? M - i : ST_NORM_BLOCK;
            double mb, m2b;
            block_moments(o, x + i, len, &mb, &m2b);
            moments_add(&mo, (double)len, mb, m2b);
        }
    }
    moments_fix(&mo, x, 1, M, M);
    *mean = mo.mean;
    *m2 = mo.m2;
}

/* ---- batch norm --------------------------------------------------------------------------- */

typedef struct {
    int64_t N, C, S, bps, xs; /* bps: blocks per plane; xs: x's image stride */
} st_bn_geom;

/* Blocks per dynamic-schedule chunk: about ST_NORM_CHUNK elements. */
static int64_t bn_chunk(int64_t S) {
    const int64_t len = S < ST_NORM_BLOCK ? S : ST_NORM_BLOCK;
    return (int64_t)ST_NORM_CHUNK / len + 1;
}

/* Offset and length of block t in memory order (t = (n * C + c) * bps + k). */
static int64_t bn_mblock(const st_bn_geom *g, int64_t t, int64_t *c, int64_t *len) {
    const int64_t p = t / g->bps, s0 = (t % g->bps) * ST_NORM_BLOCK;
    *c = p % g->C;
    *len = g->S - s0 < ST_NORM_BLOCK ? g->S - s0 : ST_NORM_BLOCK;
    return p * g->S + s0;
}

/* Offset in x of the element at offset `off` of a contiguous N x C x S tensor. */
static int64_t bn_xoff(const st_bn_geom *g, int64_t off) {
    const int64_t img = g->C * g->S;
    return g->xs == img ? off : (off / img) * g->xs + off % img;
}

/* Index in memory order of the j-th block of channel c (j = n * bps + k). */
static int64_t bn_mindex(const st_bn_geom *g, int64_t c, int64_t j) {
    return ((j / g->bps) * g->C + c) * g->bps + j % g->bps;
}

/* Scale of channel c's affine map, invstd * weight, from the float invstd the forward
 * returns: the backward of a fused ReLU recomputes the forward's pre-activation with it. */
static float bn_scale(const float *invstd, const float *weight, int64_t c) {
    return weight ? (float)((double)invstd[c] * (double)weight[c]) : invstd[c];
}

static void bn_finish(const st_moments *mo, int64_t c, const float *weight, const float *bias,
                      float eps, float *mean, float *invstd, float *var, float *a, float *b) {
    double v = mo->m2 / mo->n;
    v = v < 0.0 ? 0.0 : v; /* a NaN stays NaN (and so invstd) */
    const double is = 1.0 / sqrt(v + (double)eps);
    mean[c] = (float)mo->mean;
    invstd[c] = (float)is;
    if (var) var[c] = (float)v;
    *a = bn_scale(invstd, weight, c);
    *b = bias ? bias[c] : 0.f;
}

static void bn_cols_forward(int64_t N, int64_t C, const float *x, int64_t xs,
                            const float *weight, const float *bias, float eps, int relu,
                            float *y, float *mean, float *invstd, float *var) {
    const int64_t nch = ceil_div(C, ST_NORM_COLS);
#pragma omp parallel for schedule(dynamic) if (N * C > ST_NORM_PAR_MIN)
    for (int64_t t = 0; t < nch; ++t) {
        const int64_t c0 = t * ST_NORM_COLS, w = C - c0 < ST_NORM_COLS ? C - c0 : ST_NORM_COLS;
        double s[ST_NORM_COLS], q[ST_NORM_COLS];
        float m[ST_NORM_COLS], a[ST_NORM_COLS], b[ST_NORM_COLS];
        for (int64_t j = 0; j < w; ++j) s[j] = q[j] = 0.0;
        for (int64_t n = 0; n < N; ++n)
            for (int64_t j = 0; j < w; ++j) s[j] += x[n * xs + c0 + j];
        for (int64_t j = 0; j < w; ++j) s[j] /= (double)N;
        for (int64_t n = 0; n < N; ++n)
            for (int64_t j = 0; j < w; ++j) {
                const double d = x[n * xs + c0 + j] - s[j];
                q[j] += d * d;
            }
        for (int64_t j = 0; j < w; ++j) {
            const st_moments mo = {(double)N, s[j], q[j]};
            bn_finish(&mo, c0 + j, weight, bias, eps, mean, invstd, var, &a[j], &b[j]);
            m[j] = mean[c0 + j];
        }
        for (int64_t n = 0; n < N; ++n)
            for (int64_t j = 0; j < w; ++j) {
                const float v = bn_pre_generic(x[n * xs + c0 + j], m[j], a[j], b[j]);
                y[n * C + c0 + j] = relu && v < 0.f ? 0.f : v;
            }
    }
}

int st_batch_norm_train_f32(int64_t N, int64_t C, int64_t S, const float *x, int64_t xs,
                            const float *weight, const float *bias, float eps, int act,
                            float *y, float *mean, float *invstd, float *var) {
    const int relu = act == ST_ACT_RELU;
    if (S == 1) {
        bn_cols_forward(N, C, x, xs, weight, bias, eps, relu, y, mean, invstd, var);
        return ST_OK;
    }
    const st_norm_ops *o = ops();
    const st_bn_geom g = {N, C, S, ceil_div(S, ST_NORM_BLOCK), xs};
    const int64_t total = N * C * S;
    (void)total;
    /* Block-parallel statistics in memory order, serial merge per channel, block-parallel
     * output in memory order. */
    const int64_t T = C * N * g.bps, J = N * g.bps, bc = bn_chunk(S);
    (void)bc;
    double *part = (double *)st_workspace(ST_WS_AUX, (size_t)T * 2 * sizeof(double));
    float *ab = (float *)st_workspace(ST_WS_AUX2, (size_t)C * 2 * sizeof(float));
    if (!part || !ab) return ST_ENOMEM;
#pragma omp parallel for schedule(dynamic, bc) if (total > ST_NORM_PAR_MIN)
    for (int64_t t = 0; t < T; ++t) {
        int64_t c, len;
        const int64_t off = bn_mblock(&g, t, &c, &len);
        block_moments(o, x + bn_xoff(&g, off), len, &part[2 * t], &part[2 * t + 1]);
    }
#pragma omp parallel for schedule(static) if (T > ST_NORM_MERGE_PAR_MIN)
    for (int64_t c = 0; c < C; ++c) {
        st_moments mo = {0.0, 0.0, 0.0};
        for (int64_t j = 0; j < J; ++j) {
            const int64_t t = bn_mindex(&g, c, j);
            int64_t cc, len;
            bn_mblock(&g, t, &cc, &len);
            moments_add(&mo, (double)len, part[2 * t], part[2 * t + 1]);
        }
        moments_fix(&mo, x + c * S, N, S, xs); /* channel c of each image */
        bn_finish(&mo, c, weight, bias, eps, mean, invstd, var, &ab[2 * c], &ab[2 * c + 1]);
    }
#pragma omp parallel for schedule(dynamic, bc) if (total > ST_NORM_PAR_MIN)
    for (int64_t t = 0; t < T; ++t) {
        int64_t c, len;
        const int64_t off = bn_mblock(&g, t, &c, &len);
        o->affine(x + bn_xoff(&g, off), len, mean[c], ab[2 * c], ab[2 * c + 1], relu,
                  y + off);
    }
    return ST_OK;
}

int st_batch_norm_eval_f32(int64_t N, int64_t C, int64_t S, const float *x, int64_t xs,
                           const float *mean, const float *scale, const float *shift, int act,
                           float *y) {
    const st_norm_ops *o = ops();
    const int relu = act == ST_ACT_RELU;
    const int64_t total = N * C * S;
    (void)total;
    if (S == 1) {
        const int64_t rt = N / ((int64_t)ST_NORM_TASKS_PER_THREAD * st_get_num_threads()) + 1;
        (void)rt;
#pragma omp parallel for schedule(dynamic, rt) if (total > ST_NORM_PAR_MIN)
        for (int64_t n = 0; n < N; ++n)
            for (int64_t c = 0; c < C; ++c) {
                const float v = bn_pre_generic(x[n * xs + c], mean[c], scale[c], shift[c]);
                y[n * C + c] = relu && v < 0.f ? 0.f : v;
            }
        return ST_OK;
    }
    /* Blocks in memory order (channel-major order would jump between planes). */
    const st_bn_geom g = {N, C, S, ceil_div(S, ST_NORM_BLOCK), xs};
    const int64_t T = N * C * g.bps, bc = bn_chunk(S);
    (void)bc;
#pragma omp parallel for schedule(dynamic, bc) if (total > ST_NORM_PAR_MIN)
    for (int64_t t = 0; t < T; ++t) {
        int64_t c, len;
        const int64_t off = bn_mblock(&g, t, &c, &len);
        o->affine(x + bn_xoff(&g, off), len, mean[c], scale[c], shift[c], relu, y + off);
    }
    return ST_OK;
}

/* Per-channel gradient constants from the sums sg = sum gy and sgx = sum gy (x - mean). */
static void bn_bwd_finish(int64_t c, double M, double sg, double sgx, const float *weight,
                          const float *invstd, float *dweight, float *dbias, float *k) {
    const double is = invstd[c];
    if (dweight) dweight[c] = (float)(is * sgx);
    if (dbias) dbias[c] = (float)sg;
    const double A = is * (weight ? (double)weight[c] : 1.0);
    k[0] = (float)A;
    k[1] = (float)(-A * is * is * sgx / M);
    k[2] = (float)(-A * sg / M);
}

static void bn_cols_backward(int64_t N, int64_t C, const float *gy, const float *x,
                             int64_t xs, const float *weight, const float *bias,
                             const float *mean, const float *invstd, int relu, float *gx,
                             float *dweight, float *dbias) {
    const int64_t nch = ceil_div(C, ST_NORM_COLS);
#pragma omp parallel for schedule(dynamic) if (N * C > ST_NORM_PAR_MIN)
    for (int64_t t = 0; t < nch; ++t) {
        const int64_t c0 = t * ST_NORM_COLS, w = C - c0 < ST_NORM_COLS ? C - c0 : ST_NORM_COLS;
        double sg[ST_NORM_COLS], sgx[ST_NORM_COLS];
        float k[ST_NORM_COLS][3], pa[ST_NORM_COLS], pb[ST_NORM_COLS];
        for (int64_t j = 0; j < w; ++j) {
            sg[j] = sgx[j] = 0.0;
            pa[j] = bn_scale(invstd, weight, c0 + j);
            pb[j] = bias ? bias[c0 + j] : 0.f;
        }
        for (int64_t n = 0; n < N; ++n)
            for (int64_t j = 0; j < w; ++j) {
                const float g = bn_grad_generic(gy[n * C + c0 + j], x[n * xs + c0 + j],
                                                mean[c0 + j], pa[j], pb[j], relu);
                sg[j] += g;
                sgx[j] += (double)g * ((double)x[n * xs + c0 + j] - mean[c0 + j]);
            }
        for (int64_t j = 0; j < w; ++j)
            bn_bwd_finish(c0 + j, (double)N, sg[j], sgx[j], weight, invstd, dweight, dbias,
                          k[j]);
        if (gx)
            for (int64_t n = 0; n < N; ++n)
                for (int64_t j = 0; j < w; ++j)
                    gx[n * C + c0 + j] = k[j][0] * bn_grad_generic(gy[n * C + c0 + j],
                                                                   x[n * xs + c0 + j],
                                                                   mean[c0 + j], pa[j], pb[j],
                                                                   relu) +
                                         k[j][1] * (x[n * xs + c0 + j] - mean[c0 + j]) +
                                         k[j][2];
    }
}

int st_batch_norm_backward_f32(int64_t N, int64_t C, int64_t S, const float *gy,
                               const float *x, int64_t xs, const float *weight,
                               const float *bias, const float *mean, const float *invstd,
                               int act, float *gx, float *dweight, float *dbias) {
    const int relu = act == ST_ACT_RELU;
    if (S == 1) {
        bn_cols_backward(N, C, gy, x, xs, weight, bias, mean, invstd, relu, gx, dweight,
                         dbias);
        return ST_OK;
    }
    const st_norm_ops *o = ops();
    const st_bn_geom g = {N, C, S, ceil_div(S, ST_NORM_BLOCK), xs};
    const int64_t total = N * C * S;
    (void)total;
    const double M = (double)N * (double)S;
    const int64_t T = C * N * g.bps, J = N * g.bps, bc = bn_chunk(S);
    (void)bc;
    float *part = (float *)st_workspace(ST_WS_AUX, (size_t)T * 2 * sizeof(float));
    float *k = (float *)st_workspace(ST_WS_AUX2, (size_t)C * 3 * sizeof(float));
    if (!part || !k) return ST_ENOMEM;
#pragma omp parallel for schedule(dynamic, bc) if (total > ST_NORM_PAR_MIN)
    for (int64_t t = 0; t < T; ++t) {
        int64_t c, len;
        const int64_t off = bn_mblock(&g, t, &c, &len);
        o->dot(gy + off, x + bn_xoff(&g, off), len, mean[c], relu, bn_scale(invstd, weight, c),
               bias ? bias[c] : 0.f, &part[2 * t], &part[2 * t + 1]);
    }
#pragma omp parallel for schedule(static) if (T > ST_NORM_MERGE_PAR_MIN)
    for (int64_t c = 0; c < C; ++c) {
        double sg = 0.0, sgx = 0.0;
        for (int64_t j = 0; j < J; ++j) {
            const int64_t t = bn_mindex(&g, c, j);
            sg += part[2 * t];
            sgx += part[2 * t + 1];
        }
        bn_bwd_finish(c, M, sg, sgx, weight, invstd, dweight, dbias, &k[3 * c]);
    }
    if (!gx) return ST_OK;
#pragma omp parallel for schedule(dynamic, bc) if (total > ST_NORM_PAR_MIN)
    for (int64_t t = 0; t < T; ++t) {
        int64_t c, len;
        const int64_t off = bn_mblock(&g, t, &c, &len);
        o->lincomb(gy + off, x + bn_xoff(&g, off), len, k[3 * c], k[3 * c + 1], mean[c],
                   k[3 * c + 2], relu, bn_scale(invstd, weight, c), bias ? bias[c] : 0.f,
                   gx + off);
    }
    return ST_OK;
}

/* ---- layer norm --------------------------------------------------------------------------- */

int st_layer_norm_f32(int64_t R, int64_t M, const float *x, const float *weight,
                      const float *bias, float eps, float *y, float *mean, float *invstd) {
    const st_norm_ops *o = ops();
    const int64_t rt = R / ((int64_t)ST_NORM_TASKS_PER_THREAD * st_get_num_threads()) + 1;
    (void)rt;
#pragma omp parallel for schedule(dynamic, rt) if (R * M > ST_NORM_PAR_MIN)
    for (int64_t r = 0; r < R; ++r) {
        double m, m2;
        row_moments(o, x + r * M, M, &m, &m2);
        double v = m2 / (double)M;
        v = v < 0.0 ? 0.0 : v; /* a NaN stays NaN (and so invstd) */
        mean[r] = (float)m;
        invstd[r] = (float)(1.0 / sqrt(v + (double)eps));
        o->ln_apply(x + r * M, weight, bias, M, mean[r], invstd[r], y + r * M);
    }
    return ST_OK;
}

int st_layer_norm_backward_f32(int64_t R, int64_t M, const float *gy, const float *x,
                               const float *weight, const float *mean, const float *invstd,
                               float *gx, float *dweight, float *dbias) {
    const st_norm_ops *o = ops();
    int64_t G = ceil_div(R, ST_LN_GROUP_ROWS);
    G = G < ST_LN_GROUPS ? G : ST_LN_GROUPS;
    G = G > 0 ? G : 1;
    const int64_t rg = ceil_div(R, G);
    G = ceil_div(R, rg);
    const int sums = dweight || dbias;
    float *part = NULL;
    if (sums) {
        part = (float *)st_workspace(ST_WS_AUX, (size_t)G * 2 * (size_t)M * sizeof(float));
        if (!part) return ST_ENOMEM;
    }
#pragma omp parallel for schedule(dynamic) if (R * M > ST_NORM_PAR_MIN)
    for (int64_t gi = 0; gi < G; ++gi) {
        float *pw = sums ? part + gi * 2 * M : NULL, *pb = sums ? pw + M : NULL;
        if (sums) memset(pw, 0, (size_t)2 * (size_t)M * sizeof(float));
        const int64_t r1 = (gi + 1) * rg < R ? (gi + 1) * rg : R;
        for (int64_t r = gi * rg; r < r1; ++r) {
            const float *gr = gy + r * M, *xr = x + r * M;
            const float m = mean[r], s = invstd[r];
            float k1 = 0.f, k2 = 0.f;
            if (gx) {
                double c1 = 0.0, c2 = 0.0;
                for (int64_t i = 0; i < M; i += ST_NORM_BLOCK) {
                    const int64_t len = M - i < ST_NORM_BLOCK ? M - i : ST_NORM_BLOCK;
                    float a, b;
                    o->ln_sums(gr + i, xr + i, weight ? weight + i : NULL, len, m, &a, &b);
                    c1 += a;
                    c2 += b;
                }
                k1 = (float)(-(double)s * c1 / (double)M);
                k2 = (float)(-(double)s * s * c2 / (double)M);
            }
            o->ln_bwd(gr, xr, weight, M, m, s, k1, k2, gx ? gx + r * M : NULL,
                      dweight ? pw : NULL, dbias ? pb : NULL);
        }
    }
    if (sums) {
#pragma omp parallel for schedule(static) if (G * M > ST_NORM_PAR_MIN)
        for (int64_t j = 0; j < M; ++j) {
            double sw = 0.0, sb = 0.0;
            for (int64_t gi = 0; gi < G; ++gi) {
                sw += part[gi * 2 * M + j];
                sb += part[gi * 2 * M + M + j];
            }
            if (dweight) dweight[j] = (float)sw;
            if (dbias) dbias[j] = (float)sb;
        }
    }
    return ST_OK;
}

/* ---- elementwise -------------------------------------------------------------------------- */

#define ST_ELEMENTWISE(n, body)                                                              \
    do {                                                                                     \
        const int64_t nch_ = ceil_div((n), ST_NORM_CHUNK);                                   \
        _Pragma("omp parallel for schedule(dynamic) if ((n) > ST_NORM_PAR_MIN)")              \
        for (int64_t t_ = 0; t_ < nch_; ++t_) {                                              \
            const int64_t i0 = t_ * ST_NORM_CHUNK;                                           \
            const int64_t len = (n) - i0 < ST_NORM_CHUNK ? (n) - i0 : ST_NORM_CHUNK;         \
            body;                                                                            \
        }                                                                                    \
    } while (0)

int st_gelu_f32(int64_t n, const float *x, int approx, float *y) {
    const st_norm_ops *o = ops();
    ST_ELEMENTWISE(n, o->gelu(x + i0, len, approx, y + i0));
    return ST_OK;
}

int st_gelu_backward_f32(int64_t n, const float *x, const float *gy, int approx, float *gx) {
    const st_norm_ops *o = ops();
    ST_ELEMENTWISE(n, o->gelu_bwd(x + i0, gy + i0, len, approx, gx + i0));
    return ST_OK;
}

int st_silu_f32(int64_t n, const float *x, float *y) {
    const st_norm_ops *o = ops();
    ST_ELEMENTWISE(n, o->silu(x + i0, len, y + i0));
    return ST_OK;
}

int st_silu_backward_f32(int64_t n, const float *x, const float *gy, float *gx) {
    const st_norm_ops *o = ops();
    ST_ELEMENTWISE(n, o->silu_bwd(x + i0, gy + i0, len, gx + i0));
    return ST_OK;
}

int st_sigmoid_f32(int64_t n, const float *x, float *y) {
    const st_norm_ops *o = ops();
    ST_ELEMENTWISE(n, o->sigmoid(x + i0, len, y + i0));
    return ST_OK;
}
