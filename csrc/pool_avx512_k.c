/* AVX-512 row kernels of the pooling family: 16 output columns per vector.
 * Column taps are loaded contiguously (stride 1), de-interleaved from two loads (stride 2)
 * or gathered (other strides); partial blocks and windows over the border use masked loads,
 * so nothing outside the input plane is read.  Max pooling follows PyTorch's rule (a later
 * tap wins when greater or NaN; padding never wins), so values and indices equal the
 * generic path's. */
#include <immintrin.h>
#include <math.h>

#include "pool_isa.h"
#include "simd_avx512.h"

/* VL: lanes; MAX_KW: widest window whose border masks are tabulated per block. */
enum { VL = 16, MAX_KW = 32 };


/* Loads x[p + l*sw], l < n, for any stride; lo/hi masks are for the two stride-2 loads. */
typedef struct {
    int sw;
    const float *end; /* end of the input plane: full-width loads below it need no mask */
    __mmask16 m, mlo, mhi;
    __m512i evens, odds, vstep;
} tap_loader;

static inline void loader_init(tap_loader *t, int sw, int64_t n, int64_t span) {
    t->sw = sw;
    t->end = 0;
    t->m = st_avx512_lanes(n);
    t->mlo = st_avx512_lanes(span);
    t->mhi = st_avx512_lanes(span > VL ? span - VL : 0);
    t->evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    t->odds = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    t->vstep = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(sw));
}

/* Stride-2 pair of loads p[0..31] (masked unless they stay inside the plane: unused lanes
 * may then hold other rows' values, which are never stored). */
static inline void load_pair(const tap_loader *t, const float *p, __m512 *lo, __m512 *hi) {
    if (p + 2 * VL <= t->end) {
        *lo = _mm512_loadu_ps(p);
        *hi = _mm512_loadu_ps(p + VL);
    } else {
        *lo = _mm512_maskz_loadu_ps(t->mlo, p);
        *hi = _mm512_maskz_loadu_ps(t->mhi, p + VL);
    }
}

static inline __m512 load_taps(const tap_loader *t, const float *p) {
    if (t->sw == 1) return p + VL <= t->end ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(t->m, p);
    if (t->sw == 2) {
        __m512 lo, hi;
        load_pair(t, p, &lo, &hi);
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

/* What a block of n <= 16 output columns needs, computed once per call and reused for every
 * output row: the loader, the window start column of each lane and, for a block whose
 * windows hang over the left / right border ("checked"), the masks of the taps inside. */
typedef struct {
    tap_loader t;
    int64_t ow, n, c0;
    int pair, checked;
    __m512i vcol;              /* window start column per lane */
    __m512i first;             /* checked: column of each lane's first valid tap */
    __mmask16 any;             /* checked: lanes with a valid tap */
    __mmask16 valid[MAX_KW];   /* checked: lanes whose tap kj is inside */
    uint32_t em[MAX_KW];       /* checked: stride-2 element masks of tap kj */
} max_block;

static inline void max_block_init(max_block *b, const st_pool2d_geom *g, const float *xp,
                                  int64_t ow, int64_t n, int checked) {
    const int sw = g->sw, kw = g->kw, dw = g->dw;
    const int64_t W = g->W;
    b->ow = ow;
    b->n = n;
    b->checked = checked;
    b->pair = !checked && sw == 2 && kw == 2 && dw == 1; /* 2-wide stride-2 windows */
    loader_init(&b->t, sw, n, b->pair ? 2 * n : 2 * n - 1);
    b->t.end = xp + g->H * W;
    b->c0 = ow * sw - g->pw;
    b->vcol = _mm512_add_epi32(b->t.vstep, _mm512_set1_epi32((int32_t)b->c0));
    if (!checked) return;
    const __m512i vW = _mm512_set1_epi32((int32_t)W);
    b->first = _mm512_set1_epi32(-1);
    b->any = 0;
    for (int kj = kw - 1; kj >= 0; --kj) { /* first valid column wins: go backwards */
        const int64_t s0 = b->c0 + (int64_t)kj * dw;
        const __m512i vc = _mm512_add_epi32(b->vcol, _mm512_set1_epi32(kj * dw));
        const __mmask16 ok = b->t.m &
                             _mm512_cmp_epi32_mask(vc, _mm512_setzero_si512(), _MM_CMPINT_NLT) &
                             _mm512_cmp_epi32_mask(vc, vW, _MM_CMPINT_LT);
        b->valid[kj] = ok;
        b->em[kj] = st_bit_range(-s0, W - s0) & st_bit_range(0, 2 * n - 1);
        b->first = _mm512_mask_mov_epi32(b->first, ok, vc);
        b->any |= ok;
    }
}

/* One output row of a block whose taps are all inside the input.  The window fold "later
 * tap wins when greater or NaN" is associative, so each window row is folded on its own
 * (independent dependency chains) and the rows are then folded in order. */
static inline void max_row_clean(const max_block *b, const st_pool2d_geom *g, const float *xp,
                                 int64_t ih0, int ki0, int ki1, float *y, int32_t *idx) {
    const int64_t W = g->W;
    const int kw = g->kw, dw = g->dw, dh = g->dh;
    const tap_loader *t = &b->t;
    const float *base = xp + b->c0;
    __m512 mx = _mm512_setzero_ps();
    __m512i mi = _mm512_setzero_si512();
    for (int ki = ki0; ki < ki1; ++ki) {
        const int64_t roff = (ih0 + (int64_t)ki * dh) * W;
        const __m512i ir = _mm512_add_epi32(b->vcol, _mm512_set1_epi32((int32_t)roff));
        __m512 rm;
        __m512i ri = ir;
        if (b->pair) {
            __m512 lo, hi;
            load_pair(t, base + roff, &lo, &hi);
            rm = _mm512_permutex2var_ps(lo, t->evens, hi);
            max_update(_mm512_permutex2var_ps(lo, t->odds, hi),
                       _mm512_add_epi32(ir, _mm512_set1_epi32(1)), &rm, &ri);
        } else {
            rm = load_taps(t, base + roff);
            for (int kj = 1; kj < kw; ++kj)
                max_update(load_taps(t, base + roff + (int64_t)kj * dw),
                           _mm512_add_epi32(ir, _mm512_set1_epi32(kj * dw)), &rm, &ri);
        }
        if (ki == ki0) {
            mx = rm;
            mi = ri;
        } else {
            max_update(rm, ri, &mx, &mi);
        }
    }
    _mm512_mask_storeu_ps(y + b->ow, t->m, mx);
    _mm512_mask_storeu_epi32(idx + b->ow, t->m, mi);
}

/* One output row of a block whose windows may hang over the border.  Taps outside the input
 * load as -inf (masked loads: never read), so they are never taken; each lane starts from the
 * index of its first valid tap, which PyTorch keeps when every valid value is -inf (and -1
 * when the window has no valid tap). */
static inline void max_row_checked(const max_block *b, const st_pool2d_geom *g,
                                   const float *xp, int64_t ih0, int ki0, int ki1, float *y,
                                   int32_t *idx) {
    const int64_t W = g->W;
    const int sw = g->sw, kw = g->kw, dw = g->dw, dh = g->dh;
    const tap_loader *t = &b->t;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    const int64_t r0 = (ih0 + (int64_t)ki0 * dh) * W;
    __m512i mi = _mm512_mask_add_epi32(_mm512_set1_epi32(-1), b->any, b->first,
                                       _mm512_set1_epi32((int32_t)r0));
    __m512 mx = ninf;
    for (int ki = ki0; ki < ki1; ++ki) {
        const int64_t roff = (ih0 + (int64_t)ki * dh) * W;
        for (int kj = 0; kj < kw; ++kj) {
            const float *p = xp + roff + b->c0 + (int64_t)kj * dw;
            __m512 v;
            if (sw == 1) {
                v = _mm512_mask_loadu_ps(ninf, b->valid[kj], p);
            } else if (sw == 2) {
                const uint32_t e2 = b->em[kj];
                const __m512 lo = _mm512_mask_loadu_ps(ninf, (__mmask16)(e2 & 0xFFFFu), p);
                const __m512 hi = _mm512_mask_loadu_ps(ninf, (__mmask16)(e2 >> 16), p + VL);
                v = _mm512_permutex2var_ps(lo, t->evens, hi);
            } else {
                v = _mm512_mask_i32gather_ps(ninf, b->valid[kj], t->vstep, p, 4);
            }
            max_update(v, _mm512_add_epi32(b->vcol,
                                           _mm512_set1_epi32((int32_t)(roff + kj * dw))),
                       &mx, &mi);
        }
    }
    _mm512_mask_storeu_ps(y + b->ow, t->m, mx);
    _mm512_mask_storeu_epi32(idx + b->ow, t->m, mi);
}

#define MAXROWS_NAME st_maxpool_rows_avx512
/* border masks are tabulated for up to MAX_KW window columns */
#define MAXROWS_GENERIC(g) ((g)->kw > MAX_KW)
#define MAXROWS_SHIFT_LAST 0
#include "pool_maxrows_impl.h"

void st_avgpool_rows_avx512(ST_AVGROWS_ARGS) {
    const int64_t W = g->W, Wo = g->Wo;
    const int sw = g->sw, kw = g->kw;
    const int pair = sw == 2 && kw == 2;
    /* Column blocks outer, rows inner; taps summed in window order (rows, then columns). */
    for (int64_t ow = lo; ow < hi; ow += VL) {
        const int64_t n = hi - ow < VL ? hi - ow : VL;
        tap_loader t;
        loader_init(&t, sw, n, pair ? 2 * n : 2 * n - 1);
        t.end = xp + g->H * W;
        const float *base = xp + ow * sw - g->pw;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
            const int64_t ih0 = oh * g->sh - g->ph;
            int ki0, ki1;
            st_pool_row_taps(g, ih0, 1, &ki0, &ki1);
            if (ki0 >= ki1) continue;
            __m512 s = _mm512_setzero_ps();
            for (int ki = ki0; ki < ki1; ++ki) {
                const float *r = base + (ih0 + ki) * W;
                if (pair) {
                    __m512 a, b;
                    load_pair(&t, r, &a, &b);
                    s = _mm512_add_ps(s, _mm512_permutex2var_ps(a, t.evens, b));
                    s = _mm512_add_ps(s, _mm512_permutex2var_ps(a, t.odds, b));
                } else {
                    for (int kj = 0; kj < kw; ++kj) s = _mm512_add_ps(s, load_taps(&t, r + kj));
                }
            }
            _mm512_mask_storeu_ps(yp + oh * Wo + ow, t.m,
                                  _mm512_mul_ps(s, _mm512_set1_ps(row_inv[oh])));
        }
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
    for (; i < n; i += VL) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(st_avx512_lanes(n - i), x + i));
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
