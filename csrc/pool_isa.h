/* Internal: per-ISA row kernels of the pooling family (not shipped).  Each "interior" row
 * kernel computes outputs ow in [ow0, ow1) of one output row whose window rows ki in
 * [ki0, ki1) lie inside the input and whose window columns all lie inside the input; the
 * driver in pool.c handles the border columns and picks the ISA with st_arch_get(). */
#ifndef STRIATE_POOL_ISA_H
#define STRIATE_POOL_ISA_H

#include "striate/pool.h"

#define ST_POOL_ROW_ARGS                                                                    \
    const st_pool2d_geom *g, const float *xp, int64_t ih0, int ki0, int ki1, int64_t ow0,  \
        int64_t ow1

/* Max: y[ow] and idx[ow] (flat index in the plane xp). */
void st_maxpool_row_generic(ST_POOL_ROW_ARGS, float *y, int32_t *idx);
void st_maxpool_row_avx2(ST_POOL_ROW_ARGS, float *y, int32_t *idx);
void st_maxpool_row_avx512(ST_POOL_ROW_ARGS, float *y, int32_t *idx);

/* Average: y[ow] = (sum of the window) * inv_div. */
void st_avgpool_row_generic(ST_POOL_ROW_ARGS, float inv_div, float *y);
void st_avgpool_row_avx2(ST_POOL_ROW_ARGS, float inv_div, float *y);
void st_avgpool_row_avx512(ST_POOL_ROW_ARGS, float inv_div, float *y);

/* Sum of n floats (fixed summation order for a given n and ISA). */
float st_pool_sum_generic(const float *x, int64_t n);
float st_pool_sum_avx2(const float *x, int64_t n);
float st_pool_sum_avx512(const float *x, int64_t n);

#endif
