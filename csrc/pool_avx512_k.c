/* AVX-512 interior row kernels of the pooling family: 16 output columns per vector.
 * Column taps are loaded contiguously (stride 1), de-interleaved from two loads (stride 2)
 * or gathered (other strides); partial blocks use masked loads, so nothing past the last
 * valid element is read.  Same comparison order as the generic path (rows, then columns;
 * a later tap wins when greater or NaN), hence the same values and indices. */
#include <immintrin.h>

#include "pool_isa.h"

enum { VL = 16 };

static inline __mmask16 lanes(int64_t n) {
    return n >= VL ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* Loads x[p + l*sw], l < n, for any stride; lo/hi masks are for the two stride-2 loads. */
typedef struct {
    int sw;
    __mmask16 m, mlo, mhi;
    __m512i evens, odds, vstep;
} tap_loader;

static inline void loader_init(tap_loader *t, int sw, int64_t n, int64_t span) {
    t->sw = sw;
    t->m = lanes(n);
    t->mlo = lanes(span);
    t->mhi = lanes(span > VL ? span - VL : 0);
    t->evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    t->odds = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    t->vstep = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(sw));
}

static inline __m512 load_taps(const tap_loader *t, const float *p) {
    if (t->sw == 1) return _mm512_maskz_loadu_ps(t->m, p);
    if (t->sw == 2) {
        const __m512 lo = _mm512_maskz_loadu_ps(t->mlo, p);
        const __m512 hi = _mm512_maskz_loadu_ps(t->mhi, p + VL);
        return _mm512_permutex2var_ps(lo, t->evens, hi);
    }
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), t->m, t->vstep, p, 4);
}

static inline void max_update(__m512 v, __m512i vi, __m512 *mx, __m512i *mi) {
    const __mmask16 k = _mm512_cmp_ps_mask(v, *mx, _CMP_GT_OQ) |
                        _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    *mx = _mm512_mask_mov_ps(*mx, k, v);
    *mi = _mm512_mask_mov_epi32(*mi, k, vi);
}

void st_maxpool_row_avx512(ST_POOL_ROW_ARGS, float *y, int32_t *idx) {
    const int64_t W = g->W;
    const int sw = g->sw, kw = g->kw, dw = g->dw, dh = g->dh;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int pair = (sw == 2 && kw == 2 && dw == 1); /* 2-wide stride-2 windows */
    for (int64_t ow = ow0; ow < ow1; ow += VL) {
        const int64_t n = ow1 - ow < VL ? ow1 - ow : VL;
        tap_loader t;
        loader_init(&t, sw, n, pair ? 2 * n : 2 * n - 1);
        const int64_t c0 = ow * sw - g->pw; /* first window column of lane 0 */
        const float *base = xp + c0;
        /* Column index of lane l's window start. */
        const __m512i vcol = _mm512_add_epi32(_mm512_mullo_epi32(lane, _mm512_set1_epi32(sw)),
                                              _mm512_set1_epi32((int32_t)c0));
        __m512 mx = _mm512_setzero_ps();
        __m512i mi = _mm512_setzero_si512();
        if (pair) {
            for (int ki = ki0; ki < ki1; ++ki) {
                const int64_t roff = (ih0 + (int64_t)ki * dh) * W;
                const __m512 lo = _mm512_maskz_loadu_ps(t.mlo, base + roff);
                const __m512 hi = _mm512_maskz_loadu_ps(t.mhi, base + roff + VL);
                const __m512 e = _mm512_permutex2var_ps(lo, t.evens, hi);
                const __m512 o = _mm512_permutex2var_ps(lo, t.odds, hi);
                const __m512i ie = _mm512_add_epi32(vcol, _mm512_set1_epi32((int32_t)roff));
                const __m512i io = _mm512_add_epi32(ie, _mm512_set1_epi32(1));
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
                mx = load_taps(&t, base + roff);
                mi = _mm512_add_epi32(vcol, _mm512_set1_epi32((int32_t)roff));
            }
            for (int ki = ki0; ki < ki1; ++ki) {
                const int64_t roff = (ih0 + (int64_t)ki * dh) * W;
                for (int kj = (ki == ki0); kj < kw; ++kj) {
                    const int64_t off = roff + (int64_t)kj * dw;
                    const __m512 v = load_taps(&t, base + off);
                    max_update(v, _mm512_add_epi32(vcol, _mm512_set1_epi32((int32_t)off)), &mx,
                               &mi);
                }
            }
        }
        _mm512_mask_storeu_ps(y + ow, t.m, mx);
        _mm512_mask_storeu_epi32(idx + ow, t.m, mi);
    }
}

void st_avgpool_row_avx512(ST_POOL_ROW_ARGS, float inv_div, float *y) {
    const int64_t W = g->W;
    const int sw = g->sw, kw = g->kw;
    const __m512 vinv = _mm512_set1_ps(inv_div);
    for (int64_t ow = ow0; ow < ow1; ow += VL) {
        const int64_t n = ow1 - ow < VL ? ow1 - ow : VL;
        tap_loader t;
        loader_init(&t, sw, n, 2 * n - 1);
        const float *base = xp + ow * sw - g->pw;
        __m512 s = _mm512_setzero_ps();
        for (int ki = ki0; ki < ki1; ++ki) {
            const float *r = base + (ih0 + ki) * W;
            for (int kj = 0; kj < kw; ++kj) s = _mm512_add_ps(s, load_taps(&t, r + kj));
        }
        _mm512_mask_storeu_ps(y + ow, t.m, _mm512_mul_ps(s, vinv));
    }
}

float st_pool_sum_avx512(const float *x, int64_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + VL));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 2 * VL));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 3 * VL));
    }
    for (; i < n; i += VL) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(lanes(n - i), x + i));
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
