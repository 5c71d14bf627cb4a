/* AVX2 row kernels of the pooling family: 8 output columns per vector for strides 1 and 2
 * (two loads de-interleaved); partial blocks and border windows use masked loads, so nothing
 * outside the input is read.  Other strides go to the generic path (same comparison and
 * summation order, same results). */
#include <immintrin.h>
#include <math.h>

#include "pool_isa.h"

enum { VL = 8 };

/* Vector mask (all-ones lanes) from the low 8 bits of b. */
static inline __m256i bits_to_mask(uint32_t b) {
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)b), bit), bit);
}

/* Bits [a, b) of a 32-bit mask. */
static inline uint32_t bit_range(int64_t a, int64_t b) {
    if (a < 0) a = 0;
    if (b > 32) b = 32;
    if (b <= a) return 0u;
    const uint32_t hi = b >= 32 ? 0xFFFFFFFFu : ((1u << b) - 1u);
    return hi & ~((1u << a) - 1u);
}

/* Even elements p[2l] (and odd ones p[2l + 1] in *odd) of p[0..15], loading only the elements
 * whose bit is set in em (the others read as 0, never touched in memory). */
static inline __m256 load_s2(const float *p, uint32_t em, __m256 *odd) {
    const __m256 a = _mm256_maskload_ps(p, bits_to_mask(em & 0xFFu));
    const __m256 b = _mm256_maskload_ps(p + VL, bits_to_mask((em >> 8) & 0xFFu));
    if (odd) *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(
                 _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}

static inline __m256 load_taps(const float *p, int sw, uint32_t em) {
    return sw == 1 ? _mm256_maskload_ps(p, bits_to_mask(em)) : load_s2(p, em, 0);
}

/* One block of n <= 8 outputs of a row, strides 1 and 2.  checked: windows may hang over the
 * left / right border (taps outside are masked off).  Window order rows, then columns; a tap
 * is taken when it is the first valid one, greater, or NaN. */
static inline void max_block(const st_pool2d_geom *g, const float *xp, int64_t ih0, int ki0,
                             int ki1, int64_t ow, int64_t n, int checked, float *y,
                             int32_t *idx) {
    const int64_t W = g->W;
    const int sw = g->sw, kw = g->kw, dw = g->dw, dh = g->dh;
    const int pair = !checked && sw == 2 && kw == 2 && dw == 1;
    const int64_t c0 = ow * sw - g->pw;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i vcol = _mm256_add_epi32(_mm256_mullo_epi32(lane, _mm256_set1_epi32(sw)),
                                          _mm256_set1_epi32((int32_t)c0));
    const __m256i lanes = bits_to_mask(bit_range(0, n));
    const __m256i none = _mm256_set1_epi32(-1), vW = _mm256_set1_epi32((int32_t)W);
    const int64_t span = sw == 1 ? n : (pair ? 2 * n : 2 * n - 1);
    __m256 mx = _mm256_set1_ps(-INFINITY);
    __m256i mi = none;
    for (int ki = ki0; ki < ki1; ++ki) {
        const int64_t roff = (ih0 + (int64_t)ki * dh) * W;
        __m256 odd = _mm256_setzero_ps();
        for (int kj = 0; kj < kw; ++kj) {
            const int64_t s0 = c0 + (int64_t)kj * dw;
            const __m256i vc = _mm256_add_epi32(vcol, _mm256_set1_epi32(kj * dw));
            __m256i valid = lanes;
            uint32_t em = bit_range(0, span);
            if (checked) {
                em &= bit_range(-s0, W - s0);
                valid = _mm256_and_si256(
                    valid, _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), vc),
                                               _mm256_cmpgt_epi32(vW, vc)));
            }
            __m256 v;
            if (pair)
                v = kj == 0 ? load_s2(xp + roff + s0, em, &odd) : odd;
            else
                v = load_taps(xp + roff + s0, sw, em);
            const __m256 k = _mm256_and_ps(
                _mm256_castsi256_ps(valid),
                _mm256_or_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(mi, none)),
                             _mm256_or_ps(_mm256_cmp_ps(v, mx, _CMP_GT_OQ),
                                          _mm256_cmp_ps(v, v, _CMP_UNORD_Q))));
            mx = _mm256_blendv_ps(mx, v, k);
            const __m256i vi = _mm256_add_epi32(vc, _mm256_set1_epi32((int32_t)roff));
            mi = _mm256_castps_si256(
                _mm256_blendv_ps(_mm256_castsi256_ps(mi), _mm256_castsi256_ps(vi), k));
        }
    }
    _mm256_maskstore_ps(y + ow, lanes, mx);
    _mm256_maskstore_epi32((int *)(idx + ow), lanes, mi);
}

void st_maxpool_rows_avx2(ST_MAXROWS_ARGS) {
    const int64_t Wo = g->Wo;
    if (g->sw > 2) {
        st_maxpool_rows_generic(g, xp, oh0, oh1, lo, hi, yp, ip);
        return;
    }
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        float *y = yp + oh * Wo;
        int32_t *idx = ip + oh * Wo;
        const int64_t ih0 = oh * g->sh - g->ph;
        int ki0, ki1;
        st_pool_row_taps(g, ih0, g->dh, &ki0, &ki1);
        if (ki0 >= ki1) { /* no window row inside the input (dilation only) */
            st_maxpool_rows_generic(g, xp, oh, oh + 1, lo, hi, yp, ip);
            continue;
        }
        for (int64_t ow = 0; ow < Wo; ow += VL) {
            const int64_t n = Wo - ow < VL ? Wo - ow : VL;
            if (ow >= lo && ow + n <= hi)
                max_block(g, xp, ih0, ki0, ki1, ow, n, 0, y, idx);
            else
                max_block(g, xp, ih0, ki0, ki1, ow, n, 1, y, idx);
        }
    }
}

void st_avgpool_row_avx2(ST_POOL_ROW_ARGS, float inv_div, float *y) {
    const int sw = g->sw, kw = g->kw;
    const int64_t W = g->W;
    if (sw > 2) {
        st_avgpool_row_generic(g, xp, ih0, ki0, ki1, ow0, ow1, inv_div, y);
        return;
    }
    const __m256 vinv = _mm256_set1_ps(inv_div);
    for (int64_t ow = ow0; ow < ow1; ow += VL) {
        const int64_t n = ow1 - ow < VL ? ow1 - ow : VL;
        const uint32_t em = bit_range(0, sw == 1 ? n : 2 * n - 1);
        const float *base = xp + ow * sw - g->pw;
        __m256 s = _mm256_setzero_ps();
        for (int ki = ki0; ki < ki1; ++ki) {
            const float *r = base + (ih0 + ki) * W;
            for (int kj = 0; kj < kw; ++kj) s = _mm256_add_ps(s, load_taps(r + kj, sw, em));
        }
        _mm256_maskstore_ps(y + ow, bits_to_mask(bit_range(0, n)), _mm256_mul_ps(s, vinv));
    }
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
