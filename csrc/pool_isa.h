/* Internal: per-ISA row kernels of the pooling family (not shipped).  The drivers in pool.c
 * split the work in (plane, output-row range) tasks and pick the ISA with st_arch_get();
 * the "rows" kernels below process such a task.  "Interior" columns are those whose window
 * columns all lie inside the input; window rows outside the input are skipped by restricting
 * ki to [ki0, ki1).  Every path takes the taps of a window in the same order (rows, then
 * columns), so max pooling gives the same values and indices on every ISA. */
#ifndef STRIATE_POOL_ISA_H
#define STRIATE_POOL_ISA_H

#include "striate/pool.h"

#define ST_POOL_ROW_ARGS                                                                    \
    const st_pool2d_geom *g, const float *xp, int64_t ih0, int ki0, int ki1, int64_t ow0,  \
        int64_t ow1

/* Max, interior columns only: y[ow] and idx[ow] (flat index in the plane xp). */
void st_maxpool_row_generic(ST_POOL_ROW_ARGS, float *y, int32_t *idx);

/* Max over a whole output row [ow0, ow1), border columns included; [lo, hi) are the interior
 * columns (every window column inside the input).  Taps outside the input are skipped; a
 * window with none inside gives -inf and index -1. */
#define ST_MAXROW_FULL_ARGS ST_POOL_ROW_ARGS, int64_t lo, int64_t hi, float *y, int32_t *idx
void st_maxpool_fullrow_generic(ST_MAXROW_FULL_ARGS);

/* Max over output rows [oh0, oh1) of one plane: xp is the input plane, yp / ip the output
 * plane (Ho x Wo); [lo, hi) are the interior columns. */
#define ST_MAXROWS_ARGS                                                                      \
    const st_pool2d_geom *g, const float *xp, int64_t oh0, int64_t oh1, int64_t lo,         \
        int64_t hi, float *yp, int32_t *ip
void st_maxpool_rows_generic(ST_MAXROWS_ARGS);
void st_maxpool_rows_avx2(ST_MAXROWS_ARGS);
void st_maxpool_rows_avx512(ST_MAXROWS_ARGS);

/* Window rows of an output row whose first input row is ih0 that lie inside the input:
 * ki in [*ki0, *ki1), empty when *ki0 >= *ki1. */
static inline void st_pool_row_taps(const st_pool2d_geom *g, int64_t ih0, int dh, int *ki0,
                                    int *ki1) {
    int64_t a = 0, b;
    if (dh == 1) {
        a = ih0 < 0 ? -ih0 : 0;
        b = g->H - ih0;
    } else {
        if (ih0 < 0) a = (-ih0 + dh - 1) / dh;
        b = ih0 > g->H - 1 ? 0 : (g->H - 1 - ih0) / dh + 1;
    }
    if (b > g->kh) b = g->kh;
    *ki0 = (int)a;
    *ki1 = (int)(a > b ? a : b);
}

/* Bits [a, b) of a 32-bit mask, the range clipped to [0, 32). */
static inline uint32_t st_bit_range(int64_t a, int64_t b) {
    if (a < 0) a = 0;
    if (b > 32) b = 32;
    if (b <= a) return 0u;
    const uint32_t hi = b >= 32 ? 0xFFFFFFFFu : ((1u << b) - 1u);
    return hi & ~((1u << a) - 1u);
}

/* Average, interior columns only: y[ow] = (sum of the window) * inv_div. */
void st_avgpool_row_generic(ST_POOL_ROW_ARGS, float inv_div, float *y);

/* Average over the interior columns [lo, hi) of output rows [oh0, oh1) of one plane (yp is
 * the Ho x Wo output plane); row_inv[oh] is the reciprocal divisor of row oh's interior
 * windows.  Rows without a window row inside the input are skipped (the caller fills them). */
#define ST_AVGROWS_ARGS                                                                      \
    const st_pool2d_geom *g, const float *xp, int64_t oh0, int64_t oh1, int64_t lo,         \
        int64_t hi, const float *row_inv, float *yp
void st_avgpool_rows_generic(ST_AVGROWS_ARGS);
void st_avgpool_rows_avx2(ST_AVGROWS_ARGS);
void st_avgpool_rows_avx512(ST_AVGROWS_ARGS);

/* sums[p] = the sum of plane p of x (P planes of HW floats), each plane by one thread in the
 * ISA's order below, so the sums do not depend on the thread count. */
void st_plane_sums_f32(int64_t P, int64_t HW, const float *x, float *sums);

/* Sum of n floats (fixed summation order for a given n and ISA). */
float st_pool_sum_generic(const float *x, int64_t n);
float st_pool_sum_avx2(const float *x, int64_t n);
float st_pool_sum_avx512(const float *x, int64_t n);

#endif
