/* 2-D convolution, NCHW float32: im2col + GEMM, the 1x1 fast path, col2im, batch-parallel
 * backward-weight with per-thread accumulators, and the driver of the direct depthwise
 * kernel (inner loops in conv_dw_impl.h, compiled per ISA).  See striate/conv.h. */
#include "striate/conv.h"

#include <stdlib.h>
#include <string.h>

#include "striate/gemm.h"
#include "striate/runtime.h"

#if STRIATE_OPENMP
#include <omp.h>
#endif

/* ---- depthwise inner loops: generic build here, ISA builds in conv_<isa>_dw.c ---------- */
#define DW_NAME(f) f##_generic
#include "conv_dw_impl.h"
#undef DW_NAME

#define DW_DECLARE(sfx)                                                                      \
    void st_dw_fwd_line_##sfx(float *, const float *, const int64_t *, const float *,       \
                              int64_t, int64_t, int64_t, float);                             \
    void st_dw_bwd_data_line_##sfx(float *, const float *, const int64_t *, const float *,  \
                                   int64_t, int64_t, int64_t);                               \
    void st_dw_bwd_weight_line_##sfx(float *, const float *, const float *, const int64_t *, \
                                     int64_t, int64_t, int64_t);
DW_DECLARE(avx2)
DW_DECLARE(avx512)

typedef struct {
    void (*fwd)(float *, const float *, const int64_t *, const float *, int64_t, int64_t,
                int64_t, float);
    void (*bwd_data)(float *, const float *, const int64_t *, const float *, int64_t, int64_t,
                     int64_t);
    void (*bwd_weight)(float *, const float *, const float *, const int64_t *, int64_t,
                       int64_t, int64_t);
} dw_kernels;

static const dw_kernels DW_TABLE[ST_ARCH_COUNT] = {
    {st_dw_fwd_line_generic, st_dw_bwd_data_line_generic, st_dw_bwd_weight_line_generic},
    {st_dw_fwd_line_avx2, st_dw_bwd_data_line_avx2, st_dw_bwd_weight_line_avx2},
    {st_dw_fwd_line_avx512, st_dw_bwd_data_line_avx512, st_dw_bwd_weight_line_avx512},
};

/* ---- chunk budget ---------------------------------------------------------------------- */

static size_t g_chunk_bytes = 0; /* 0: not yet read from the environment */

size_t st_conv_get_chunk_bytes(void) {
    if (g_chunk_bytes == 0) {
        const char *env = getenv("STRIATE_CONV_CHUNK_BYTES");
        long long v = env ? atoll(env) : 0;
        g_chunk_bytes = v > 0 ? (size_t)v : ST_CONV_DEFAULT_CHUNK_BYTES;
    }
    return g_chunk_bytes;
}

size_t st_conv_set_chunk_bytes(size_t bytes) {
    size_t old = st_conv_get_chunk_bytes();
    g_chunk_bytes = bytes ? bytes : ST_CONV_DEFAULT_CHUNK_BYTES;
    return old;
}

/* ---- helpers ------------------------------------------------------------------------- */

static int num_threads(void) { return st_get_num_threads(); }

static int thread_id(void) {
#if STRIATE_OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int team_size(void) {
#if STRIATE_OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Batch parallelism: each thread takes whole images. */
static int use_batch_parallel(const st_conv_desc *d) {
    int nt = num_threads();
    return nt > 1 && d->N >= nt;
}

static int is_1x1_direct(const st_conv_desc *d) {
    return d->R == 1 && d->S == 1 && d->stride_h == 1 && d->stride_w == 1 && d->pad_t == 0 &&
           d->pad_l == 0 && d->P == d->H && d->Q == d->W;
}

/* Depthwise: one input channel per group (groups == C), any channel multiplier K / C; this
 * includes single-channel inputs (C == groups == 1, e.g. a first layer on grey images). */
static int is_depthwise(const st_conv_desc *d) { return d->groups == d->C; }

typedef int (*gemm_fn)(int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                       const float *, int64_t, float, float *, int64_t);

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t floor_div(int64_t a, int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Output columns q (in [0, Q)) whose input column q*sw - pl + s*dw lies in [0, W). */
static void valid_q(const st_conv_desc *d, int64_t s, int64_t *lo, int64_t *hi) {
    int64_t off = s * d->dil_w - d->pad_l; /* w = q*sw + off */
    int64_t a = ceil_div(off < 0 ? -off : 0, d->stride_w);
    if (off >= 0) a = 0;
    int64_t b = floor_div(d->W - 1 - off, d->stride_w) + 1; /* exclusive */
    if (b > d->Q) b = d->Q;
    if (b < 0) b = 0;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* Tile width (output positions) of one column matrix of `rows` rows under the budget. */
static int64_t tile_width(const st_conv_desc *d, int64_t rows) {
    int64_t pq = d->P * d->Q;
    int64_t t = (int64_t)(st_conv_get_chunk_bytes() / (sizeof(float) * (size_t)rows));
    if (t < ST_CONV_MIN_TILE) t = ST_CONV_MIN_TILE;
    return t < pq ? t : pq;
}

/* col[row][j] for j in [0, T) = x(c, p*sh - pt + r*dh, q*sw - pl + s*dw), where
 * (p, q) = divmod(t0 + j, Q) and row = (c*R + r)*S + s, c in [0, Cg).  `par`: spread the
 * rows over the OpenMP team (the caller is not inside a parallel region). */
static void im2col_tile(const st_conv_desc *d, const float *x, int64_t Cg, int64_t t0,
                        int64_t T, float *col, int par) {
    const int64_t H = d->H, W = d->W, Q = d->Q, R = d->R, S = d->S;
    const int64_t rows = Cg * R * S;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t row = 0; row < rows; ++row) {
        const int64_t s = row % S, r = (row / S) % R, c = row / (R * S);
        const float *xc = x + c * H * W;
        float *dst = col + row * T;
        int64_t qlo, qhi;
        valid_q(d, s, &qlo, &qhi);
        const int64_t woff = s * d->dil_w - d->pad_l;
        int64_t t = t0, end = t0 + T;
        while (t < end) {
            const int64_t p = t / Q, q0 = t % Q;
            const int64_t q1 = (Q < q0 + (end - t)) ? Q : q0 + (end - t); /* exclusive */
            const int64_t h = p * d->stride_h - d->pad_t + r * d->dil_h;
            float *o = dst + (t - t0);
            if (h < 0 || h >= H) {
                memset(o, 0, sizeof(float) * (size_t)(q1 - q0));
            } else {
                const float *xr = xc + h * W + woff;
                int64_t a = qlo > q0 ? qlo : q0, b = qhi < q1 ? qhi : q1;
                if (a > b) a = b = q0 > b ? q0 : b;
                for (int64_t q = q0; q < a && q < q1; ++q) o[q - q0] = 0.f;
                if (d->stride_w == 1) {
                    if (b > a) memcpy(o + (a - q0), xr + a, sizeof(float) * (size_t)(b - a));
                } else {
                    const int64_t sw = d->stride_w;
                    for (int64_t q = a; q < b; ++q) o[q - q0] = xr[q * sw];
                }
                for (int64_t q = (b > q0 ? b : q0); q < q1; ++q) o[q - q0] = 0.f;
            }
            t += q1 - q0;
        }
    }
}

/* dx(c, h, w) += col[row][j], the adjoint of im2col_tile. */
static void col2im_tile(const st_conv_desc *d, const float *col, int64_t Cg, int64_t t0,
                        int64_t T, float *dx, int par) {
    const int64_t H = d->H, W = d->W, Q = d->Q, R = d->R, S = d->S;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t c = 0; c < Cg; ++c) {
        float *dxc = dx + c * H * W;
        for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s) {
                const float *src = col + ((c * R + r) * S + s) * T;
                int64_t qlo, qhi;
                valid_q(d, s, &qlo, &qhi);
                const int64_t woff = s * d->dil_w - d->pad_l;
                int64_t t = t0, end = t0 + T;
                while (t < end) {
                    const int64_t p = t / Q, q0 = t % Q;
                    const int64_t q1 = (Q < q0 + (end - t)) ? Q : q0 + (end - t);
                    const int64_t h = p * d->stride_h - d->pad_t + r * d->dil_h;
                    if (h >= 0 && h < H) {
                        float *xr = dxc + h * W + woff;
                        const float *i = src + (t - t0) - q0;
                        int64_t a = qlo > q0 ? qlo : q0, b = qhi < q1 ? qhi : q1;
                        if (d->stride_w == 1) {
                            for (int64_t q = a; q < b; ++q) xr[q] += i[q];
                        } else {
                            const int64_t sw = d->stride_w;
                            for (int64_t q = a; q < b; ++q) xr[q * sw] += i[q];
                        }
                    }
                    t += q1 - q0;
                }
            }
    }
}

/* ---- forward --------------------------------------------------------------------------- */

static void add_bias_rows(float *y, const float *bias, int64_t rows, int64_t ld, int64_t n) {
    for (int64_t k = 0; k < rows; ++k) {
        const float b = bias[k];
        float *yr = y + k * ld;
        for (int64_t j = 0; j < n; ++j) yr[j] += b;
    }
}

/* One image through im2col/1x1 + GEMM for every group.  col: workspace or NULL (1x1). */
static int forward_image(const st_conv_desc *d, const float *x, const float *w,
                         const float *bias, float *y, float *col, int64_t T, gemm_fn gemm,
                         int par) {
    const int64_t G = d->groups, Cg = d->C / G, Kg = d->K / G, pq = d->P * d->Q;
    const int64_t crs = Cg * d->R * d->S, hw = d->H * d->W;
    for (int64_t g = 0; g < G; ++g) {
        const float *xg = x + g * Cg * hw, *wg = w + g * Kg * crs;
        float *yg = y + g * Kg * pq;
        if (!col) {
            int st = gemm(0, 0, Kg, pq, Cg, 1.f, wg, crs, xg, hw, 0.f, yg, pq);
            if (st) return st;
            if (bias) add_bias_rows(yg, bias + g * Kg, Kg, pq, pq);
            continue;
        }
        for (int64_t t0 = 0; t0 < pq; t0 += T) {
            const int64_t tt = pq - t0 < T ? pq - t0 : T;
            im2col_tile(d, xg, Cg, t0, tt, col, par);
            int st = gemm(0, 0, Kg, tt, crs, 1.f, wg, crs, col, tt, 0.f, yg + t0, pq);
            if (st) return st;
            if (bias) add_bias_rows(yg + t0, bias + g * Kg, Kg, pq, tt);
        }
    }
    return ST_OK;
}

/* ---- depthwise ------------------------------------------------------------------------- */

/* Geometry of the padded planes of the direct depthwise kernel (see conv_dw_impl.h). */
typedef struct {
    int64_t L, Qp, rows_used, cols_used, xsize, n, taps, mult;
    int64_t off[64]; /* tap offsets when R*S <= 64; else the caller uses the GEMM path */
} dw_geom;

static int dw_geom_init(const st_conv_desc *d, dw_geom *g) {
    g->taps = d->R * d->S;
    if (g->taps > 64) return 0;
    g->mult = d->K / d->C;
    g->cols_used = (d->Q - 1) * d->stride_w + (d->S - 1) * d->dil_w + 1;
    g->rows_used = (d->P - 1) * d->stride_h + (d->R - 1) * d->dil_h + 1;
    g->L = ceil_div(g->cols_used, d->stride_w) * d->stride_w;
    g->Qp = d->stride_h * g->L / d->stride_w;
    g->xsize = d->P * d->stride_h * g->L + (d->R - 1) * d->dil_h * g->L +
               (d->S - 1) * d->dil_w + 1;
    if (g->xsize < g->rows_used * g->L) g->xsize = g->rows_used * g->L;
    g->n = (d->P - 1) * g->Qp + d->Q;
    for (int64_t r = 0; r < d->R; ++r)
        for (int64_t s = 0; s < d->S; ++s)
            g->off[r * d->S + s] = r * d->dil_h * g->L + s * d->dil_w;
    return 1;
}

/* Copy plane x (H x W) into the padded buffer xp (zeros outside stay as they were). */
static void dw_pad_plane(const st_conv_desc *d, const dw_geom *g, const float *x, float *xp) {
    int64_t wn = d->W;
    if (d->pad_l + wn > g->cols_used) wn = g->cols_used - d->pad_l;
    if (wn <= 0) return;
    for (int64_t h = 0; h < d->H; ++h) {
        int64_t hp = h + d->pad_t;
        if (hp >= g->rows_used) break;
        memcpy(xp + hp * g->L + d->pad_l, x + h * d->W, sizeof(float) * (size_t)wn);
    }
}

static int dw_forward(const st_conv_desc *d, const float *x, const float *w, const float *bias,
                      float *y) {
    dw_geom g;
    dw_geom_init(d, &g);
    const dw_kernels *kern = &DW_TABLE[st_arch_get()];
    const int64_t C = d->C, hw = d->H * d->W, pq = d->P * d->Q, planes = d->N * C;
    const size_t ws = sizeof(float) * (size_t)(g.xsize + d->P * g.Qp);
    int fail = 0;
#pragma omp parallel
    {
        float *xp = (float *)st_workspace(ST_WS_COL, ws);
        if (!xp) {
#pragma omp atomic write
            fail = 1;
        } else {
            float *yb = xp + g.xsize;
            memset(xp, 0, sizeof(float) * (size_t)g.xsize);
#pragma omp for schedule(static)
            for (int64_t pl = 0; pl < planes; ++pl) {
                const int64_t n = pl / C, c = pl % C;
                dw_pad_plane(d, &g, x + pl * hw, xp);
                for (int64_t m = 0; m < g.mult; ++m) {
                    const int64_t k = c * g.mult + m;
                    float *yk = y + (n * d->K + k) * pq;
                    float *dst = g.Qp == d->Q ? yk : yb;
                    kern->fwd(dst, xp, g.off, w + k * g.taps, g.taps, g.n, d->stride_w,
                              bias ? bias[k] : 0.f);
                    if (dst != yk)
                        for (int64_t p = 0; p < d->P; ++p)
                            memcpy(yk + p * d->Q, yb + p * g.Qp, sizeof(float) * (size_t)d->Q);
                }
            }
        }
    }
    return fail ? ST_ENOMEM : ST_OK;
}

/* Backward-data, stride 1: the gather form dxp[j] = sum_{m,t} w[c*mult+m][t] *
 * dyp_m[j - off[t]], i.e. the forward line kernel over the mult*taps taps of the channel's
 * dy planes laid out in one zero-margined buffer (region m at m*Z, data at m*Z + offmax).
 * Accumulates in registers instead of read-modify-write passes over dx. */
static int dw_backward_data_gather(const st_conv_desc *d, const dw_geom *g, const float *dy,
                                   const float *w, float *dx) {
    const dw_kernels *kern = &DW_TABLE[st_arch_get()];
    const int64_t C = d->C, hw = d->H * d->W, pq = d->P * d->Q, planes = d->N * C;
    const int64_t offmax = g->off[g->taps - 1], L = g->L;
    const int64_t Z = offmax + g->rows_used * L;
    const int64_t ntaps = g->mult * g->taps;
    int64_t h_end = d->pad_t + d->H < g->rows_used ? d->pad_t + d->H : g->rows_used;
    const int64_t j0 = d->pad_t * L, nj = h_end > d->pad_t ? (h_end - d->pad_t) * L : 0;
    const size_t ws = sizeof(float) * (size_t)(g->mult * Z + g->xsize);
    int fail = 0;
#pragma omp parallel
    {
        float *buf = (float *)st_workspace(ST_WS_COL, ws);
        int64_t *offs = (int64_t *)st_workspace(ST_WS_AUX, sizeof(int64_t) * (size_t)ntaps);
        if (!buf || !offs) {
#pragma omp atomic write
            fail = 1;
        } else {
            float *dxp = buf + g->mult * Z;
            memset(buf, 0, sizeof(float) * (size_t)(g->mult * Z));
            for (int64_t m = 0; m < g->mult; ++m)
                for (int64_t t = 0; t < g->taps; ++t)
                    offs[m * g->taps + t] = m * Z + offmax - g->off[t];
#pragma omp for schedule(static)
            for (int64_t pl = 0; pl < planes; ++pl) {
                const int64_t n = pl / C, c = pl % C;
                for (int64_t m = 0; m < g->mult; ++m) {
                    const float *dyk = dy + (n * d->K + c * g->mult + m) * pq;
                    float *dst = buf + m * Z + offmax;
                    if (L == d->Q) {
                        memcpy(dst, dyk, sizeof(float) * (size_t)pq);
                    } else {
                        for (int64_t p = 0; p < d->P; ++p)
                            memcpy(dst + p * L, dyk + p * d->Q, sizeof(float) * (size_t)d->Q);
                    }
                }
                if (nj > 0)
                    kern->fwd(dxp + j0, buf + j0, offs, w + c * ntaps, ntaps, nj, 1, 0.f);
                float *dxc = dx + pl * hw;
                for (int64_t h = 0; h < d->H; ++h) {
                    float *o = dxc + h * d->W;
                    const int64_t hp = h + d->pad_t;
                    if (hp >= g->rows_used) {
                        memset(o, 0, sizeof(float) * (size_t)d->W);
                        continue;
                    }
                    const float *src = dxp + hp * L + d->pad_l;
                    int64_t wn = g->cols_used - d->pad_l;
                    if (wn > d->W) wn = d->W;
                    if (wn < 0) wn = 0;
                    memcpy(o, src, sizeof(float) * (size_t)wn);
                    for (int64_t wq = wn; wq < d->W; ++wq) o[wq] = 0.f;
                }
            }
        }
    }
    return fail ? ST_ENOMEM : ST_OK;
}

static int dw_backward_data(const st_conv_desc *d, const float *dy, const float *w,
                            float *dx) {
    dw_geom g;
    dw_geom_init(d, &g);
    if (d->stride_h == 1 && d->stride_w == 1) return dw_backward_data_gather(d, &g, dy, w, dx);
    const dw_kernels *kern = &DW_TABLE[st_arch_get()];
    const int64_t C = d->C, hw = d->H * d->W, pq = d->P * d->Q, planes = d->N * C;
    const size_t ws = sizeof(float) * (size_t)(g.xsize + d->P * g.Qp);
    int fail = 0;
#pragma omp parallel
    {
        float *dxp = (float *)st_workspace(ST_WS_COL, ws);
        if (!dxp) {
#pragma omp atomic write
            fail = 1;
        } else {
            float *dyb = dxp + g.xsize;
            memset(dyb, 0, sizeof(float) * (size_t)(d->P * g.Qp));
#pragma omp for schedule(static)
            for (int64_t pl = 0; pl < planes; ++pl) {
                const int64_t n = pl / C, c = pl % C;
                memset(dxp, 0, sizeof(float) * (size_t)g.xsize);
                for (int64_t m = 0; m < g.mult; ++m) {
                    const int64_t k = c * g.mult + m;
                    const float *dyk = dy + (n * d->K + k) * pq;
                    if (g.Qp != d->Q) {
                        for (int64_t p = 0; p < d->P; ++p)
                            memcpy(dyb + p * g.Qp, dyk + p * d->Q, sizeof(float) * (size_t)d->Q);
                        dyk = dyb;
                    }
                    kern->bwd_data(dxp, dyk, g.off, w + k * g.taps, g.taps, g.n, d->stride_w);
                }
                float *dxc = dx + pl * hw;
                for (int64_t h = 0; h < d->H; ++h) {
                    float *o = dxc + h * d->W;
                    const int64_t hp = h + d->pad_t;
                    for (int64_t wq = 0; wq < d->W; ++wq) {
                        const int64_t wp = wq + d->pad_l;
                        o[wq] = (hp < g.rows_used && wp < g.cols_used) ? dxp[hp * g.L + wp]
                                                                        : 0.f;
                    }
                }
            }
        }
    }
    return fail ? ST_ENOMEM : ST_OK;
}

/* dw[k] = sum_n dot(dy[n,k], x[n,c]) per tap.  Parallel over channels (each x plane padded
 * once for its mult outputs) or, when there are few channels, over output channels. */
static int dw_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                              float *dw) {
    dw_geom g;
    dw_geom_init(d, &g);
    const dw_kernels *kern = &DW_TABLE[st_arch_get()];
    const int64_t C = d->C, hw = d->H * d->W, pq = d->P * d->Q;
    const size_t ws = sizeof(float) * (size_t)(g.xsize + d->P * g.Qp);
    const int by_k = C < 2 * (int64_t)num_threads() && g.mult > 1;
    const int64_t units = by_k ? d->K : C;
    int fail = 0;
    memset(dw, 0, sizeof(float) * (size_t)(d->K * g.taps));
#pragma omp parallel
    {
        float *xp = (float *)st_workspace(ST_WS_COL, ws);
        if (!xp) {
#pragma omp atomic write
            fail = 1;
        } else {
            float *dyb = xp + g.xsize;
            memset(xp, 0, sizeof(float) * (size_t)(g.xsize + d->P * g.Qp));
#pragma omp for schedule(static)
            for (int64_t u = 0; u < units; ++u) {
                const int64_t c = by_k ? u / g.mult : u;
                const int64_t m0 = by_k ? u % g.mult : 0, m1 = by_k ? m0 + 1 : g.mult;
                for (int64_t n = 0; n < d->N; ++n) {
                    dw_pad_plane(d, &g, x + (n * C + c) * hw, xp);
                    for (int64_t m = m0; m < m1; ++m) {
                        const int64_t k = c * g.mult + m;
                        const float *dyk = dy + (n * d->K + k) * pq;
                        if (g.Qp != d->Q) {
                            for (int64_t p = 0; p < d->P; ++p)
                                memcpy(dyb + p * g.Qp, dyk + p * d->Q,
                                       sizeof(float) * (size_t)d->Q);
                            dyk = dyb;
                        }
                        kern->bwd_weight(dw + k * g.taps, dyk, xp, g.off, g.taps, g.n,
                                         d->stride_w);
                    }
                }
            }
        }
    }
    return fail ? ST_ENOMEM : ST_OK;
}

/* ---- public entry points ---------------------------------------------------------------- */

static int use_dw(const st_conv_desc *d) {
    dw_geom g;
    return is_depthwise(d) && dw_geom_init(d, &g);
}

int st_conv2d_forward(const st_conv_desc *d, const float *x, const float *w, const float *bias,
                      float *y) {
    if (use_dw(d)) return dw_forward(d, x, w, bias, y);
    const int64_t G = d->groups, Cg = d->C / G, crs = Cg * d->R * d->S;
    const int64_t xs = d->C * d->H * d->W, ys = d->K * d->P * d->Q;
    const int direct = is_1x1_direct(d);
    const int64_t T = tile_width(d, crs);
    const size_t col_bytes = sizeof(float) * (size_t)(crs * T);
    if (use_batch_parallel(d)) {
        int fail = 0;
#pragma omp parallel
        {
            float *col = direct ? NULL : (float *)st_workspace(ST_WS_COL, col_bytes);
            if (!direct && !col) {
#pragma omp atomic write
                fail = 1;
            }
#pragma omp for schedule(static)
            for (int64_t n = 0; n < d->N; ++n) {
                if (!direct && !col) continue;
                int st = forward_image(d, x + n * xs, w, bias, y + n * ys, col, T,
                                       st_sgemm_serial, 0);
                if (st) {
#pragma omp atomic write
                    fail = 1;
                }
            }
        }
        return fail ? ST_ENOMEM : ST_OK;
    }
    float *col = direct ? NULL : (float *)st_workspace(ST_WS_COL, col_bytes);
    if (!direct && !col) return ST_ENOMEM;
    for (int64_t n = 0; n < d->N; ++n) {
        int st = forward_image(d, x + n * xs, w, bias, y + n * ys, col, T, st_sgemm, 1);
        if (st) return st;
    }
    return ST_OK;
}

/* dx of one image: per group, dcol = W[g]^T @ dY[g] (tile by tile) then col2im. */
static int backward_data_image(const st_conv_desc *d, const float *dy, const float *w,
                               float *dx, float *col, int64_t T, gemm_fn gemm, int par) {
    const int64_t G = d->groups, Cg = d->C / G, Kg = d->K / G, pq = d->P * d->Q;
    const int64_t crs = Cg * d->R * d->S, hw = d->H * d->W;
    if (col) memset(dx, 0, sizeof(float) * (size_t)(d->C * hw));
    for (int64_t g = 0; g < G; ++g) {
        const float *dyg = dy + g * Kg * pq, *wg = w + g * Kg * crs;
        float *dxg = dx + g * Cg * hw;
        if (!col) {
            int st = gemm(1, 0, Cg, hw, Kg, 1.f, wg, crs, dyg, pq, 0.f, dxg, hw);
            if (st) return st;
            continue;
        }
        for (int64_t t0 = 0; t0 < pq; t0 += T) {
            const int64_t tt = pq - t0 < T ? pq - t0 : T;
            int st = gemm(1, 0, crs, tt, Kg, 1.f, wg, crs, dyg + t0, pq, 0.f, col, tt);
            if (st) return st;
            col2im_tile(d, col, Cg, t0, tt, dxg, par);
        }
    }
    return ST_OK;
}

int st_conv2d_backward_data(const st_conv_desc *d, const float *dy, const float *w,
                            float *dx) {
    if (use_dw(d)) return dw_backward_data(d, dy, w, dx);
    const int64_t G = d->groups, Cg = d->C / G, crs = Cg * d->R * d->S;
    const int64_t xs = d->C * d->H * d->W, ys = d->K * d->P * d->Q;
    const int direct = is_1x1_direct(d);
    const int64_t T = tile_width(d, crs);
    const size_t col_bytes = sizeof(float) * (size_t)(crs * T);
    if (use_batch_parallel(d)) {
        int fail = 0;
#pragma omp parallel
        {
            float *col = direct ? NULL : (float *)st_workspace(ST_WS_COL, col_bytes);
            if (!direct && !col) {
#pragma omp atomic write
                fail = 1;
            }
#pragma omp for schedule(static)
            for (int64_t n = 0; n < d->N; ++n) {
                if (!direct && !col) continue;
                int st = backward_data_image(d, dy + n * ys, w, dx + n * xs, col, T,
                                             st_sgemm_serial, 0);
                if (st) {
#pragma omp atomic write
                    fail = 1;
                }
            }
        }
        return fail ? ST_ENOMEM : ST_OK;
    }
    float *col = direct ? NULL : (float *)st_workspace(ST_WS_COL, col_bytes);
    if (!direct && !col) return ST_ENOMEM;
    for (int64_t n = 0; n < d->N; ++n) {
        int st = backward_data_image(d, dy + n * ys, w, dx + n * xs, col, T, st_sgemm, 1);
        if (st) return st;
    }
    return ST_OK;
}

/* acc[g] (Kg x crs) += dY[g] @ col^T over the image's tiles; beta0 is the beta of the first
 * GEMM into acc (0 to overwrite). */
static int backward_weight_image(const st_conv_desc *d, const float *dy, const float *x,
                                 float *acc, float *col, int64_t T, gemm_fn gemm, int par,
                                 float beta0) {
    const int64_t G = d->groups, Cg = d->C / G, Kg = d->K / G, pq = d->P * d->Q;
    const int64_t crs = Cg * d->R * d->S, hw = d->H * d->W;
    for (int64_t g = 0; g < G; ++g) {
        const float *dyg = dy + g * Kg * pq, *xg = x + g * Cg * hw;
        float *ag = acc + g * Kg * crs;
        if (!col) {
            int st = gemm(0, 1, Kg, Cg, pq, 1.f, dyg, pq, xg, hw, beta0, ag, crs);
            if (st) return st;
            continue;
        }
        float beta = beta0;
        for (int64_t t0 = 0; t0 < pq; t0 += T) {
            const int64_t tt = pq - t0 < T ? pq - t0 : T;
            im2col_tile(d, xg, Cg, t0, tt, col, par);
            int st = gemm(0, 1, Kg, crs, tt, 1.f, dyg + t0, pq, col, tt, beta, ag, crs);
            if (st) return st;
            beta = 1.f;
        }
    }
    return ST_OK;
}

int st_conv2d_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                              float *dw) {
    if (use_dw(d)) return dw_backward_weight(d, dy, x, dw);
    const int64_t G = d->groups, Cg = d->C / G, crs = Cg * d->R * d->S;
    const int64_t xs = d->C * d->H * d->W, ys = d->K * d->P * d->Q;
    const int64_t wsize = d->K * crs;
    const int direct = is_1x1_direct(d);
    const int64_t T = tile_width(d, crs);
    const size_t col_bytes = sizeof(float) * (size_t)(crs * T);
    if (use_batch_parallel(d)) {
        int fail = 0;
        const int nt = num_threads();
        float **accs = (float **)st_workspace(ST_WS_AUX2, sizeof(float *) * (size_t)nt);
        if (!accs) return ST_ENOMEM;
        int team = 1;
#pragma omp parallel
        {
            const int tid = thread_id();
#pragma omp single
            team = team_size();
            float *col = direct ? NULL : (float *)st_workspace(ST_WS_COL, col_bytes);
            float *acc = (float *)st_workspace(ST_WS_AUX, sizeof(float) * (size_t)wsize);
            accs[tid] = acc;
            if ((!direct && !col) || !acc) {
#pragma omp atomic write
                fail = 1;
            } else {
                memset(acc, 0, sizeof(float) * (size_t)wsize);
            }
#pragma omp barrier
#pragma omp for schedule(static)
            for (int64_t n = 0; n < d->N; ++n) {
                if (fail) continue;
                int st = backward_weight_image(d, dy + n * ys, x + n * xs, acc, col, T,
                                               st_sgemm_serial, 0, 1.f);
                if (st) {
#pragma omp atomic write
                    fail = 1;
                }
            }
            /* implicit barrier; then reduce in a fixed thread order */
            if (!fail) {
#pragma omp for schedule(static)
                for (int64_t i = 0; i < wsize; ++i) {
                    float s = accs[0][i];
                    for (int t = 1; t < team; ++t) s += accs[t][i];
                    dw[i] = s;
                }
            }
        }
        return fail ? ST_ENOMEM : ST_OK;
    }
    float *col = direct ? NULL : (float *)st_workspace(ST_WS_COL, col_bytes);
    if (!direct && !col) return ST_ENOMEM;
    for (int64_t n = 0; n < d->N; ++n) {
        int st = backward_weight_image(d, dy + n * ys, x + n * xs, dw, col, T, st_sgemm, 1,
                                       n == 0 ? 0.f : 1.f);
        if (st) return st;
    }
    return ST_OK;
}

int st_conv2d_backward_bias(const st_conv_desc *d, const float *dy, float *db) {
    const int64_t K = d->K, pq = d->P * d->Q, N = d->N;
#pragma omp parallel for schedule(static) if (K * N * pq > 32768)
    for (int64_t k = 0; k < K; ++k) {
        double s = 0.0;
        for (int64_t n = 0; n < N; ++n) {
            const float *r = dy + (n * K + k) * pq;
            float part[16] = {0};
            int64_t i = 0;
            for (; i + 16 <= pq; i += 16)
                for (int j = 0; j < 16; ++j) part[j] += r[i + j];
            float t = 0.f;
            for (; i < pq; ++i) t += r[i];
            for (int j = 0; j < 16; ++j) t += part[j];
            s += t;
        }
        db[k] = (float)s;
    }
    return ST_OK;
}
