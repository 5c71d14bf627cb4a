/* Winograd F(4x4, 3x3) tile transforms for AVX-512: 16 tiles per pass, one tile per lane, all
 * points kept in registers.  Tiles are read a row at a time with masked loads (two tiles per
 * register) and transposed in registers, and output tiles written a row at a time, without
 * gathers or scatters: a 16-float gather costs about 20 cycles on AMD Zen 4, and the loads
 * plus transpose about a third of that.  The kernel transform is the portable code of
 * conv_winograd_impl.h compiled with AVX-512 flags. */
#include <immintrin.h>
#include <stdint.h>

#include "simd_avx512.h"

#define WG_NAME(f) f##_avx512_c
#include "conv_winograd_impl.h"
#undef WG_NAME


#define WV __m512
#define WV_ADD _mm512_add_ps
#define WV_SUB _mm512_sub_ps
#define WV_MUL _mm512_mul_ps
#define WV_FMADD _mm512_fmadd_ps
#define WV_FNMADD _mm512_fnmadd_ps
#define WV_SET1 _mm512_set1_ps
#include "conv_winograd_simd.h"

#define WG_VL WG_L

/* Per-lane row reads for the tiles b .. b+WG_L-1 of a pass: lane l's first row starts at
 * x + off[l] (the tile's top-left input, padding included, so possibly before the plane);
 * rm[i][l] has bit j set where element (i, j) of the tile lies inside the plane (none for
 * lanes past the last tile).  Masked loads do not touch masked-out elements, so
 * out-of-plane reads never fault.  Offsets are int32: the driver uses these kernels only
 * when a chunk's planes hold fewer than 2^31 floats. */
typedef struct {
    int32_t off[WG_L];
    uint32_t rm[8][WG_L];
} wg_rows;

/* q = v / d and *r = v % d for 0 <= v < 2^24, d >= 1: a float quotient, off by at most one,
 * then corrected */
static inline __m512i wg_divmod(__m512i v, int64_t d, __m512i *r) {
    const __m512i dv = _mm512_set1_epi32((int32_t)d);
    __m512i q = _mm512_cvttps_epi32(
        _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(1.f / (float)d)));
    __m512i rem = _mm512_sub_epi32(v, _mm512_mullo_epi32(q, dv));
    const __mmask16 big = _mm512_cmpge_epi32_mask(rem, dv);
    q = _mm512_mask_add_epi32(q, big, q, _mm512_set1_epi32(1));
    rem = _mm512_mask_sub_epi32(rem, big, rem, dv);
    const __mmask16 neg = _mm512_cmplt_epi32_mask(rem, _mm512_setzero_si512());
    q = _mm512_mask_sub_epi32(q, neg, q, _mm512_set1_epi32(1));
    *r = _mm512_mask_add_epi32(rem, neg, rem, dv);
    return q;
}

/* bits [lo, hi) of the `width` bits of a tile side starting at p0 that lie in [0, n) */
static inline __m512i wg_span(__m512i p0, int64_t n, int width) {
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    const __m512i lo = _mm512_max_epi32(_mm512_sub_epi32(zero, p0), zero);
    const __m512i hi = _mm512_max_epi32(
        _mm512_min_epi32(_mm512_sub_epi32(_mm512_set1_epi32((int32_t)n), p0),
                         _mm512_set1_epi32(width)),
        zero);
    const __m512i below_hi = _mm512_sub_epi32(_mm512_sllv_epi32(one, hi), one);
    const __m512i below_lo = _mm512_sub_epi32(_mm512_sllv_epi32(one, lo), one);
    return _mm512_andnot_si512(below_lo, below_hi);
}

static inline int64_t wg_rows_init(const wg_planes *g, int64_t b, int width, wg_rows *R) {
    const int64_t per = g->tH * g->tW, nt = g->nimg * per;
    const int64_t nl = nt - b < WG_L ? nt - b : WG_L;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i u, tj;
    const __m512i n = wg_divmod(_mm512_add_epi32(_mm512_set1_epi32((int32_t)(b % per)), lane),
                                per, &u);
    const __m512i ti = wg_divmod(u, g->tW, &tj);
    const __m512i r0 = _mm512_sub_epi32(_mm512_slli_epi32(ti, 2), _mm512_set1_epi32((int32_t)g->pt));
    const __m512i c0 = _mm512_sub_epi32(_mm512_slli_epi32(tj, 2), _mm512_set1_epi32((int32_t)g->pl));
    const __m512i img = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(b / per)), n);
    __m512i off = _mm512_mullo_epi32(img, _mm512_set1_epi32((int32_t)g->img_stride));
    off = _mm512_add_epi32(off, _mm512_mullo_epi32(r0, _mm512_set1_epi32((int32_t)g->W)));
    _mm512_storeu_si512(R->off, _mm512_add_epi32(off, c0));
    const __m512i rows = _mm512_maskz_mov_epi32(st_avx512_lanes(nl), wg_span(r0, g->H, width));
    const __m512i cm = wg_span(c0, g->W, width);
    for (int i = 0; i < width; ++i) {
        const __mmask16 in = _mm512_test_epi32_mask(rows, _mm512_set1_epi32(1 << i));
        _mm512_storeu_si512(R->rm[i], _mm512_maskz_mov_epi32(in, cm));
    }
    return nl;
}

static inline __mmask16 wg_row_mask(const wg_rows *R, int l, int i) {
    return (__mmask16)R->rm[i][l];
}

/* Row i (width <= 8 floats) of the 16 lanes' tiles, transposed: d[j] lane l = element j of
 * lane l's row.  Lanes k and k + 8 share a register (low and high 8 floats, each a masked
 * load), then an 8 x 8 transpose runs in both halves at once; `width` columns come out. */
static inline void wg_load_row(const float *x, const wg_rows *R, int i, int64_t W, int width,
                                 __m512 d[8]) {
    __m512 z[8], t[8], s[8];
    for (int k = 0; k < 8; ++k) {
        const __mmask16 lo = wg_row_mask(R, k, i), hi = wg_row_mask(R, k + 8, i);
        z[k] = _mm512_maskz_loadu_ps(lo, x + R->off[k] + i * W);
        z[k] = _mm512_mask_loadu_ps(z[k], (__mmask16)(hi << 8), x + R->off[k + 8] + i * W - 8);
    }
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm512_unpacklo_ps(z[k], z[k + 1]);
        t[k + 1] = _mm512_unpackhi_ps(z[k], z[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        s[k] = _mm512_shuffle_ps(t[k], t[k + 2], 0x44);
        s[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], 0xEE);
        s[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0x44);
        s[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
    }
    /* s[q] (q < 4) holds columns q (128-bit blocks 0, 2) and q + 4 (blocks 1, 3) of lanes
     * 0-3 / 8-11; s[4 + q] the same for lanes 4-7 / 12-15 */
    const __m512i lo_idx = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25,
                                             26, 27);
    const __m512i hi_idx = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28,
                                             29, 30, 31);
    for (int q = 0; q < 4 && q < width; ++q)
        d[q] = _mm512_permutex2var_ps(s[q], lo_idx, s[4 + q]);
    for (int q = 0; q + 4 < width; ++q)
        d[q + 4] = _mm512_permutex2var_ps(s[q], hi_idx, s[4 + q]);
}

static inline void wg_store(float *p, int64_t nl, __m512 v) {
    _mm512_mask_storeu_ps(p, st_avx512_lanes(nl), v);
}

#define WG_SIMD_NAME(f) f##_avx512
#include "conv_winograd_simd.h"

/* r[i] lane j <-> r[j] lane i */
static inline void wg_transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]),
                                                   _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]),
                                                       _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]),
                                                       _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]),
                                                       _mm512_castps_pd(t[i + 3])));
    }
    /* now r[4q + s] holds, in 128-bit block b, elements 4b + {0..3} of rows 4q.. of column s
     * pattern; combine the 128-bit blocks across groups of 4 */
    for (int i = 0; i < 4; ++i) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0x88);
        t[4 + i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0xDD);
        t[8 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0x88);
        t[12 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0xDD);
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xDD);
        r[4 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0x88);
        r[12 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0xDD);
    }
}

void st_wino_output_avx512(const float *restrict src, int64_t ps, const wg_planes *g,
                           float bias, float *restrict y) {
    const int64_t nt = g->nimg * g->tH * g->tW;
    const __m512 bv = _mm512_set1_ps(bias);
    for (int64_t b = 0; b < nt; b += WG_L) {
        wg_rows R;
        const int64_t nl = wg_rows_init(g, b, 4, &R);
        const __mmask16 m = st_avx512_lanes(nl);
        const float *in = src + b;
        __m512 o[16]; /* o[4a + c]: output (a, c) of the 16 tiles */
#define OUT_LOAD(xi) _mm512_maskz_loadu_ps(m, in + (xi) * ps)
        AT4_TILES(OUT_LOAD, bv, o);
#undef OUT_LOAD
        wg_transpose16(o); /* o[l]: the 16 outputs of tile l, row-major */
        for (int64_t l = 0; l < nl; ++l) {
            float *dst = y + R.off[l];
            for (int a = 0; a < 4 && R.rm[a][l]; ++a) { /* rows 0.. in the plane */
                const __mmask8 cm = (__mmask8)R.rm[a][l];
                const __m128 v = a == 0   ? _mm512_castps512_ps128(o[l])
                                 : a == 1 ? _mm512_extractf32x4_ps(o[l], 1)
                                 : a == 2 ? _mm512_extractf32x4_ps(o[l], 2)
                                          : _mm512_extractf32x4_ps(o[l], 3);
                _mm_mask_storeu_ps(dst + a * g->W, cm, v);
            }
        }
    }
}

/* G g G^T for 16 input channels per pass: the 9 taps gathered into registers (the kernels
 * of consecutive input channels are 9 floats apart, or Co*9 for the rotated backward-data
 * kernels), 18 + 36 points computed in registers (G3), 36 16-float stores. */
void st_wino_weights_avx512(const float *restrict w, int64_t o, int64_t Co, int64_t Ci,
                            int flip, float *restrict U, int64_t uxi) {
    const int64_t step = flip ? Co * 9 : 9; /* floats between consecutive input channels */
    int32_t lane[WG_L];
    for (int l = 0; l < WG_L; ++l) lane[l] = (int32_t)(l * step);
    const __m512i idx = _mm512_loadu_si512(lane);
    for (int64_t i0 = 0; i0 < Ci; i0 += WG_L) {
        const int64_t nl = Ci - i0 < WG_L ? Ci - i0 : WG_L;
        const __mmask16 m = st_avx512_lanes(nl);
        const float *base = flip ? w + (i0 * Co + o) * 9 : w + (o * Ci + i0) * 9;
        __m512 g[9], t[6][3];
        for (int k = 0; k < 9; ++k)
            g[k] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m,
                                            _mm512_add_epi32(idx, _mm512_set1_epi32(
                                                                      flip ? 8 - k : k)),
                                            base, 4);
        for (int c = 0; c < 3; ++c) { /* t[:, c] = G g[:, c] */
            __m512 r[6];
            G3(g[c], g[3 + c], g[6 + c], r);
            for (int q = 0; q < 6; ++q) t[q][c] = r[q];
        }
        for (int q = 0; q < 6; ++q) { /* U[q, :] = t[q, :] G^T */
            __m512 r[6];
            G3(t[q][0], t[q][1], t[q][2], r);
            for (int c = 0; c < 6; ++c) _mm512_mask_storeu_ps(U + (q * 6 + c) * uxi + i0, m, r[c]);
        }
    }
}

void st_wino_dw_avx512(const float *restrict dU, int64_t ps, int64_t u0, int64_t n,
                       float *restrict dw) {
    st_wino_dw_avx512_c(dU, ps, u0, n, dw);
}
