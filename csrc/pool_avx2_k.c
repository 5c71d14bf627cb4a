/* AVX2 row kernels of the pooling family: 8 output columns per vector for strides 1 and 2
 * (two loads de-interleaved); partial blocks and border windows use masked loads, so nothing
 * outside the input is read.  Other strides go to the generic path (same comparison and
 * summation order, same results). */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "pool_isa.h"
#include "simd_avx2.h"

/* VL: lanes; MAX_KW: widest window whose border masks are tabulated per block. */
enum { VL = 8, MAX_KW = 32 };

/* Vector mask (all-ones lanes) from the low 8 bits of b. */
static inline __m256i bits_to_mask(uint32_t b) {
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)b), bit), bit);
}

/* Even elements p[2l] (and odd ones p[2l + 1] in *odd) of p[0..15], loading only the elements
 * whose bit is set in em (the others read as 0, never touched in memory). */
static inline __m256 load_s2(const float *p, uint32_t em, __m256 *odd) {
    /* Plain loads when every element is wanted (vmaskmovps is slow on some CPUs). */
    const __m256 a = (em & 0xFFu) == 0xFFu ? _mm256_loadu_ps(p)
                                           : _mm256_maskload_ps(p, bits_to_mask(em & 0xFFu));
    const __m256 b = (em >> 8) == 0xFFu
                         ? _mm256_loadu_ps(p + VL)
                         : _mm256_maskload_ps(p + VL, bits_to_mask((em >> 8) & 0xFFu));
    if (odd) *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(
                 _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}

static inline __m256 load_taps(const float *p, int sw, uint32_t em) {
    if (sw == 1) return em == 0xFFu ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, bits_to_mask(em));
    return load_s2(p, em, 0);
}

/* Stores the first n lanes (vmaskmov stores are slow on some CPUs: partial blocks go
 * through a buffer). */
static inline void store_ps(float *p, __m256 v, int64_t n) {
    if (n == VL) {
        _mm256_storeu_ps(p, v);
        return;
    }
    float buf[VL];
    _mm256_storeu_ps(buf, v);
    memcpy(p, buf, (size_t)n * sizeof(float));
}

static inline void store_epi32(int32_t *p, __m256i v, int64_t n) {
    if (n == VL) {
        _mm256_storeu_si256((__m256i *)p, v);
        return;
    }
    int32_t buf[VL];
    _mm256_storeu_si256((__m256i *)buf, v);
    memcpy(p, buf, (size_t)n * sizeof(int32_t));
}

/* Later tap (v, vi) wins when greater or NaN. */
static inline void max_update(__m256 v, __m256i vi, __m256 *mx, __m256i *mi) {
    const __m256 k = _mm256_or_ps(_mm256_cmp_ps(v, *mx, _CMP_GT_OQ),
                                  _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    *mx = _mm256_blendv_ps(*mx, v, k);
    *mi = _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(*mi), _mm256_castsi256_ps(vi), k));
}

/* What a block of n <= 8 output columns needs, built once per call for all its rows: the
 * window start column per lane and, for a block whose windows hang over the border
 * ("checked"), per-tap element masks (taps outside load as -inf and are never taken) and
 * the column of each lane's first valid tap (the index PyTorch keeps when every valid value
 * is -inf; -1 when none). */
typedef struct {
    int64_t ow, n, c0;
    int pair, checked;
    uint32_t span_bits;
    __m256i vcol, lanes, first;
    __m256i elo[MAX_KW], ehi[MAX_KW]; /* checked: element masks of tap kj (p[0..7], p[8..15]) */
} max_block;

static inline void max_block_init(max_block *b, const st_pool2d_geom *g, const float *xp,
                                  int64_t ow, int64_t n, int checked) {
    (void)xp;
    const int sw = g->sw, kw = g->kw, dw = g->dw;
    const int64_t W = g->W;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    b->ow = ow;
    b->n = n;
    b->checked = checked;
    b->pair = !checked && sw == 2 && kw == 2 && dw == 1;
    b->c0 = ow * sw - g->pw;
    b->vcol = _mm256_add_epi32(_mm256_mullo_epi32(lane, _mm256_set1_epi32(sw)),
                               _mm256_set1_epi32((int32_t)b->c0));
    b->lanes = bits_to_mask(st_bit_range(0, n));
    b->span_bits = st_bit_range(0, sw == 1 ? n : (b->pair ? 2 * n : 2 * n - 1));
    if (!checked) return;
    const __m256i vW = _mm256_set1_epi32((int32_t)W);
    b->first = _mm256_set1_epi32(-1);
    for (int kj = kw - 1; kj >= 0; --kj) { /* first valid column wins: go backwards */
        const int64_t s0 = b->c0 + (int64_t)kj * dw;
        const uint32_t em = b->span_bits & st_bit_range(-s0, W - s0);
        b->elo[kj] = bits_to_mask(em & 0xFFu);
        b->ehi[kj] = bits_to_mask((em >> 8) & 0xFFu);
        const __m256i vc = _mm256_add_epi32(b->vcol, _mm256_set1_epi32(kj * dw));
        const __m256i ok = _mm256_and_si256(
            b->lanes, _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), vc),
                                          _mm256_cmpgt_epi32(vW, vc)));
        b->first = _mm256_castps_si256(_mm256_blendv_ps(
            _mm256_castsi256_ps(b->first), _mm256_castsi256_ps(vc), _mm256_castsi256_ps(ok)));
    }
}

/* Even (and odd) elements of a[0..7] ++ b[0..7]. */
static inline __m256 evens(__m256 a, __m256 b) {
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
}

/* One output row of a clean block (every tap inside): each window row folded on its own,
 * then the rows folded in order (the fold is associative). */
static inline void max_row_clean(const max_block *b, const st_pool2d_geom *g,
                                 const float *xp, int64_t ih0, int ki0, int ki1, float *y,
                                 int32_t *idx) {
    const int64_t W = g->W;
    const int sw = g->sw, kw = g->kw, dw = g->dw, dh = g->dh;
    const float *base = xp + b->c0;
    __m256 mx = _mm256_setzero_ps();
    __m256i mi = _mm256_setzero_si256();
    for (int ki = ki0; ki < ki1; ++ki) {
        const int64_t roff = (ih0 + (int64_t)ki * dh) * W;
        const __m256i ir = _mm256_add_epi32(b->vcol, _mm256_set1_epi32((int32_t)roff));
        __m256 rm;
        __m256i ri = ir;
        if (b->pair) {
            __m256 o;
            rm = load_s2(base + roff, b->span_bits, &o);
            max_update(o, _mm256_add_epi32(ir, _mm256_set1_epi32(1)), &rm, &ri);
        } else {
            rm = load_taps(base + roff, sw, b->span_bits);
            for (int kj = 1; kj < kw; ++kj)
                max_update(load_taps(base + roff + (int64_t)kj * dw, sw, b->span_bits),
                           _mm256_add_epi32(ir, _mm256_set1_epi32(kj * dw)), &rm, &ri);
        }
        if (ki == ki0) {
            mx = rm;
            mi = ri;
        } else {
            max_update(rm, ri, &mx, &mi);
        }
    }
    store_ps(y + b->ow, mx, b->n);
    store_epi32(idx + b->ow, mi, b->n);
}

static inline void max_row_checked(const max_block *b, const st_pool2d_geom *g,
                                   const float *xp, int64_t ih0, int ki0, int ki1, float *y,
                                   int32_t *idx) {
    const int64_t W = g->W;
    const int sw = g->sw, kw = g->kw, dw = g->dw, dh = g->dh;
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    const int64_t r0 = (ih0 + (int64_t)ki0 * dh) * W;
    const __m256i none = _mm256_set1_epi32(-1);
    const __m256i has = _mm256_xor_si256(_mm256_cmpeq_epi32(b->first, none), none);
    __m256i mi = _mm256_or_si256(
        _mm256_and_si256(has, _mm256_add_epi32(b->first, _mm256_set1_epi32((int32_t)r0))),
        _mm256_andnot_si256(has, none));
    __m256 mx = ninf;
    for (int ki = ki0; ki < ki1; ++ki) {
        const int64_t roff = (ih0 + (int64_t)ki * dh) * W;
        for (int kj = 0; kj < kw; ++kj) {
            const float *p = xp + roff + b->c0 + (int64_t)kj * dw;
            const __m256 a = _mm256_blendv_ps(ninf, _mm256_maskload_ps(p, b->elo[kj]),
                                              _mm256_castsi256_ps(b->elo[kj]));
            __m256 v;
            if (sw == 1) {
                v = a;
            } else {
                const __m256 c = _mm256_blendv_ps(
                    ninf, _mm256_maskload_ps(p + VL, b->ehi[kj]), _mm256_castsi256_ps(b->ehi[kj]));
                v = evens(a, c);
            }
            max_update(v, _mm256_add_epi32(b->vcol,
                                           _mm256_set1_epi32((int32_t)(roff + kj * dw))),
                       &mx, &mi);
        }
    }
    store_ps(y + b->ow, mx, b->n);
    store_epi32(idx + b->ow, mi, b->n);
}

#define MAXROWS_NAME st_maxpool_rows_avx2
#define MAXROWS_GENERIC(g) ((g)->sw > 2 || (g)->kw > MAX_KW)
/* the partial last block moves left (Wo = 14: maxpool 2x2 of 64x64x28x28 2.18 -> 1.95 ms,
 * 1 thread, Intel Xeon) */
#define MAXROWS_SHIFT_LAST 1
#include "pool_maxrows_impl.h"

void st_avgpool_rows_avx2(ST_AVGROWS_ARGS) {
    const int sw = g->sw, kw = g->kw;
    const int64_t W = g->W, Wo = g->Wo;
    if (sw > 2) {
        st_avgpool_rows_generic(g, xp, oh0, oh1, lo, hi, row_inv, yp);
        return;
    }
    /* Column blocks outer, rows inner; taps summed in window order (rows, then columns).  A
     * partial last block moves left to end at hi when the interior is wide enough (its first
     * columns are computed twice, alike), as in st_maxpool_rows_avx2. */
    for (int64_t ow = lo; ow < hi; ow += VL) {
        int64_t n = hi - ow < VL ? hi - ow : VL;
        if (n < VL && hi - lo >= VL) {
            ow = hi - VL;
            n = VL;
        }
        const uint32_t em = st_bit_range(0, sw == 1 ? n : 2 * n - 1);
        const float *base = xp + ow * sw - g->pw;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
            const int64_t ih0 = oh * g->sh - g->ph;
            int ki0, ki1;
            st_pool_row_taps(g, ih0, 1, &ki0, &ki1);
            if (ki0 >= ki1) continue;
            __m256 s = _mm256_setzero_ps();
            for (int ki = ki0; ki < ki1; ++ki) {
                const float *r = base + (ih0 + ki) * W;
                for (int kj = 0; kj < kw; ++kj) s = _mm256_add_ps(s, load_taps(r + kj, sw, em));
            }
            store_ps(yp + oh * Wo + ow, _mm256_mul_ps(s, _mm256_set1_ps(row_inv[oh])), n);
        }
    }
}

float st_pool_sum_avx2(const float *x, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + VL));
    }
    float s = st_avx2_hsum(_mm256_add_ps(a0, a1));
    for (; i < n; ++i) s += x[i];
    return s;
}
