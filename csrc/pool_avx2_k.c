/* AVX2 interior row kernels of the pooling family: 8 output columns per vector for strides 1
 * and 2 (two loads de-interleaved); other strides, and blocks whose loads would pass the end
 * of the row, go to the generic path (same comparison / summation order, same results). */
#include <immintrin.h>

#include "pool_isa.h"

enum { VL = 8 };

/* x[p + 2l] (and x[p + 2l + 1] in *odd) for l < 8; reads p[0..15]. */
static inline __m256 load_s2(const float *p, __m256 *odd) {
    const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + VL);
    if (odd) *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(
                 _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}

static inline __m256 load_taps(const float *p, int sw) {
    return sw == 1 ? _mm256_loadu_ps(p) : load_s2(p, 0);
}

static inline void max_update(__m256 v, __m256i vi, __m256 *mx, __m256i *mi) {
    const __m256 k = _mm256_or_ps(_mm256_cmp_ps(v, *mx, _CMP_GT_OQ),
                                  _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    *mx = _mm256_blendv_ps(*mx, v, k);
    *mi = _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(*mi), _mm256_castsi256_ps(vi), k));
}

/* Last output column (exclusive) whose 8-block loads stay inside the row. */
static int64_t simd_end(const st_pool2d_geom *g, int64_t ow0, int64_t ow1, int extra) {
    int64_t ow = ow0;
    /* lane 7's last read column: (ow + 7) * sw - pw + (kw - 1) * dw + extra */
    while (ow + VL <= ow1 &&
           (ow + VL - 1) * g->sw - g->pw + (int64_t)(g->kw - 1) * g->dw + extra <= g->W - 1)
        ow += VL;
    return ow;
}

void st_maxpool_row_avx2(ST_POOL_ROW_ARGS, float *y, int32_t *idx) {
    const int sw = g->sw, kw = g->kw, dw = g->dw, dh = g->dh;
    const int64_t W = g->W;
    if (sw > 2) {
        st_maxpool_row_generic(g, xp, ih0, ki0, ki1, ow0, ow1, y, idx);
        return;
    }
    const int pair = (sw == 2 && kw == 2 && dw == 1);
    const int64_t end = simd_end(g, ow0, ow1, sw == 2 && !pair ? 1 : 0);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int64_t ow = ow0; ow < end; ow += VL) {
        const int64_t c0 = ow * sw - g->pw;
        const float *base = xp + c0;
        const __m256i vcol = _mm256_add_epi32(_mm256_mullo_epi32(lane, _mm256_set1_epi32(sw)),
                                              _mm256_set1_epi32((int32_t)c0));
        __m256 mx = _mm256_setzero_ps();
        __m256i mi = _mm256_setzero_si256();
        if (pair) {
            for (int ki = ki0; ki < ki1; ++ki) {
                const int64_t roff = (ih0 + (int64_t)ki * dh) * W;
                __m256 o;
                const __m256 e = load_s2(base + roff, &o);
                const __m256i ie = _mm256_add_epi32(vcol, _mm256_set1_epi32((int32_t)roff));
                const __m256i io = _mm256_add_epi32(ie, _mm256_set1_epi32(1));
                if (ki == ki0) {
                    mx = e;
                    mi = ie;
                } else {
                    max_update(e, ie, &mx, &mi);
                }
                max_update(o, io, &mx, &mi);
            }
        } else {
            {
                const int64_t roff = (ih0 + (int64_t)ki0 * dh) * W;
                mx = load_taps(base + roff, sw);
                mi = _mm256_add_epi32(vcol, _mm256_set1_epi32((int32_t)roff));
            }
            for (int ki = ki0; ki < ki1; ++ki) {
                const int64_t roff = (ih0 + (int64_t)ki * dh) * W;
                for (int kj = (ki == ki0); kj < kw; ++kj) {
                    const int64_t off = roff + (int64_t)kj * dw;
                    max_update(load_taps(base + off, sw),
                               _mm256_add_epi32(vcol, _mm256_set1_epi32((int32_t)off)), &mx,
                               &mi);
                }
            }
        }
        _mm256_storeu_ps(y + ow, mx);
        _mm256_storeu_si256((__m256i *)(idx + ow), mi);
    }
    if (end < ow1) st_maxpool_row_generic(g, xp, ih0, ki0, ki1, end, ow1, y, idx);
}

void st_avgpool_row_avx2(ST_POOL_ROW_ARGS, float inv_div, float *y) {
    const int sw = g->sw, kw = g->kw;
    const int64_t W = g->W;
    if (sw > 2) {
        st_avgpool_row_generic(g, xp, ih0, ki0, ki1, ow0, ow1, inv_div, y);
        return;
    }
    const int64_t end = simd_end(g, ow0, ow1, sw == 2 ? 1 : 0);
    const __m256 vinv = _mm256_set1_ps(inv_div);
    for (int64_t ow = ow0; ow < end; ow += VL) {
        const float *base = xp + ow * sw - g->pw;
        __m256 s = _mm256_setzero_ps();
        for (int ki = ki0; ki < ki1; ++ki) {
            const float *r = base + (ih0 + ki) * W;
            for (int kj = 0; kj < kw; ++kj) s = _mm256_add_ps(s, load_taps(r + kj, sw));
        }
        _mm256_storeu_ps(y + ow, _mm256_mul_ps(s, vinv));
    }
    if (end < ow1) st_avgpool_row_generic(g, xp, ih0, ki0, ki1, end, ow1, inv_div, y);
}

float st_pool_sum_avx2(const float *x, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + VL));
    }
    a0 = _mm256_add_ps(a0, a1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float s = _mm_cvtss_f32(h);
    for (; i < n; ++i) s += x[i];
    return s;
}
