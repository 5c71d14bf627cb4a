/* Direct stride-1 convolution block for AVX-512 (see conv.c, direct_*):
 *
 *   y[o * ldy + i] = bias[o] + sum_{c < Cn} sum_{t < taps} wp[(c * taps + t) * DIRECT_OB + o]
 *                                                        * src[c * cstride + i + off[t]]
 *
 * for o in [0, DIRECT_OB) and i in [0, n): 8 output channels times up to 48 positions held
 * in registers while the reduction runs over input channels and taps.  Blocks of 48
 * positions, then blocks of 1, 2 or 3 vectors for the rest, the last vector masked so
 * nothing past src[c * cstride + n - 1 + off[t]] is read and nothing past y[o*ldy + n - 1]
 * is written. */
#include <immintrin.h>
#include <stdint.h>

#include "simd_avx512.h"

#define DIRECT_OB 8


#define DECL1(o) __m512 a##o##0 = _mm512_set1_ps(bias[o]);
#define DECL2(o) DECL1(o) __m512 a##o##1 = a##o##0;
#define DECL3(o) DECL2(o) __m512 a##o##2 = a##o##0;
#define FMA1(o) const __m512 w##o = _mm512_set1_ps(wt[o]); \
    a##o##0 = _mm512_fmadd_ps(w##o, x0, a##o##0);
#define FMA2(o) FMA1(o) a##o##1 = _mm512_fmadd_ps(w##o, x1, a##o##1);
#define FMA3(o) FMA2(o) a##o##2 = _mm512_fmadd_ps(w##o, x2, a##o##2);
#define ST1(o) _mm512_mask_storeu_ps(y + (o) * ldy + i, m0, a##o##0);
#define ST2(o) ST1(o) _mm512_mask_storeu_ps(y + (o) * ldy + i + 16, m1, a##o##1);
#define ST3(o) ST2(o) _mm512_mask_storeu_ps(y + (o) * ldy + i + 32, m2, a##o##2);
#define LD1 const __m512 x0 = _mm512_maskz_loadu_ps(m0, s);
#define LD2 LD1 const __m512 x1 = _mm512_maskz_loadu_ps(m1, s + 16);
#define LD3 LD2 const __m512 x2 = _mm512_maskz_loadu_ps(m2, s + 32);
#define ALL8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)

#define BLOCK(NV)                                                                  \
    static void block##NV(float *restrict y, int64_t ldy, const float *restrict src, \
                          int64_t cstride, int64_t Cn, const int64_t *restrict off,  \
                          int64_t taps, const float *restrict wp,                    \
                          const float *restrict bias, int64_t i, int64_t n) {        \
        const __mmask16 m0 = st_avx512_lanes(n - i), m1 = st_avx512_lanes(n - i - 16),               \
                        m2 = st_avx512_lanes(n - i - 32);                                    \
        (void)m1;                                                                    \
        (void)m2;                                                                    \
        ALL8(DECL##NV)                                                               \
        for (int64_t c = 0; c < Cn; ++c) {                                           \
            const float *sc = src + c * cstride + i;                                 \
            const float *wc = wp + c * taps * DIRECT_OB;                             \
            for (int64_t t = 0; t < taps; ++t) {                                     \
                const float *s = sc + off[t];                                        \
                const float *wt = wc + t * DIRECT_OB;                                \
                LD##NV ALL8(FMA##NV)                                                 \
            }                                                                        \
        }                                                                            \
        ALL8(ST##NV)                                                                 \
    }

BLOCK(1)
BLOCK(2)
BLOCK(3)

/* Full 48-position blocks: unmasked loads and stores. */
static void block3_full(float *restrict y, int64_t ldy, const float *restrict src,
                        int64_t cstride, int64_t Cn, const int64_t *restrict off, int64_t taps,
                        const float *restrict wp, const float *restrict bias, int64_t i) {
    ALL8(DECL3)
    for (int64_t c = 0; c < Cn; ++c) {
        const float *sc = src + c * cstride + i;
        const float *wc = wp + c * taps * DIRECT_OB;
        for (int64_t t = 0; t < taps; ++t) {
            const float *s = sc + off[t];
            const float *wt = wc + t * DIRECT_OB;
            const __m512 x0 = _mm512_loadu_ps(s), x1 = _mm512_loadu_ps(s + 16),
                         x2 = _mm512_loadu_ps(s + 32);
            ALL8(FMA3)
        }
    }
#define STF(o)                                           \
    _mm512_storeu_ps(y + (o) * ldy + i, a##o##0);        \
    _mm512_storeu_ps(y + (o) * ldy + i + 16, a##o##1);   \
    _mm512_storeu_ps(y + (o) * ldy + i + 32, a##o##2);
    ALL8(STF)
#undef STF
}

void st_conv_direct_block_avx512(float *restrict y, int64_t ldy, const float *restrict src,
                                 int64_t cstride, int64_t Cn, const int64_t *restrict off,
                                 int64_t taps, const float *restrict wp,
                                 const float *restrict bias, int64_t n) {
    int64_t full = n / 48, rest = n % 48, i = 0;
    /* a short tail (<= 16) after full blocks: do the last 48 + rest as two 2-vector blocks
     * (16 FMAs per 10 loads) rather than a 1-vector block (8 per 9) */
    if (rest > 0 && rest <= 16 && full > 0) {
        full -= 1;
        rest += 48;
    }
    for (; full > 0; --full, i += 48)
        block3_full(y, ldy, src, cstride, Cn, off, taps, wp, bias, i);
    if (rest > 48) {
        block2(y, ldy, src, cstride, Cn, off, taps, wp, bias, i, i + 32);
        block2(y, ldy, src, cstride, Cn, off, taps, wp, bias, i + 32, n);
    } else if (rest > 32) {
        block3(y, ldy, src, cstride, Cn, off, taps, wp, bias, i, n);
    } else if (rest > 16) {
        block2(y, ldy, src, cstride, Cn, off, taps, wp, bias, i, n);
    } else if (rest > 0) {
        block1(y, ldy, src, cstride, Cn, off, taps, wp, bias, i, n);
    }
}

/* ---- weight gradient of a layer with few input channels (conv_direct_dw_impl.h) -------
 * Two output channels x 9 taps of 16-lane partial sums: 18 zmm accumulators + 2 dy vectors +
 * 1 input vector. */
#define DWD_NAME st_conv_direct_dw_avx512
#define DWD_T 9
#define DWD_VL 16
#define DWD_VEC __m512
#define DWD_ZERO() _mm512_setzero_ps()
#define DWD_LOADU(p) _mm512_loadu_ps(p)
#define DWD_MASK_T __mmask16
#define DWD_MASK(r) st_avx512_lanes(r)
#define DWD_LOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define DWD_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define DWD_ADD(a, b) _mm512_add_ps((a), (b))
#define DWD_STOREU(p, v) _mm512_storeu_ps((p), (v))
#include "conv_direct_dw_impl.h"

/* ---- rows of one output plane for few outputs (conv_rowdirect_impl.h) -----------------
 * 16 zmm accumulators (16 rows of 1 vector, 8 of 2, 5 of 3 or 4 of 4) beside the R weights. */
#define RD_NAME st_conv_rowdirect_avx512
#define RD_VL 16
#define RD_VEC __m512
#define RD_MASK_T __mmask16
#define RD_MASK(a, b) ((__mmask16)(st_avx512_lanes(b) & ~st_avx512_lanes(a)))
#define RD_LOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define RD_STOREM(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define RD_SET1(x) _mm512_set1_ps(x)
#define RD_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define RD_RB(vb, r) ((vb) == 1 ? 16 : (vb) == 2 ? 8 : (vb) == 3 ? 5 : 4)
#define RD_VB_CAP(r) 4
#define RD_WNAME st_conv_rowdirect_dw_avx512
#define RD_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define RD_WVB 2
#define RD_WRB1 12
#define RD_WRB2 6
#include "conv_rowdirect_impl.h"

/* ---- im2col rows (the GEMM path) ------------------------------------------------------ */
#include "striate/conv.h"

/* Bit j of a 16-lane mask moved to bit 2j of a 32-bit one: the even elements of the two
 * 16-float spans a stride-2 row piece of 16 columns covers. */
static inline uint32_t even_bits(__mmask16 valid) {
    uint32_t e = valid;
    e = (e | (e << 8)) & 0x00FF00FFu;
    e = (e | (e << 4)) & 0x0F0F0F0Fu;
    e = (e | (e << 2)) & 0x33333333u;
    return (e | (e << 1)) & 0x55555555u;
}

/* Element offsets j * sw of lanes j < 16 (gather / scatter indices). */
static inline __m512i lane_stride(int64_t sw) {
    return _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)sw));
}

/* Sixteen output columns q..q+15 of one input row read with horizontal stride sw (lanes whose
 * bit is clear in `valid` read 0 and touch no memory): xr[q * sw + j * sw] for lane j. */
static inline __m512 strided_cols(const float *xr, int64_t q, int64_t sw, __mmask16 valid) {
    if (sw == 1) return _mm512_maskz_loadu_ps(valid, xr + q);
    if (sw == 2) { /* two loads of 16, the even elements de-interleaved */
        const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24,
                                                26, 28, 30);
        /* element 2j of lo (j < 8) and 2(j - 8) of hi (j >= 8) are read where lane j is
         * valid: the mask's bits spread to the even positions */
        const uint32_t e = even_bits(valid);
        const __m512 lo = _mm512_maskz_loadu_ps((__mmask16)(e & 0xFFFFu), xr + 2 * q);
        const __m512 hi = _mm512_maskz_loadu_ps((__mmask16)(e >> 16), xr + 2 * q + 16);
        return _mm512_permutex2var_ps(lo, evens, hi);
    }
    const __m512i idx = lane_stride(sw);
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, idx, xr + q * sw, 4);
}

/* Output columns q whose input column q * sw + woff lies in [0, W), woff the input column
 * of q = 0 for kernel column s: [*qlo, *qhi). */
static inline int64_t valid_cols(const st_conv_desc *d, int64_t s, int64_t sw, int64_t *qlo,
                                 int64_t *qhi) {
    const int64_t W = d->W, woff = s * d->dil_w - d->pad_l;
    int64_t lo = woff >= 0 ? 0 : (-woff + sw - 1) / sw;
    int64_t hi = W - woff <= 0 ? 0 : (W - woff + sw - 1) / sw;
    if (hi > d->Q) hi = d->Q;
    if (lo > hi) lo = hi;
    *qlo = lo;
    *qhi = hi;
    return woff;
}

/* col[row * ld + j], j in [0, T), for rows [row0, row1) of the (c, r, s) x positions matrix
 * (positions t0 + j flattened as p*Q + q), horizontal stride sw: each output row segment is
 * one masked store per 16 positions of a masked load (stride 1), two masked loads
 * de-interleaved (stride 2) or a masked gather (wider strides); only valid input addresses
 * are read.  Inlined with sw a constant 1 (the common case, no per-vector stride test) and
 * with the descriptor's stride. */
static inline __attribute__((always_inline)) void im2col_rows(
    const st_conv_desc *d, const float *x, int64_t t0, int64_t T, float *col, int64_t ld,
    int64_t row0, int64_t row1, const int64_t sw) {
    const int64_t H = d->H, W = d->W, Q = d->Q, R = d->R, S = d->S;
    for (int64_t row = row0; row < row1; ++row) {
        const int64_t s = row % S, r = (row / S) % R, c = row / (R * S);
        const float *xc = x + c * H * W;
        float *dst = col + row * ld;
        int64_t qlo, qhi;
        const int64_t woff = valid_cols(d, s, sw, &qlo, &qhi); /* input column of q = 0 */
        int64_t t = t0, q0 = t0 % Q;
        int64_t h = (t0 / Q) * d->stride_h - d->pad_t + r * d->dil_h;
        const int64_t end = t0 + T;
        for (; t < end; h += d->stride_h, q0 = 0) {
            const int64_t q1 = (Q < q0 + (end - t)) ? Q : q0 + (end - t);
            float *o = dst + (t - t0) - q0; /* o[q] is position (p, q) */
            t += q1 - q0;
            if (h < 0 || h >= H) {
                for (int64_t q = q0; q < q1; q += 16)
                    _mm512_mask_storeu_ps(o + q, st_avx512_lanes(q1 - q), _mm512_setzero_ps());
            } else {
                const float *xr = xc + h * W + woff; /* xr[q * sw] is input (h, q*sw + woff) */
                for (int64_t q = q0; q < q1; q += 16) {
                    const __mmask16 st = st_avx512_lanes(q1 - q);
                    int64_t a = qlo - q, b = qhi - q; /* valid lanes [a, b) */
                    if (a < 0) a = 0;
                    if (b > 16) b = 16;
                    __mmask16 ld_mask = 0;
                    if (b > a) ld_mask = (__mmask16)(st_avx512_lanes(b) & ~st_avx512_lanes(a)) & st;
                    _mm512_mask_storeu_ps(o + q, st, strided_cols(xr, q, sw, ld_mask));
                }
            }
        }
    }
}

void st_conv_im2col_avx512(const st_conv_desc *d, const float *x, int64_t t0, int64_t T,
                           float *col, int64_t ld, int64_t row0, int64_t row1) {
    if (d->stride_w == 1)
        im2col_rows(d, x, t0, T, col, ld, row0, row1, 1);
    else
        im2col_rows(d, x, t0, T, col, ld, row0, row1, d->stride_w);
}

/* ---- col2im (backward-data of the GEMM path) ------------------------------------------- */

/* dx row segment += sixteen col values, output columns q..q+15 of horizontal stride sw
 * (lanes whose bit is clear in `valid` touch no memory): xr[(q + j) * sw] += v[j]. */
static inline void strided_add(float *xr, int64_t q, int64_t sw, __mmask16 valid, __m512 v) {
    if (sw == 1) {
        float *p = xr + q;
        _mm512_mask_storeu_ps(p, valid, _mm512_add_ps(_mm512_maskz_loadu_ps(valid, p), v));
    } else if (sw == 2) { /* v spread to the even elements of two 16-float spans */
        const __m512i lo_idx = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        const __m512i hi_idx = _mm512_add_epi32(lo_idx, _mm512_set1_epi32(8));
        const uint32_t e = even_bits(valid);
        const __mmask16 mlo = (__mmask16)(e & 0xFFFFu), mhi = (__mmask16)(e >> 16);
        float *p = xr + 2 * q;
        _mm512_mask_storeu_ps(p, mlo, _mm512_add_ps(_mm512_maskz_loadu_ps(mlo, p),
                                                    _mm512_permutexvar_ps(lo_idx, v)));
        _mm512_mask_storeu_ps(p + 16, mhi, _mm512_add_ps(_mm512_maskz_loadu_ps(mhi, p + 16),
                                                         _mm512_permutexvar_ps(hi_idx, v)));
    } else { /* distinct addresses per lane: gather, add, scatter */
        const __m512i idx = lane_stride(sw);
        float *p = xr + q * sw;
        const __m512 old = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, idx, p, 4);
        _mm512_mask_i32scatter_ps(p, valid, idx, _mm512_add_ps(old, v), 4);
    }
}

/* dx(c, h, w) += col rows (c, r, s) for one channel c: col[(r*S + s) * ld + j], j in [0, T),
 * positions t0 + j (the adjoint of im2col_rows, summed tap by tap in the same order as the
 * portable loop). */
static inline __attribute__((always_inline)) void col2im_chan(
    const st_conv_desc *d, const float *col, int64_t ld, int64_t t0, int64_t T, float *dxc,
    const int64_t sw) {
    const int64_t H = d->H, W = d->W, Q = d->Q, R = d->R, S = d->S;
    for (int64_t r = 0; r < R; ++r)
        for (int64_t s = 0; s < S; ++s) {
            const float *src = col + (r * S + s) * ld;
            int64_t qlo, qhi;
            const int64_t woff = valid_cols(d, s, sw, &qlo, &qhi);
            int64_t t = t0, q0 = t0 % Q;
            int64_t h = (t0 / Q) * d->stride_h - d->pad_t + r * d->dil_h;
            const int64_t end = t0 + T;
            for (; t < end; h += d->stride_h, q0 = 0) {
                const int64_t q1 = (Q < q0 + (end - t)) ? Q : q0 + (end - t);
                const float *i = src + (t - t0) - q0; /* i[q] is position (p, q) */
                t += q1 - q0;
                if (h < 0 || h >= H) continue;
                float *xr = dxc + h * W + woff;
                const int64_t a = qlo > q0 ? qlo : q0, b = qhi < q1 ? qhi : q1;
                for (int64_t q = a; q < b; q += 16) {
                    const __mmask16 m = st_avx512_lanes(b - q);
                    strided_add(xr, q, sw, m, _mm512_maskz_loadu_ps(m, i + q));
                }
            }
        }
}

void st_conv_col2im_chan_avx512(const st_conv_desc *d, const float *col, int64_t ld,
                                int64_t t0, int64_t T, float *dxc) {
    if (d->stride_w == 1)
        col2im_chan(d, col, ld, t0, T, dxc, 1);
    else
        col2im_chan(d, col, ld, t0, T, dxc, d->stride_w);
}
