/* Winograd F(4x4, 3x3) tile transforms for AVX-512: 16 tiles per pass, one tile per lane,
 * tile elements fetched with gathers (and output tiles written with scatters), all 36
 * points kept in registers.  The kernel transform is the portable code of
 * conv_winograd_impl.h compiled with AVX-512 flags. */
#include <immintrin.h>
#include <stdint.h>

#define WG_NAME(f) f##_avx512_c
#include "conv_winograd_impl.h"
#undef WG_NAME

static inline __mmask16 wg_mask(int64_t nl) {
    return nl >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nl) - 1u);
}

/* The lanes' image offsets, first rows and first columns as int32 vectors (the driver
 * uses these kernels only when a chunk's planes hold fewer than 2^31 floats). */
static inline int64_t wg_lane_vectors(const wg_planes *g, int64_t b, __m512i *base,
                                      __m512i *row, __m512i *col) {
    int64_t b64[WG_L], r64[WG_L], c64[WG_L];
    int32_t b32[WG_L], r32[WG_L], c32[WG_L];
    const int64_t nl = wg_lanes_avx512_c(g, b, b64, r64, c64);
    for (int l = 0; l < WG_L; ++l) {
        b32[l] = (int32_t)b64[l];
        r32[l] = (int32_t)r64[l];
        c32[l] = (int32_t)c64[l];
    }
    *base = _mm512_loadu_si512(b32);
    *row = _mm512_loadu_si512(r32);
    *col = _mm512_loadu_si512(c32);
    return nl;
}

/* lanes whose v + k lies in [0, n) */
static inline __mmask16 wg_in(__m512i v, int64_t k, int64_t n) {
    const __m512i u = _mm512_add_epi32(v, _mm512_set1_epi32((int32_t)k));
    return _mm512_cmpge_epi32_mask(u, _mm512_setzero_si512()) &
           _mm512_cmplt_epi32_mask(u, _mm512_set1_epi32((int32_t)n));
}

/* base + (v + k) * W as the row offsets of rows v + k */
static inline __m512i wg_rowoff(__m512i base, __m512i v, int64_t k, int64_t W) {
    return _mm512_add_epi32(base, _mm512_mullo_epi32(_mm512_add_epi32(
                                                         v, _mm512_set1_epi32((int32_t)k)),
                                                     _mm512_set1_epi32((int32_t)W)));
}

#define BT6(d0, d1, d2, d3, d4, d5, t)                                                       \
    do {                                                                                     \
        const __m512 s_four = _mm512_set1_ps(4.f), s_five = _mm512_set1_ps(5.f),             \
                     s_two = _mm512_set1_ps(2.f);                                              \
        t[0] = _mm512_add_ps(_mm512_fnmadd_ps(s_five, d2, _mm512_mul_ps(s_four, d0)), d4);       \
        t[1] = _mm512_fnmadd_ps(s_four, _mm512_add_ps(d1, d2), _mm512_add_ps(d3, d4));         \
        t[2] = _mm512_fmadd_ps(s_four, _mm512_sub_ps(d1, d2), _mm512_sub_ps(d4, d3));          \
        t[3] = _mm512_fmadd_ps(s_two, _mm512_sub_ps(d3, d1), _mm512_sub_ps(d4, d2));           \
        t[4] = _mm512_fmadd_ps(s_two, _mm512_sub_ps(d1, d3), _mm512_sub_ps(d4, d2));           \
        t[5] = _mm512_add_ps(_mm512_fnmadd_ps(s_five, d3, _mm512_mul_ps(s_four, d1)), d5);       \
    } while (0)

#define AT4(m0, m1, m2, m3, m4, m5, t)                                                       \
    do {                                                                                     \
        const __m512 s_a = _mm512_add_ps(m1, m2), s_b = _mm512_sub_ps(m1, m2);                  \
        const __m512 s_c = _mm512_add_ps(m3, m4), s_e = _mm512_sub_ps(m3, m4);                   \
        t[0] = _mm512_add_ps(_mm512_add_ps(m0, s_a), s_c);                                       \
        t[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.f), s_e, s_b);                                  \
        t[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.f), s_c, s_a);                                   \
        t[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.f), s_e, s_b), m5);               \
    } while (0)

#define A6(o0, o1, o2, o3, t)                                                                \
    do {                                                                                     \
        const __m512 s_ev = _mm512_add_ps(o0, o2), s_od = _mm512_add_ps(o1, o3);                 \
        const __m512 s_ev4 = _mm512_fmadd_ps(_mm512_set1_ps(4.f), o2, o0);                     \
        const __m512 s_od2 = _mm512_fmadd_ps(_mm512_set1_ps(8.f), o3,                          \
                                           _mm512_mul_ps(_mm512_set1_ps(2.f), o1));          \
        t[0] = o0;                                                                           \
        t[1] = _mm512_add_ps(s_ev, s_od);                                                        \
        t[2] = _mm512_sub_ps(s_ev, s_od);                                                        \
        t[3] = _mm512_add_ps(s_ev4, s_od2);                                                      \
        t[4] = _mm512_sub_ps(s_ev4, s_od2);                                                      \
        t[5] = o3;                                                                           \
    } while (0)

void st_wino_input_avx512(const float *restrict x, const wg_planes *g, float *restrict dst,
                          int64_t ps) {
    const int64_t nt = g->nimg * g->tH * g->tW;
    for (int64_t b = 0; b < nt; b += WG_L) {
        __m512i base, row, col;
        const int64_t nl = wg_lane_vectors(g, b, &base, &row, &col);
        const __mmask16 m = wg_mask(nl);
        __m512i roff[6], cidx[6];
        __mmask16 rin[6], cin[6];
        for (int i = 0; i < 6; ++i) {
            rin[i] = m & wg_in(row, i - g->pt, g->H);
            roff[i] = wg_rowoff(base, row, i - g->pt, g->W);
            cin[i] = wg_in(col, i - g->pl, g->W);
            cidx[i] = _mm512_add_epi32(col, _mm512_set1_epi32((int32_t)(i - g->pl)));
        }
        __m512 t[6][6]; /* t[k][j] = (B^T d)[k][j] */
        for (int j = 0; j < 6; ++j) {
            __m512 d[6], r[6];
            for (int i = 0; i < 6; ++i)
                d[i] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rin[i] & cin[j],
                                                _mm512_add_epi32(roff[i], cidx[j]), x, 4);
            BT6(d[0], d[1], d[2], d[3], d[4], d[5], r);
            for (int k = 0; k < 6; ++k) t[k][j] = r[k];
        }
        float *out = dst + b;
        for (int k = 0; k < 6; ++k) {
            __m512 r[6];
            BT6(t[k][0], t[k][1], t[k][2], t[k][3], t[k][4], t[k][5], r);
            for (int c = 0; c < 6; ++c) _mm512_mask_storeu_ps(out + (k * 6 + c) * ps, m, r[c]);
        }
    }
}

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
        int64_t base[WG_L], row[WG_L], col[WG_L];
        const int64_t nl = wg_lanes_avx512_c(g, b, base, row, col);
        const __mmask16 m = wg_mask(nl);
        const float *in = src + b;
        __m512 t[4][6]; /* t[a][j] = (A^T m)[a][j] */
        for (int j = 0; j < 6; ++j) {
            __m512 v[6], r[4];
            for (int i = 0; i < 6; ++i) v[i] = _mm512_maskz_loadu_ps(m, in + (i * 6 + j) * ps);
            AT4(v[0], v[1], v[2], v[3], v[4], v[5], r);
            for (int a = 0; a < 4; ++a) t[a][j] = r[a];
        }
        __m512 o[16]; /* o[4a + c]: output (a, c) of the 16 tiles */
        for (int a = 0; a < 4; ++a) {
            __m512 r[4];
            AT4(t[a][0], t[a][1], t[a][2], t[a][3], t[a][4], t[a][5], r);
            for (int c = 0; c < 4; ++c) o[4 * a + c] = _mm512_add_ps(r[c], bv);
        }
        wg_transpose16(o); /* o[l]: the 16 outputs of tile l, row-major */
        for (int64_t l = 0; l < nl; ++l) {
            const int64_t cols = g->W - col[l] < 4 ? g->W - col[l] : 4;
            const __mmask8 cm = (__mmask8)((1u << cols) - 1u);
            float *dst = y + base[l] + row[l] * g->W + col[l];
            const int64_t rows = g->H - row[l] < 4 ? g->H - row[l] : 4;
            for (int64_t a = 0; a < rows; ++a) {
                const __m128 v = a == 0   ? _mm512_castps512_ps128(o[l])
                                 : a == 1 ? _mm512_extractf32x4_ps(o[l], 1)
                                 : a == 2 ? _mm512_extractf32x4_ps(o[l], 2)
                                          : _mm512_extractf32x4_ps(o[l], 3);
                _mm_mask_storeu_ps(dst + a * g->W, cm, v);
            }
        }
    }
}

void st_wino_dy_avx512(const float *restrict dy, const wg_planes *g, float *restrict dst,
                       int64_t ps) {
    const int64_t nt = g->nimg * g->tH * g->tW;
    for (int64_t b = 0; b < nt; b += WG_L) {
        __m512i base, row, col;
        const int64_t nl = wg_lane_vectors(g, b, &base, &row, &col);
        const __mmask16 m = wg_mask(nl);
        __mmask16 rin[4], cin[4];
        __m512i roff[4];
        for (int a = 0; a < 4; ++a) {
            rin[a] = m & wg_in(row, a, g->H);
            cin[a] = wg_in(col, a, g->W);
            roff[a] = wg_rowoff(base, row, a, g->W);
        }
        __m512 t[6][4]; /* t[i][c] = (A o)[i][c] */
        for (int c = 0; c < 4; ++c) {
            __m512 o[4], r[6];
            const __m512i cc = _mm512_add_epi32(col, _mm512_set1_epi32(c));
            for (int a = 0; a < 4; ++a)
                o[a] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rin[a] & cin[c],
                                                _mm512_add_epi32(roff[a], cc), dy, 4);
            A6(o[0], o[1], o[2], o[3], r);
            for (int i = 0; i < 6; ++i) t[i][c] = r[i];
        }
        float *out = dst + b;
        for (int i = 0; i < 6; ++i) {
            __m512 r[6];
            A6(t[i][0], t[i][1], t[i][2], t[i][3], r);
            for (int j = 0; j < 6; ++j) _mm512_mask_storeu_ps(out + (i * 6 + j) * ps, m, r[j]);
        }
    }
}

/* G g G^T for 16 input channels per pass: the 9 taps gathered into registers (the kernels
 * of consecutive input channels are 9 floats apart, or Co*9 for the rotated backward-data
 * kernels), 18 + 36 points computed in registers, 36 16-float stores. */
#define G3(g0, g1, g2, t)                                                                    \
    do {                                                                                     \
        const __m512 s_e = _mm512_mul_ps(_mm512_add_ps(g0, g2), _mm512_set1_ps(-1.f / 6.f)); \
        const __m512 s_f = _mm512_fmadd_ps(g0, _mm512_set1_ps(1.f / 24.f),                   \
                                           _mm512_mul_ps(g2, _mm512_set1_ps(1.f / 6.f)));    \
        const __m512 s_g6 = _mm512_mul_ps(g1, _mm512_set1_ps(1.f / 6.f));                    \
        const __m512 s_g12 = _mm512_mul_ps(g1, _mm512_set1_ps(1.f / 12.f));                  \
        t[0] = _mm512_mul_ps(g0, _mm512_set1_ps(0.25f));                                     \
        t[1] = _mm512_sub_ps(s_e, s_g6);                                                     \
        t[2] = _mm512_add_ps(s_e, s_g6);                                                     \
        t[3] = _mm512_add_ps(s_f, s_g12);                                                    \
        t[4] = _mm512_sub_ps(s_f, s_g12);                                                    \
        t[5] = g2;                                                                           \
    } while (0)

void st_wino_weights_avx512(const float *restrict w, int64_t o, int64_t Co, int64_t Ci,
                            int flip, float *restrict U, int64_t uxi) {
    const int64_t step = flip ? Co * 9 : 9; /* floats between consecutive input channels */
    int32_t lane[WG_L];
    for (int l = 0; l < WG_L; ++l) lane[l] = (int32_t)(l * step);
    const __m512i idx = _mm512_loadu_si512(lane);
    for (int64_t i0 = 0; i0 < Ci; i0 += WG_L) {
        const int64_t nl = Ci - i0 < WG_L ? Ci - i0 : WG_L;
        const __mmask16 m = wg_mask(nl);
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
