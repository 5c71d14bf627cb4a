/* 2-D convolution, NCHW float32: im2col + GEMM, the 1x1 fast path, col2im, batch-parallel
 * backward-weight with per-thread accumulators, and the driver of the direct depthwise
 * kernel (inner loops in conv_dw_impl.h, compiled per ISA).  See striate/conv.h. */
#include "striate/conv.h"

#include "conv_winograd.h"
#include "pool_isa.h"

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
                                     int64_t, int64_t, int64_t, int64_t, int64_t);
DW_DECLARE(avx2)
DW_DECLARE(avx512)

typedef struct {
    void (*fwd)(float *, const float *, const int64_t *, const float *, int64_t, int64_t,
                int64_t, float);
    void (*bwd_data)(float *, const float *, const int64_t *, const float *, int64_t, int64_t,
                     int64_t);
    void (*bwd_weight)(float *, const float *, const float *, const int64_t *, int64_t,
                       int64_t, int64_t, int64_t, int64_t);
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

/* col[row * ld + j] for j in [0, T) = x(c, p*sh - pt + r*dh, q*sw - pl + s*dw), where
 * (p, q) = divmod(t0 + j, Q) and row = (c*R + r)*S + s, c in [0, Cg).  `par`: spread the
 * rows over the OpenMP team (the caller is not inside a parallel region). */
void st_conv_im2col_avx512(const st_conv_desc *d, const float *x, int64_t t0, int64_t T,
                           float *col, int64_t ld, int64_t row0, int64_t row1);

void st_conv_strided2_copy_avx2(float *o, const float *x, int64_t n);

static void im2col_tile(const st_conv_desc *d, const float *x, int64_t Cg, int64_t t0,
                        int64_t T, float *col, int64_t ld, int par) {
    const int64_t H = d->H, W = d->W, Q = d->Q, R = d->R, S = d->S;
    const int64_t rows = Cg * R * S;
    /* AVX2: stride-2 row pieces de-interleaved from vectors (Zen 4, 1 thread, forward:
     * 3x3 s2 64x32->64 at 32x32 12-19 -> 10-14 ms, 1x1 s2 64x64->128 7.7-11 -> 5.0-6.1 ms) */
    const int avx2_s2 = st_arch_get() == ST_ARCH_AVX2 && d->stride_w == 2;
    if (st_arch_get() == ST_ARCH_AVX512) {
        /* masked-vector row copies (conv_avx512_direct.c), rows split over the team */
#pragma omp parallel if (par)
        {
            const int64_t nt = team_size(), id = thread_id();
            st_conv_im2col_avx512(d, x, t0, T, col, ld, rows * id / nt, rows * (id + 1) / nt);
        }
        return;
    }
#pragma omp parallel for schedule(static) if (par)
    for (int64_t row = 0; row < rows; ++row) {
        const int64_t s = row % S, r = (row / S) % R, c = row / (R * S);
        const float *xc = x + c * H * W;
        float *dst = col + row * ld;
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
                } else if (avx2_s2) {
                    if (b > a) st_conv_strided2_copy_avx2(o + (a - q0), xr + 2 * a, b - a);
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

/* dx(c, h, w) += col[row * ld + j], the adjoint of im2col_tile. */
void st_conv_col2im_chan_avx512(const st_conv_desc *d, const float *col, int64_t ld,
                                int64_t t0, int64_t T, float *dxc);

void st_conv_strided2_add_avx2(float *x, const float *v, int64_t n);

static void col2im_tile(const st_conv_desc *d, const float *col, int64_t ld, int64_t Cg,
                        int64_t t0, int64_t T, float *dx, int par) {
    const int64_t H = d->H, W = d->W, Q = d->Q, R = d->R, S = d->S;
    /* AVX2: stride-2 row pieces added through vectors, same bits (Zen 4, 1 thread,
     * backward-data: 3x3 s2 64x32->64 at 32x32 11.7-16.2 -> 10.2-11.7 ms) */
    const int avx2_s2 = st_arch_get() == ST_ARCH_AVX2 && d->stride_w == 2;
    /* masked vectors (conv_avx512_direct.c) where output rows hold at least a vector: for
     * shorter ones the scalar loop below costs less (Q = 4, 8: 3-6% less) */
    if (st_arch_get() == ST_ARCH_AVX512 && Q >= 16) {
#pragma omp parallel for schedule(static) if (par)
        for (int64_t c = 0; c < Cg; ++c)
            st_conv_col2im_chan_avx512(d, col + c * R * S * ld, ld, t0, T, dx + c * H * W);
        return;
    }
#pragma omp parallel for schedule(static) if (par)
    for (int64_t c = 0; c < Cg; ++c) {
        float *dxc = dx + c * H * W;
        for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s) {
                const float *src = col + ((c * R + r) * S + s) * ld;
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
                        } else if (avx2_s2) {
                            if (b > a) st_conv_strided2_add_avx2(xr + 2 * a, i + a, b - a);
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

/* ---- the GEMM path: plan, per-chunk operations, driver ------------------------------- */

typedef struct {
    int64_t G, Cg, Kg, crs, pq, hw, xs, ys;
    int direct;    /* 1x1, stride 1, unpadded: GEMM on the image itself */
    int batch_par; /* threads take whole chunks of images */
    int64_t nb;    /* images per chunk; > 1 only when whole column matrices fit the budget */
    int64_t T;     /* tile width inside one image (nb == 1) */
    size_t col_bytes, tmp_bytes;
} conv_plan;

static void plan_init(const st_conv_desc *d, conv_plan *pl) {
    const int nt = num_threads();
    pl->G = d->groups;
    pl->Cg = d->C / d->groups;
    pl->Kg = d->K / d->groups;
    pl->crs = pl->Cg * d->R * d->S;
    pl->pq = d->P * d->Q;
    pl->hw = d->H * d->W;
    pl->xs = d->C * pl->hw;
    pl->ys = d->K * pl->pq;
    pl->direct = is_1x1_direct(d);
    pl->batch_par = nt > 1 && d->N >= nt;
    pl->nb = 1;
    pl->T = pl->pq;
    pl->col_bytes = pl->tmp_bytes = 0;
    if (pl->direct) return;
    const size_t budget = st_conv_get_chunk_bytes();
    const size_t one = sizeof(float) * (size_t)(pl->crs * pl->pq);
    if (pl->pq < ST_CONV_TARGET_COLS && 2 * one <= budget && d->N > 1) {
        int64_t nb = ceil_div(ST_CONV_TARGET_COLS, pl->pq);
        int64_t fit = (int64_t)(budget / one);
        int64_t share = pl->batch_par ? d->N / nt : d->N;
        if (nb > fit) nb = fit;
        if (nb > share) nb = share;
        if (nb < 1) nb = 1;
        pl->nb = nb;
    }
    if (pl->nb > 1) {
        pl->col_bytes = one * (size_t)pl->nb;
        pl->tmp_bytes = sizeof(float) * (size_t)(pl->Kg * pl->pq * pl->nb);
    } else {
        pl->T = tile_width(d, pl->crs);
        pl->col_bytes = sizeof(float) * (size_t)(pl->crs * pl->T);
    }
}

typedef struct {
    const st_conv_desc *d;
    const conv_plan *pl;
    const float *a, *b, *bias; /* forward: x, w; bwd data: dy, w; bwd weight: dy, x */
    float *out;                /* y, dx, or dW */
} conv_args;

typedef int (*chunk_fn)(const conv_args *, int64_t n0, int64_t nb, float *col, float *tmp,
                        float *acc, float beta0, gemm_fn gemm, int par);

static void add_bias_rows(float *y, const float *bias, int64_t rows, int64_t ld, int64_t n) {
    for (int64_t k = 0; k < rows; ++k) {
        const float b = bias[k];
        float *yr = y + k * ld;
        for (int64_t j = 0; j < n; ++j) yr[j] += b;
    }
}

/* Forward of images [n0, n0 + nb). */
static int forward_chunk(const conv_args *A, int64_t n0, int64_t nb, float *col, float *tmp,
                         float *acc, float beta0, gemm_fn gemm, int par) {
    (void)acc;
    (void)beta0;
    const st_conv_desc *d = A->d;
    const conv_plan *pl = A->pl;
    const int64_t Cg = pl->Cg, Kg = pl->Kg, crs = pl->crs, pq = pl->pq, hw = pl->hw;
    const float *x = A->a + n0 * pl->xs, *bias = A->bias;
    float *y = A->out + n0 * pl->ys;
    for (int64_t g = 0; g < pl->G; ++g) {
        const float *wg = A->b + g * Kg * crs, *bg = bias ? bias + g * Kg : NULL;
        if (pl->direct) { /* Y[i] = W[g] @ X[i]: one batched GEMM, W packed once */
            float *yg = y + g * Kg * pq;
            int st = st_sgemm_batch(0, 0, Kg, pq, Cg, 1.f, wg, crs, 0, x + g * Cg * hw, hw,
                                    pl->xs, 0.f, yg, pq, pl->ys, nb);
            if (st) return st;
            if (bg) {
#pragma omp parallel for schedule(static) if (par && nb * Kg * pq > 65536)
                for (int64_t i = 0; i < nb; ++i) add_bias_rows(yg + i * pl->ys, bg, Kg, pq, pq);
            }
        } else if (pl->nb > 1) {
            const int64_t ld = nb * pq;
            for (int64_t i = 0; i < nb; ++i)
                im2col_tile(d, x + i * pl->xs + g * Cg * hw, Cg, 0, pq, col + i * pq, ld, par);
            int st = gemm(0, 0, Kg, ld, crs, 1.f, wg, crs, col, ld, 0.f, tmp, ld);
            if (st) return st;
            for (int64_t i = 0; i < nb; ++i)
                for (int64_t k = 0; k < Kg; ++k) {
                    float *yr = y + i * pl->ys + (g * Kg + k) * pq;
                    const float *src = tmp + k * ld + i * pq;
                    const float b = bg ? bg[k] : 0.f;
                    for (int64_t j = 0; j < pq; ++j) yr[j] = src[j] + b;
                }
        } else {
            float *yg = y + g * Kg * pq;
            const float *xg = x + g * Cg * hw;
            for (int64_t t0 = 0; t0 < pq; t0 += pl->T) {
                const int64_t tt = pq - t0 < pl->T ? pq - t0 : pl->T;
                im2col_tile(d, xg, Cg, t0, tt, col, tt, par);
                int st = gemm(0, 0, Kg, tt, crs, 1.f, wg, crs, col, tt, 0.f, yg + t0, pq);
                if (st) return st;
                if (bg) add_bias_rows(yg + t0, bg, Kg, pq, tt);
            }
        }
    }
    return ST_OK;
}

/* tmp[k * nb*pq + i*pq + j] = dy[n0 + i][g*Kg + k][j]: one group's output gradient of a
 * chunk of images as one matrix. */
static void gather_dy(const conv_plan *pl, const float *dy, int64_t g, int64_t nb,
                      float *tmp) {
    const int64_t ld = nb * pl->pq;
    for (int64_t k = 0; k < pl->Kg; ++k)
        for (int64_t i = 0; i < nb; ++i)
            memcpy(tmp + k * ld + i * pl->pq, dy + i * pl->ys + (g * pl->Kg + k) * pl->pq,
                   sizeof(float) * (size_t)pl->pq);
}

/* dx of images [n0, n0 + nb): dcol = W[g]^T @ dY[g], then col2im. */
static int backward_data_chunk(const conv_args *A, int64_t n0, int64_t nb, float *col,
                               float *tmp, float *acc, float beta0, gemm_fn gemm, int par) {
    (void)acc;
    (void)beta0;
    const st_conv_desc *d = A->d;
    const conv_plan *pl = A->pl;
    const int64_t Cg = pl->Cg, Kg = pl->Kg, crs = pl->crs, pq = pl->pq, hw = pl->hw;
    const float *dy = A->a + n0 * pl->ys;
    float *dx = A->out + n0 * pl->xs;
    if (!pl->direct) memset(dx, 0, sizeof(float) * (size_t)(nb * pl->xs));
    for (int64_t g = 0; g < pl->G; ++g) {
        const float *wg = A->b + g * Kg * crs;
        if (pl->direct) { /* dX[i] = W[g]^T @ dY[i]: one batched GEMM, W packed once */
            int st = st_sgemm_batch(1, 0, Cg, hw, Kg, 1.f, wg, crs, 0, dy + g * Kg * pq, pq,
                                    pl->ys, 0.f, dx + g * Cg * hw, hw, pl->xs, nb);
            if (st) return st;
        } else if (pl->nb > 1) {
            const int64_t ld = nb * pq;
            gather_dy(pl, dy, g, nb, tmp);
            int st = gemm(1, 0, crs, ld, Kg, 1.f, wg, crs, tmp, ld, 0.f, col, ld);
            if (st) return st;
            for (int64_t i = 0; i < nb; ++i)
                col2im_tile(d, col + i * pq, ld, Cg, 0, pq, dx + i * pl->xs + g * Cg * hw, par);
        } else {
            const float *dyg = dy + g * Kg * pq;
            float *dxg = dx + g * Cg * hw;
            for (int64_t t0 = 0; t0 < pq; t0 += pl->T) {
                const int64_t tt = pq - t0 < pl->T ? pq - t0 : pl->T;
                int st = gemm(1, 0, crs, tt, Kg, 1.f, wg, crs, dyg + t0, pq, 0.f, col, tt);
                if (st) return st;
                col2im_tile(d, col, tt, Cg, t0, tt, dxg, par);
            }
        }
    }
    return ST_OK;
}

/* accT[g] (crs x Kg) (+)= col @ dY[g]^T over images [n0, n0 + nb): dW transposed, so the
 * GEMM's long M dimension is (C/groups)*R*S rather than the few output channels; beta0 is
 * the beta of the first GEMM into acc (0 overwrites).  transpose_dw() restores dW. */
static int backward_weight_chunk(const conv_args *A, int64_t n0, int64_t nb, float *col,
                                 float *tmp, float *acc, float beta0, gemm_fn gemm, int par) {
    const st_conv_desc *d = A->d;
    const conv_plan *pl = A->pl;
    const int64_t Cg = pl->Cg, Kg = pl->Kg, crs = pl->crs, pq = pl->pq, hw = pl->hw;
    const float *dy = A->a + n0 * pl->ys, *x = A->b + n0 * pl->xs;
    for (int64_t g = 0; g < pl->G; ++g) {
        float *ag = acc + g * Kg * crs;
        float beta = beta0;
        if (pl->direct) { /* accT[g] = sum_i X[i] @ dY[i]^T: one summing batched GEMM */
            int st = st_sgemm_batch(0, 1, Cg, Kg, pq, 1.f, x + g * Cg * hw, hw, pl->xs,
                                    dy + g * Kg * pq, pq, pl->ys, beta, ag, Kg, 0, nb);
            if (st) return st;
        } else if (pl->nb > 1) {
            const int64_t ld = nb * pq;
            gather_dy(pl, dy, g, nb, tmp);
            for (int64_t i = 0; i < nb; ++i)
                im2col_tile(d, x + i * pl->xs + g * Cg * hw, Cg, 0, pq, col + i * pq, ld, par);
            int st = gemm(0, 1, crs, Kg, ld, 1.f, col, ld, tmp, ld, beta, ag, Kg);
            if (st) return st;
        } else {
            const float *dyg = dy + g * Kg * pq, *xg = x + g * Cg * hw;
            for (int64_t t0 = 0; t0 < pq; t0 += pl->T) {
                const int64_t tt = pq - t0 < pl->T ? pq - t0 : pl->T;
                im2col_tile(d, xg, Cg, t0, tt, col, tt, par);
                int st = gemm(0, 1, crs, Kg, tt, 1.f, col, tt, dyg + t0, pq, beta, ag, Kg);
                if (st) return st;
                beta = 1.f;
            }
        }
    }
    return ST_OK;
}

/* dw[g][k][j] = accT[g][j][k] for rows u = g*Kg + k in [u0, u1), in 16 x 16 blocks. */
static void transpose_dw(const conv_plan *pl, const float *accT, float *dw, int64_t u0,
                         int64_t u1) {
    const int64_t Kg = pl->Kg, crs = pl->crs;
    for (int64_t ub = u0; ub < u1; ub += 16) {
        const int64_t ue = ub + 16 < u1 ? ub + 16 : u1;
        for (int64_t jb = 0; jb < crs; jb += 16) {
            const int64_t je = jb + 16 < crs ? jb + 16 : crs;
            for (int64_t u = ub; u < ue; ++u) {
                const int64_t g = u / Kg, k = u % Kg;
                const float *src = accT + g * Kg * crs + k;
                float *dst = dw + u * crs;
                for (int64_t j = jb; j < je; ++j) dst[j] = src[j * Kg];
            }
        }
    }
}

/* Parts of the batch whose dW the 1x1 path sums separately (see run_chunks); fewer when
 * their partial sums would not fit the chunk budget. */
#define DIRECT_DW_PARTS 8

/* Run `op` over the batch in chunks of pl->nb images.  The 1x1 path (pl->direct) runs
 * batched GEMMs (st_sgemm_batch) over the whole batch, or over fixed parts of it for dW.
 * Batch-parallel: each thread takes
 * whole chunks (static schedule) with its own workspaces and single-threaded GEMMs; with
 * `reduce` (backward-weight), each thread accumulates dW^T into its own zeroed buffer (slot
 * ST_WS_AUX), the buffers are summed in thread order and transposed into A->out.  Otherwise
 * chunks run in order with the GEMM and im2col/col2im threaded inside (dW^T in the calling
 * thread's ST_WS_AUX, transposed at the end). */
static int run_chunks(const conv_args *A, chunk_fn op, int reduce) {
    const st_conv_desc *d = A->d;
    const conv_plan *pl = A->pl;
    const int64_t nchunks = ceil_div(d->N, pl->nb);
    const int64_t wsize = d->K * pl->crs;
    if (pl->direct) {
        /* 1x1, forward and backward-data: the whole batch at once, threads inside the
         * batched GEMMs.  Backward-weight: the batch is cut into a fixed number of parts
         * (whatever the thread count, so results do not depend on it), each summed by one
         * batched GEMM into its own dW^T partial; threads take parts as they come (one the OS
         * deschedules leaves the rest to the others), then the partials are added in order. */
        if (!reduce) return op(A, 0, d->N, NULL, NULL, NULL, 0.f, st_sgemm, 1);
        const int64_t fit = (int64_t)(st_conv_get_chunk_bytes() / (sizeof(float) * wsize));
        int64_t parts = d->N < DIRECT_DW_PARTS ? d->N : DIRECT_DW_PARTS;
        if (parts > fit) parts = fit > 1 ? fit : 1;
        if (parts == 1) { /* one sum, threads share dW inside the batched GEMM */
            float *acc = (float *)st_workspace(ST_WS_AUX, sizeof(float) * (size_t)wsize);
            if (!acc) return ST_ENOMEM;
            int st = op(A, 0, d->N, NULL, NULL, acc, 0.f, st_sgemm, 1);
            if (st) return st;
#pragma omp parallel for schedule(static) if (wsize > 65536)
            for (int64_t ub = 0; ub < d->K; ub += 16)
                transpose_dw(pl, acc, A->out, ub, ub + 16 < d->K ? ub + 16 : d->K);
            return ST_OK;
        }
        float *acc =
            (float *)st_workspace(ST_WS_AUX, sizeof(float) * (size_t)(parts * wsize));
        if (!acc) return ST_ENOMEM;
        int fail = 0;
#pragma omp parallel for schedule(dynamic, 1) if (num_threads() > 1)
        for (int64_t p = 0; p < parts; ++p) {
            const int64_t n0 = d->N * p / parts, n1 = d->N * (p + 1) / parts;
            if (op(A, n0, n1 - n0, NULL, NULL, acc + p * wsize, 0.f, st_sgemm, 0)) {
#pragma omp atomic write
                fail = 1;
            }
        }
        if (fail) return ST_ENOMEM;
        /* a few adds per weight: on the calling thread unless the weight is large (another
         * region means another wait for a thread the OS may have descheduled) */
#pragma omp parallel for schedule(static) if (parts * wsize > (1 << 20))
        for (int64_t i = 0; i < wsize; ++i) {
            float s = acc[i];
            for (int64_t p = 1; p < parts; ++p) s += acc[p * wsize + i];
            acc[i] = s;
        }
#pragma omp parallel for schedule(static) if (wsize > (1 << 18))
        for (int64_t ub = 0; ub < d->K; ub += 16)
            transpose_dw(pl, acc, A->out, ub, ub + 16 < d->K ? ub + 16 : d->K);
        return ST_OK;
    }
    if (!pl->batch_par) {
        float *col = pl->col_bytes ? (float *)st_workspace(ST_WS_COL, pl->col_bytes) : NULL;
        float *tmp = pl->tmp_bytes ? (float *)st_workspace(ST_WS_AUX2, pl->tmp_bytes) : NULL;
        float *acc = reduce ? (float *)st_workspace(ST_WS_AUX, sizeof(float) * (size_t)wsize)
                            : NULL;
        if ((pl->col_bytes && !col) || (pl->tmp_bytes && !tmp) || (reduce && !acc))
            return ST_ENOMEM;
        for (int64_t c = 0; c < nchunks; ++c) {
            const int64_t n0 = c * pl->nb, nb = d->N - n0 < pl->nb ? d->N - n0 : pl->nb;
            int st = op(A, n0, nb, col, tmp, acc, c == 0 ? 0.f : 1.f, st_sgemm, 1);
            if (st) return st;
        }
        if (reduce) {
            const int64_t rows = d->K;
#pragma omp parallel for schedule(static) if (wsize > 65536)
            for (int64_t ub = 0; ub < rows; ub += 16)
                transpose_dw(pl, acc, A->out, ub, ub + 16 < rows ? ub + 16 : rows);
        }
        return ST_OK;
    }
    const int nt = num_threads();
    float *accs[nt > 0 ? nt : 1]; /* each thread's dW accumulator (reduce) */
    int fail = 0, team = 1;
#pragma omp parallel
    {
        const int tid = thread_id();
#pragma omp single
        team = team_size();
        float *col = pl->col_bytes ? (float *)st_workspace(ST_WS_COL, pl->col_bytes) : NULL;
        float *tmp = pl->tmp_bytes ? (float *)st_workspace(ST_WS_AUX2, pl->tmp_bytes) : NULL;
        float *acc = NULL;
        int ok = !((pl->col_bytes && !col) || (pl->tmp_bytes && !tmp));
        if (reduce) {
            acc = (float *)st_workspace(ST_WS_AUX, sizeof(float) * (size_t)wsize);
            if (acc) memset(acc, 0, sizeof(float) * (size_t)wsize);
            else ok = 0;
            accs[tid] = acc;
        }
        if (!ok) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp barrier
#pragma omp for schedule(static)
        for (int64_t c = 0; c < nchunks; ++c) {
            if (fail) continue;
            const int64_t n0 = c * pl->nb, nb = d->N - n0 < pl->nb ? d->N - n0 : pl->nb;
            int st = op(A, n0, nb, col, tmp, acc, 1.f, st_sgemm_serial, 0);
            if (st) {
#pragma omp atomic write
                fail = 1;
            }
        }
        if (reduce && !fail) {
#pragma omp for schedule(static)
            for (int64_t i = 0; i < wsize; ++i) {
                float s = accs[0][i];
                for (int t = 1; t < team; ++t) s += accs[t][i];
                accs[0][i] = s;
            }
#pragma omp for schedule(static)
            for (int64_t ub = 0; ub < d->K; ub += 16)
                transpose_dw(pl, accs[0], A->out, ub, ub + 16 < d->K ? ub + 16 : d->K);
        }
    }
    return fail ? ST_ENOMEM : ST_OK;
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

/* dw[k] = sum_n dot(dy[n,k], x[n,c]) per tap.  Each thread takes a contiguous range of
 * output channels (so threads share the work even for a single input channel) and, per
 * image, pads each input plane its range touches once. */
static int dw_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                              float *dw) {
    dw_geom g;
    dw_geom_init(d, &g);
    const dw_kernels *kern = &DW_TABLE[st_arch_get()];
    const int64_t C = d->C, hw = d->H * d->W, pq = d->P * d->Q;
    const size_t ws = sizeof(float) * (size_t)(g.xsize + d->P * g.Qp);
    int fail = 0;
    memset(dw, 0, sizeof(float) * (size_t)(d->K * g.taps));
#pragma omp parallel
    {
        const int64_t team = team_size(), tid = thread_id();
        const int64_t k0 = d->K * tid / team, k1 = d->K * (tid + 1) / team;
        float *xp = (float *)st_workspace(ST_WS_COL, ws);
        if (!xp) {
#pragma omp atomic write
            fail = 1;
        } else if (k1 > k0) {
            float *dyb = xp + g.xsize;
            memset(xp, 0, sizeof(float) * (size_t)(g.xsize + d->P * g.Qp));
            for (int64_t n = 0; n < d->N; ++n) {
                int64_t padded = -1;
                for (int64_t k = k0; k < k1; ++k) {
                    const int64_t c = k / g.mult;
                    if (c != padded) {
                        dw_pad_plane(d, &g, x + (n * C + c) * hw, xp);
                        padded = c;
                    }
                    const float *dyk = dy + (n * d->K + k) * pq;
                    if (g.Qp != d->Q) {
                        for (int64_t p = 0; p < d->P; ++p)
                            memcpy(dyb + p * g.Qp, dyk + p * d->Q,
                                   sizeof(float) * (size_t)d->Q);
                        dyk = dyb;
                    }
                    kern->bwd_weight(dw + k * g.taps, dyk, xp, g.off, g.taps, g.n,
                                     d->stride_w, d->Q, g.Qp);
                }
            }
        }
    }
    return fail ? ST_ENOMEM : ST_OK;
}

/* ---- direct stride-1 convolution (AVX-512, AVX2) ---------------------------------------
 * Each input plane of an image and group is expanded into S column-shifted copies with the
 * output's row pitch: for the forward, plane s holds X(a, q) = x(a - pad_t, q + s*dil_w -
 * pad_l) for rows a < P + (R-1)*dil_h and q < Q (zeros outside the image), so output
 * (p, q), flattened as i = p*Q + q, reads copy s at i + r*dil_h*Q for every tap (r, s): the
 * block kernel then keeps 8 output channels x 48 positions (AVX-512; AVX2: 4 x 24, two
 * passes) in registers over the whole (c, r, s) reduction, with no padding columns computed.  Backward-data is the same
 * kernel over the dy planes (gather form: dx(h, w) = sum w[k][c][r][s] dy(h + pad_t - r*dil_h,
 * w + pad_l - s*dil_w)).  Per thread: one image-group's shifted planes (S x (C/groups or
 * K/groups) planes of (rows x width) floats), used only when they fit the chunk budget;
 * the packed weights (K*(C/groups)*R*S floats, rounded up to blocks of 8 channels) are
 * shared in the calling thread's ST_WS_AUX.  Used on the AVX-512 and AVX2 paths for stride-1
 * kernels other than 1x1 and depthwise (AVX2 against im2col + GEMM, Zen 4, 1 thread,
 * forward: 64x1->32 28x28 3x3 0.64-0.96 -> 0.40-0.57 ms, 64x6->16 14x14 5x5 1.2-1.7 ->
 * 0.45-0.63 ms, 32x3->64 32x32 3x3 1.7-2.3 -> 1.3-1.8 ms). */

#define DIRECT_OB 8
#define DIRECT_MIN_POSITIONS 256 /* output positions (all images) for the direct kernel */
typedef void (*direct_block_fn)(float *y, int64_t ldy, const float *src, int64_t cstride,
                                int64_t Cn, const int64_t *off, int64_t taps, const float *wp,
                                const float *bias, int64_t n);
void st_conv_direct_block_avx512(float *y, int64_t ldy, const float *src, int64_t cstride,
                                 int64_t Cn, const int64_t *off, int64_t taps, const float *wp,
                                 const float *bias, int64_t n);
void st_conv_direct_block_avx2(float *y, int64_t ldy, const float *src, int64_t cstride,
                               int64_t Cn, const int64_t *off, int64_t taps, const float *wp,
                               const float *bias, int64_t n);

/* The path's block kernel, NULL where it has none. */
static direct_block_fn direct_block_kernel(void) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: return st_conv_direct_block_avx512;
    case ST_ARCH_AVX2: return st_conv_direct_block_avx2;
    default: return NULL;
    }
}

static int64_t round16(int64_t v) { return (v + 15) & ~(int64_t)15; }

/* Geometry of the shifted planes (forward: rows = P + (R-1)*dh, width Q; backward-data:
 * rows = H + pad_t + a0 with a0 = max(0, (R-1)*dh - pad_t), width W). */
typedef struct {
    int64_t rows, width, a0, plane, cstride, n, taps;
    int64_t off[64];
} direct_geom;

static void direct_geom_init(const st_conv_desc *d, int backward, direct_geom *g) {
    g->taps = d->R * d->S;
    if (!backward) {
        g->a0 = 0;
        g->rows = d->P + (d->R - 1) * d->dil_h;
        g->width = d->Q;
        g->n = d->P * d->Q;
    } else {
        int64_t a0 = (d->R - 1) * d->dil_h - d->pad_t;
        g->a0 = a0 > 0 ? a0 : 0;
        g->rows = d->H + d->pad_t + g->a0;
        g->width = d->W;
        g->n = d->H * d->W;
    }
    g->plane = round16(g->rows * g->width);
    g->cstride = d->S * g->plane;
    for (int64_t r = 0; r < d->R; ++r)
        for (int64_t s = 0; s < d->S; ++s)
            g->off[r * d->S + s] =
                s * g->plane + (backward ? d->pad_t + g->a0 - r * d->dil_h : r * d->dil_h) *
                                   g->width;
}

static int use_direct(const st_conv_desc *d, int backward) {
    if (!direct_block_kernel()) return 0;
    if (d->stride_h != 1 || d->stride_w != 1 || is_1x1_direct(d)) return 0;
    if (is_depthwise(d) && d->groups > 1) return 0; /* single-channel input is fine here */
    const int64_t taps = d->R * d->S, Cg = d->C / d->groups, Kg = d->K / d->groups;
    if (taps > 64) return 0;
    const int64_t outs = backward ? Cg : Kg, ins = backward ? Kg : Cg;
    if (outs < DIRECT_OB || ins * taps < 4) return 0;
    direct_geom g;
    direct_geom_init(d, backward, &g);
    /* few output positions per weight: repacking the weights for the 8 x 48 register block
     * costs more than the block saves; im2col + GEMM packs them faster */
    if (d->N * g.n < DIRECT_MIN_POSITIONS) return 0;
    return sizeof(float) * (size_t)(ins * g.cstride) <= st_conv_get_chunk_bytes();
}

/* wp[((g*OBn + ob)*In + c)*taps + t][o] = weight feeding block output o from input c, tap t;
 * forward: out = k, in = c, weight w[g*Kg + k][c][t]; backward: out = c, in = k. */
static void direct_pack(const st_conv_desc *d, const float *w, int backward, float *wp) {
    const int64_t G = d->groups, Cg = d->C / G, Kg = d->K / G, taps = d->R * d->S;
    const int64_t outs = backward ? Cg : Kg, ins = backward ? Kg : Cg;
    const int64_t OBn = ceil_div(outs, DIRECT_OB), len = ins * taps;
#pragma omp parallel for schedule(static) if (G * OBn * ins * taps > 65536)
    for (int64_t u = 0; u < G * OBn; ++u) {
        const int64_t g = u / OBn, o0 = (u % OBn) * DIRECT_OB;
        const int64_t nv = outs - o0 < DIRECT_OB ? outs - o0 : DIRECT_OB;
        float *dst = wp + u * len * DIRECT_OB;
        if (!backward) { /* out k = o0 + o: its weights w[g*Kg + k][c][t] are one run of len */
            const float *src[DIRECT_OB];
            for (int64_t o = 0; o < nv; ++o) src[o] = w + (g * Kg + o0 + o) * len;
            for (int64_t ct = 0; ct < len; ++ct) {
                float *row = dst + ct * DIRECT_OB;
                for (int64_t o = 0; o < nv; ++o) row[o] = src[o][ct];
                for (int64_t o = nv; o < DIRECT_OB; ++o) row[o] = 0.f;
            }
        } else { /* in k, out c = o0 + o: w[g*Kg + k][o0 + o][t], an nv x taps block per k */
            for (int64_t k = 0; k < ins; ++k) {
                const float *src = w + ((g * Kg + k) * Cg + o0) * taps;
                float *blk = dst + k * taps * DIRECT_OB;
                for (int64_t t = 0; t < taps; ++t) {
                    float *row = blk + t * DIRECT_OB;
                    for (int64_t o = 0; o < nv; ++o) row[o] = src[o * taps + t];
                    for (int64_t o = nv; o < DIRECT_OB; ++o) row[o] = 0.f;
                }
            }
        }
    }
}

/* The S shifted copies of one source plane (H_src x W_src, the image x for the forward, a
 * dy plane for backward-data): dst[s][a][j] = src(a - row0, j + col0 - s*sgn*dil_w). */
static void direct_shift_plane(const st_conv_desc *d, const direct_geom *g, const float *src,
                               int64_t hs, int64_t ws, int64_t row0, int64_t col0,
                               int64_t sgn, float *dst) {
    for (int64_t s = 0; s < d->S; ++s) {
        const int64_t shift = col0 + sgn * s * d->dil_w; /* source column of j = 0 */
        int64_t lo = -shift, hi = ws - shift;            /* valid j: [lo, hi) */
        if (lo < 0) lo = 0;
        if (hi > g->width) hi = g->width;
        if (hi < lo) hi = lo;
        float *plane = dst + s * g->plane;
        for (int64_t a = 0; a < g->rows; ++a) {
            float *row = plane + a * g->width;
            const int64_t h = a - row0;
            if (h < 0 || h >= hs || hi == lo) {
                memset(row, 0, sizeof(float) * (size_t)g->width);
                continue;
            }
            for (int64_t j = 0; j < lo; ++j) row[j] = 0.f;
            memcpy(row + lo, src + h * ws + lo + shift, sizeof(float) * (size_t)(hi - lo));
            for (int64_t j = hi; j < g->width; ++j) row[j] = 0.f;
        }
    }
}

/* Forward (backward = 0) or backward-data (backward = 1) on the direct kernel. */
static int direct_run(const st_conv_desc *d, const float *in, const float *w, const float *bias,
                      float *out, int backward) {
    direct_geom g;
    direct_geom_init(d, backward, &g);
    const int64_t G = d->groups, Cg = d->C / G, Kg = d->K / G, taps = g.taps;
    const int64_t ins = backward ? Kg : Cg, outs = backward ? Cg : Kg;
    const int64_t in_ch = backward ? d->K : d->C, out_ch = backward ? d->C : d->K;
    const int64_t hs = backward ? d->P : d->H, ws = backward ? d->Q : d->W;
    const int64_t row0 = backward ? g.a0 : d->pad_t;
    const int64_t col0 = backward ? d->pad_l : -d->pad_l, sgn = backward ? -1 : 1;
    const int64_t OBn = ceil_div(outs, DIRECT_OB), units = d->N * G * OBn;
    float *wp = (float *)st_workspace(ST_WS_AUX, sizeof(float) * (size_t)(G * OBn * ins *
                                                                          taps * DIRECT_OB));
    if (!wp) return ST_ENOMEM;
    direct_pack(d, w, backward, wp);
    const direct_block_fn block = direct_block_kernel();
    const size_t wsb = sizeof(float) * (size_t)(ins * g.cstride + DIRECT_OB * g.n);
    int fail = 0;
#pragma omp parallel
    {
        float *planes = (float *)st_workspace(ST_WS_COL, wsb);
        if (!planes) {
#pragma omp atomic write
            fail = 1;
        } else {
            float *tmp = planes + ins * g.cstride;
            int64_t last = -1;
#pragma omp for schedule(static)
            for (int64_t u = 0; u < units; ++u) {
                const int64_t n = u / (G * OBn), gi = (u / OBn) % G, ob = u % OBn;
                if (n * G + gi != last) {
                    for (int64_t c = 0; c < ins; ++c)
                        direct_shift_plane(d, &g, in + (n * in_ch + gi * ins + c) * hs * ws,
                                           hs, ws, row0, col0, sgn, planes + c * g.cstride);
                    last = n * G + gi;
                }
                const int64_t o0 = ob * DIRECT_OB;
                const int64_t nvalid = outs - o0 < DIRECT_OB ? outs - o0 : DIRECT_OB;
                float b8[DIRECT_OB] = {0};
                if (bias)
                    for (int64_t o = 0; o < nvalid; ++o) b8[o] = bias[gi * Kg + o0 + o];
                float *dst = out + (n * out_ch + gi * outs + o0) * g.n;
                block(nvalid == DIRECT_OB ? dst : tmp, g.n, planes, g.cstride, ins, g.off, taps,
                      wp + (gi * OBn + ob) * ins * taps * DIRECT_OB, b8, g.n);
                if (nvalid < DIRECT_OB)
                    memcpy(dst, tmp, sizeof(float) * (size_t)(nvalid * g.n));
            }
        }
    }
    return fail ? ST_ENOMEM : ST_OK;
}

/* ---- direct rows for few outputs (AVX-512, AVX2) ----------------------------------------
 * Stride-1 kernels of 3, 5 or 7 rows (unit row dilation) with fewer than DIRECT_OB outputs
 * per group would leave the direct block kernel's 8 output channels mostly empty, and on the
 * GEMM path they are a product with very few rows (3 for a layer down to 3 channels, 9 for
 * the input gradient of a grey 3x3 first layer) behind im2col or a gather and a packing pass
 * over dy and a col2im pass. Here each output plane is summed straight from the input planes, a
 * few rows at a time in registers (conv_rowdirect_impl.h): the input gradient that saliency
 * maps and the other input attributions need, and layers that end in 1-4 channels (a
 * generator's image, a segmentation map). Against the GEMM path in one process, Zen 4, 1 / 2
 * threads, two runs: backward-data of a grey first layer 64x1->32 28x28 0.66-0.87 -> 0.67-0.77
 * / 0.33-0.42 -> 0.29-0.39 ms warm, 1.40-1.49 -> 1.26-1.27 ms (1 thread) with cold caches; of
 * an RGB one 64x3->64 32x32 5.2-5.6 -> 4.4-4.5 / 2.6-3.0 -> 2.0-2.5 ms, at 224x224 (batch 8, 16
 * outputs) 11.3-12.6 -> 10.3-10.6 / 8.4 -> 5.9-6.2 ms; forward 32x64->3 32x32 8.2-12.5 ->
 * 2.0-2.2 / 6.0-6.2 -> 1.0-1.1 ms, 16x32->1 64x64 7.4 -> 1.2 / 3.9 -> 0.36 ms, 64x64->4 7x7 1.6
 * -> 0.40 / 0.87 -> 0.21 ms; 1 thread, AVX-512 / AVX2: CBAM's 7x7 2 -> 1 spatial attention
 * 64x2x32x32 forward 1.52 -> 0.13 / 1.61 -> 0.20 ms, backward-data 1.98 -> 0.14 / 3.2 -> 0.25
 * ms; LeNet-5's 5x5 64x1->6 28x28 forward 0.47 -> 0.20 / 0.63 -> 0.41 ms.
 * Backward-data on planes narrower than half a vector keeps the GEMM path (64x4->64 7x7:
 * measured no better). */
typedef void (*rowdirect_fn)(const float *in, int64_t Hin, int64_t Win, int64_t cstride,
                             int64_t Cn, const float *wp, int64_t R, int64_t S, int64_t r0,
                             const int64_t *coff, float bias, float *out, int64_t W,
                             int64_t h0, int64_t h1, const float *next, int64_t next_len);
void st_conv_rowdirect_avx512(const float *in, int64_t Hin, int64_t Win, int64_t cstride,
                              int64_t Cn, const float *wp, int64_t R, int64_t S, int64_t r0,
                              const int64_t *coff, float bias, float *out, int64_t W,
                              int64_t h0, int64_t h1, const float *next, int64_t next_len);
void st_conv_rowdirect_avx2(const float *in, int64_t Hin, int64_t Win, int64_t cstride,
                            int64_t Cn, const float *wp, int64_t R, int64_t S, int64_t r0,
                            const int64_t *coff, float bias, float *out, int64_t W, int64_t h0,
                            int64_t h1, const float *next, int64_t next_len);

#define RD_UNIT_ROWS 48 /* output rows per unit of work: a multiple of every row block */

/* The path's kernel and its vector width, NULL where it has none. */
static rowdirect_fn rowdirect_kernel(int64_t *lanes) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: *lanes = 16; return st_conv_rowdirect_avx512;
    case ST_ARCH_AVX2: *lanes = 8; return st_conv_rowdirect_avx2;
    default: return NULL;
    }
}

static int use_rowdirect(const st_conv_desc *d, int backward) {
    int64_t vl;
    if (!rowdirect_kernel(&vl)) return 0;
    if (d->stride_h != 1 || d->stride_w != 1 || d->dil_h != 1 || d->S > 64) return 0;
    if (d->R != 3 && d->R != 5 && d->R != 7) return 0;
    if (is_depthwise(d) && d->groups > 1) return 0;
    if ((backward ? d->C : d->K) / d->groups >= DIRECT_OB) return 0;
    /* backward-data's GEMM has 9 rows per input channel; the row kernel wastes the lanes
     * past a narrow plane's edge */
    return !backward || 2 * d->W >= vl;
}

/* Forward (backward = 0) or backward-data (backward = 1) on the row kernel: threads take
 * (image, output channel, RD_UNIT_ROWS rows) units, each summed whole by one thread, and
 * fetch the input of their next unit meanwhile. */
static int rowdirect_run(const st_conv_desc *d, const float *in, const float *w,
                         const float *bias, float *out, int backward) {
    const int64_t G = d->groups, Cg = d->C / G, Kg = d->K / G, R = d->R, S = d->S;
    const int64_t taps = R * S;
    const int64_t ins = backward ? Kg : Cg, in_ch = backward ? d->K : d->C;
    const int64_t out_ch = backward ? d->C : d->K, outs = out_ch / G;
    const int64_t Hin = backward ? d->P : d->H, Win = backward ? d->Q : d->W;
    const int64_t Ho = backward ? d->H : d->P, Wo = backward ? d->W : d->Q;
    int64_t coff[64], lanes;
    for (int64_t j = 0; j < S; ++j)
        coff[j] = backward ? d->pad_l - j * d->dil_w : j * d->dil_w - d->pad_l;
    /* input row of output row h, kernel row r: h + r0 + r (backward: kernel rows flipped) */
    const int64_t r0 = backward ? d->pad_t - (R - 1) : -d->pad_t;
    /* weights of output channel o: wp + o * ins * taps, input channel by input channel; the
     * forward's are w itself, backward-data's w[g*Kg + k][c] per c, rows reversed */
    const float *wp = w;
    if (backward) {
        float *buf = (float *)st_workspace(ST_WS_AUX, sizeof(float) * (size_t)(d->C * Kg * taps));
        if (!buf) return ST_ENOMEM;
        for (int64_t o = 0; o < d->C; ++o) {
            const int64_t g = o / Cg, c = o % Cg;
            for (int64_t k = 0; k < Kg; ++k)
                for (int64_t r = 0; r < R; ++r)
                    memcpy(buf + ((o * Kg + k) * R + r) * S,
                           w + (((g * Kg + k) * Cg + c) * R + R - 1 - r) * S,
                           sizeof(float) * (size_t)S);
        }
        wp = buf;
    }
    const rowdirect_fn fn = rowdirect_kernel(&lanes);
    const int64_t chunks = ceil_div(Ho, RD_UNIT_ROWS), units = d->N * out_ch * chunks;
#pragma omp parallel for schedule(static) if (num_threads() > 1 && units > 1)
    for (int64_t u = 0; u < units; ++u) {
        const int64_t plane = u / chunks, o = plane % out_ch, n = plane / out_ch;
        const int64_t h0 = (u % chunks) * RD_UNIT_ROWS;
        const int64_t h1 = h0 + RD_UNIT_ROWS < Ho ? h0 + RD_UNIT_ROWS : Ho;
        const float *src = in + (n * in_ch + (o / outs) * ins) * Hin * Win;
        /* the input rows unit u + 1 reads, where they differ from this unit's */
        const float *next = NULL;
        int64_t next_len = 0;
        if (u + 1 < units) {
            const int64_t p2 = (u + 1) / chunks, o2 = p2 % out_ch, n2 = p2 / out_ch;
            const int64_t a = (u + 1) % chunks * RD_UNIT_ROWS + r0;
            const int64_t b = a + RD_UNIT_ROWS + R - 1 < Hin ? a + RD_UNIT_ROWS + R - 1 : Hin;
            const float *src2 = in + (n2 * in_ch + (o2 / outs) * ins) * Hin * Win;
            if (src2 != src || chunks > 1) {
                next = src2 + (a > 0 ? a : 0) * Win;
                next_len = (b - (a > 0 ? a : 0)) * Win;
            }
        }
        fn(src, Hin, Win, Hin * Win, ins, wp + o * ins * taps, R, S, r0, coff,
           bias ? bias[o] : 0.f, out + plane * Ho * Wo, Wo, h0, h1,
           next_len > 0 ? next : NULL, next_len);
    }
    return ST_OK;
}

/* Weight gradient of the same layers (stride 1, 3x3, dil_h 1, fewer than DIRECT_OB outputs
 * per group): the GEMM path's product has only Kg columns (3 of a 32-column tile for a layer
 * down to 3 channels).  Here each (output, input) channel pair is summed by one call of the
 * row kernel's weight gradient over the whole batch (conv_rowdirect_impl.h), so results do
 * not depend on the thread count (same runs: 32x64->3 32x32 10.3-10.8 -> 2.1-2.2 / 5.7-8.0
 * -> 1.0-1.25 ms, 16x32->1 64x64 4.6 -> 1.0 / 3.8 -> 0.54 ms, 64x64->4 7x7 2.1 -> 0.57 /
 * 1.5 -> 0.48 ms). */
typedef void (*rowdirect_dw_fn)(const float *dy, int64_t dstride, int64_t Ho, int64_t Wo,
                                const float *x, int64_t xstride, int64_t Hin, int64_t Win,
                                int64_t N, int64_t r0, const int64_t *coff, float *dw);
void st_conv_rowdirect_dw_avx512(const float *dy, int64_t dstride, int64_t Ho, int64_t Wo,
                                 const float *x, int64_t xstride, int64_t Hin, int64_t Win,
                                 int64_t N, int64_t r0, const int64_t *coff, float *dw);
void st_conv_rowdirect_dw_avx2(const float *dy, int64_t dstride, int64_t Ho, int64_t Wo,
                               const float *x, int64_t xstride, int64_t Hin, int64_t Win,
                               int64_t N, int64_t r0, const int64_t *coff, float *dw);

static rowdirect_dw_fn rowdirect_dw_kernel(void) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: return st_conv_rowdirect_dw_avx512;
    case ST_ARCH_AVX2: return st_conv_rowdirect_dw_avx2;
    default: return NULL;
    }
}

static int use_rowdirect_dw(const st_conv_desc *d) {
    if (!rowdirect_dw_kernel()) return 0;
    if (d->stride_h != 1 || d->stride_w != 1 || d->R != 3 || d->S != 3 || d->dil_h != 1)
        return 0;
    if (is_depthwise(d) && d->groups > 1) return 0;
    return d->K / d->groups < DIRECT_OB;
}

static int rowdirect_dw_run(const st_conv_desc *d, const float *dy, const float *x,
                            float *dw) {
    const int64_t G = d->groups, Cg = d->C / G, Kg = d->K / G, pq = d->P * d->Q;
    const int64_t hw = d->H * d->W, units = G * Cg * Kg;
    int64_t coff[3];
    for (int64_t j = 0; j < 3; ++j) coff[j] = j * d->dil_w - d->pad_l;
    const rowdirect_dw_fn fn = rowdirect_dw_kernel();
    /* output channels innermost: a thread's consecutive pairs share the input planes */
#pragma omp parallel for schedule(static) if (num_threads() > 1 && units > 1)
    for (int64_t u = 0; u < units; ++u) {
        const int64_t o = u % Kg, c = (u / Kg) % Cg, g = u / (Kg * Cg);
        fn(dy + (g * Kg + o) * pq, d->K * pq, d->P, d->Q, x + (g * Cg + c) * hw, d->C * hw,
           d->H, d->W, d->N, -d->pad_t, coff, dw + ((g * Kg + o) * Cg + c) * 9);
    }
    return ST_OK;
}

/* ---- direct weight gradient for few input channels (AVX-512, AVX2) ----------------------
 * A first layer (grey or colour input: C/groups <= DWD_MAX_C) has a tiny im2col matrix, so
 * its im2col + GEMM weight gradient is bound by passes over dY (packing it per image).  Here
 * dY is read once: per image the input channels' S shifted planes are built as for the
 * forward direct kernel, and the ISA's kernel (st_conv_direct_dw_avx512 / _avx2) dots each
 * output channel pair's dY with them, taps in groups of 9 (AVX-512) or 6 (AVX2), into
 * 16-float slots of partial sums.  The batch is cut into DIRECT_DW_PARTS fixed parts (threads
 * take them dynamically) with their own partial sums, added in part order and then over the
 * 16 lanes in order, so results do not depend on the thread count (1 thread, Intel Xeon,
 * 3x3 64x1->32 at 28x28: 0.83-0.85 -> 0.50 ms on AVX-512, 0.97-1.01 -> 0.57-0.60 ms on AVX2;
 * 64x3->64 at 32x32: 3.3 -> 2.8 ms on AVX-512, 4.3-4.5 -> 3.9-4.0 ms on AVX2). */
#define DWD_MAX_C 4
#define DWD_MAX_T 9 /* the widest tap group of any kernel */
typedef void (*dwd_fn)(const float *dy0, const float *dy1, const float *src, const int64_t *off,
                       int tg, int64_t n, float *acc0, float *acc1);
void st_conv_direct_dw_avx512(const float *dy0, const float *dy1, const float *src,
                              const int64_t *off, int tg, int64_t n, float *acc0, float *acc1);
void st_conv_direct_dw_avx2(const float *dy0, const float *dy1, const float *src,
                            const int64_t *off, int tg, int64_t n, float *acc0, float *acc1);

/* The path's kernel and its taps per call, or NULL. */
static dwd_fn dwd_kernel(int *taps_per_call) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: *taps_per_call = 9; return st_conv_direct_dw_avx512;
    case ST_ARCH_AVX2: *taps_per_call = 6; return st_conv_direct_dw_avx2;
    default: return NULL;
    }
}

static int use_direct_dw(const st_conv_desc *d) {
    int tpc;
    if (!dwd_kernel(&tpc)) return 0;
    if (d->stride_h != 1 || d->stride_w != 1 || is_1x1_direct(d)) return 0;
    const int64_t Cg = d->C / d->groups;
    if (Cg > DWD_MAX_C || d->R * d->S > 64) return 0;
    direct_geom g;
    direct_geom_init(d, 0, &g);
    /* both workspaces within the chunk budget: a thread's planes, and the parts' sums */
    const int64_t parts = d->N < DIRECT_DW_PARTS ? d->N : DIRECT_DW_PARTS;
    const size_t budget = st_conv_get_chunk_bytes();
    return sizeof(float) * (size_t)(Cg * g.cstride) <= budget &&
           sizeof(float) * (size_t)(parts * d->K * Cg * g.taps * 16) <= budget;
}

static int direct_dw_run(const st_conv_desc *d, const float *dy, const float *x, float *dw) {
    direct_geom g;
    direct_geom_init(d, 0, &g);
    const int64_t G = d->groups, Cg = d->C / G, Kg = d->K / G, taps = g.taps, n = g.n;
    const int64_t lanes = d->K * Cg * taps * 16; /* one part's partial sums */
    const int64_t parts = d->N < DIRECT_DW_PARTS ? d->N : DIRECT_DW_PARTS;
    int tpc = 1;
    const dwd_fn kern = dwd_kernel(&tpc);
    float *acc = (float *)st_workspace(ST_WS_AUX, sizeof(float) * (size_t)(parts * lanes));
    if (!acc) return ST_ENOMEM;
    int fail = 0;
#pragma omp parallel for schedule(dynamic, 1) if (num_threads() > 1 && parts > 1)
    for (int64_t pt = 0; pt < parts; ++pt) {
        float *planes = (float *)st_workspace(ST_WS_COL, sizeof(float) * (size_t)(Cg * g.cstride));
        float *ap = acc + pt * lanes;
        float scratch[DWD_MAX_T * 16];
        if (!planes) {
#pragma omp atomic write
            fail = 1;
            continue;
        }
        memset(ap, 0, sizeof(float) * (size_t)lanes);
        for (int64_t im = d->N * pt / parts; im < d->N * (pt + 1) / parts; ++im) {
            for (int64_t gi = 0; gi < G; ++gi) {
                for (int64_t c = 0; c < Cg; ++c)
                    direct_shift_plane(d, &g, x + ((im * G + gi) * Cg + c) * d->H * d->W, d->H,
                                       d->W, d->pad_t, -d->pad_l, 1, planes + c * g.cstride);
                for (int64_t o = 0; o < Kg; o += 2) {
                    const int64_t k = gi * Kg + o;
                    const float *dy0 = dy + (im * d->K + k) * n;
                    const int two = o + 1 < Kg;
                    for (int64_t c = 0; c < Cg; ++c)
                        for (int64_t t0 = 0; t0 < taps; t0 += tpc) {
                            const int tg = (int)(taps - t0 < tpc ? taps - t0 : tpc);
                            float *a0 = ap + ((k * Cg + c) * taps + t0) * 16;
                            kern(dy0, two ? dy0 + n : dy0, planes + c * g.cstride, g.off + t0,
                                 tg, n, a0, two ? a0 + Cg * taps * 16 : scratch);
                        }
                }
            }
        }
    }
    if (fail) return ST_ENOMEM;
    const int64_t outs = d->K * Cg * taps;
#pragma omp parallel for schedule(static) if (outs * parts * 16 > (1 << 18))
    for (int64_t j = 0; j < outs; ++j) {
        float v[16];
        for (int l = 0; l < 16; ++l) v[l] = acc[j * 16 + l];
        for (int64_t pt = 1; pt < parts; ++pt)
            for (int l = 0; l < 16; ++l) v[l] += acc[pt * lanes + j * 16 + l];
        float sum = 0.f;
        for (int l = 0; l < 16; ++l) sum += v[l];
        dw[j] = sum;
    }
    return ST_OK;
}

/* ---- public entry points ---------------------------------------------------------------- */

static int use_dw(const st_conv_desc *d) {
    dw_geom g;
    /* a single-channel input (a first layer, a patch embedding): its im2col matrix is small
     * (R*S rows) and one GEMM over the batch beats the per-plane loops, by 1.4-1.5x for a
     * 3x3 first layer's gradients and 20x for a 4x4/4 patch embedding */
    if (d->C == 1 && d->groups == 1) return 0;
    return is_depthwise(d) && dw_geom_init(d, &g);
}

int st_conv2d_forward(const st_conv_desc *d, const float *x, const float *w, const float *bias,
                      float *y) {
    if (st_conv_use_winograd(d)) return st_conv_winograd_forward(d, x, w, bias, y);
    if (use_direct(d, 0)) return direct_run(d, x, w, bias, y, 0);
    if (use_rowdirect(d, 0)) return rowdirect_run(d, x, w, bias, y, 0);
    if (use_dw(d)) return dw_forward(d, x, w, bias, y);
    conv_plan pl;
    plan_init(d, &pl);
    conv_args A = {d, &pl, x, w, bias, y};
    return run_chunks(&A, forward_chunk, 0);
}

int st_conv2d_backward_data(const st_conv_desc *d, const float *dy, const float *w,
                            float *dx) {
    if (st_conv_use_winograd(d)) return st_conv_winograd_backward_data(d, dy, w, dx);
    if (use_direct(d, 1)) return direct_run(d, dy, w, NULL, dx, 1);
    if (use_rowdirect(d, 1)) return rowdirect_run(d, dy, w, NULL, dx, 1);
    if (use_dw(d)) return dw_backward_data(d, dy, w, dx);
    conv_plan pl;
    plan_init(d, &pl);
    conv_args A = {d, &pl, dy, w, NULL, dx};
    return run_chunks(&A, backward_data_chunk, 0);
}

int st_conv2d_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                              float *dw) {
    if (st_conv_use_winograd(d)) return st_conv_winograd_backward_weight(d, dy, x, dw);
    if (use_dw(d)) return dw_backward_weight(d, dy, x, dw);
    if (use_direct_dw(d)) return direct_dw_run(d, dy, x, dw);
    if (use_rowdirect_dw(d)) return rowdirect_dw_run(d, dy, x, dw);
    conv_plan pl;
    plan_init(d, &pl);
    conv_args A = {d, &pl, dy, x, NULL, dw};
    return run_chunks(&A, backward_weight_chunk, 1);
}

/* db[k] = sum over images of the sums of plane (n, k): the planes are summed in memory order
 * (one sequential stream, threads over planes; gathering channel k's planes image by image
 * jumped across the whole gradient: 128x32x28x28, 1 thread, Zen 4: 1.45 -> 0.17-0.20 ms), then
 * each channel's plane sums are added in image order in double. */
int st_conv2d_backward_bias(const st_conv_desc *d, const float *dy, float *db) {
    const int64_t K = d->K, pq = d->P * d->Q, N = d->N;
    float *sums = (float *)st_workspace(ST_WS_AUX, sizeof(float) * (size_t)(N * K));
    if (!sums) return ST_ENOMEM;
    st_plane_sums_f32(N * K, pq, dy, sums);
    for (int64_t k = 0; k < K; ++k) {
        double s = 0.0;
        for (int64_t n = 0; n < N; ++n) s += sums[n * K + k];
        db[k] = (float)s;
    }
    return ST_OK;
}
