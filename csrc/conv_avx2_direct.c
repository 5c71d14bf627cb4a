/* AVX2 + FMA direct convolution kernels: the stride-1 block of conv.c's direct path (as
 * conv_avx512_direct.c's, in 16 ymm registers), and the weight gradient of a layer with few
 * input channels (conv_direct_dw_impl.h). */
#include <immintrin.h>
#include <stdint.h>

#include "simd_avx2.h"

#define DWD_NAME st_conv_direct_dw_avx2
#define DWD_T 6
#define DWD_VL 8
#define DWD_VEC __m256
#define DWD_ZERO() _mm256_setzero_ps()
#define DWD_LOADU(p) _mm256_loadu_ps(p)
#define DWD_MASK_T __m256i
#define DWD_MASK(r) st_avx2_lanes(r)
#define DWD_LOADM(p, m) _mm256_maskload_ps((p), (m))
#define DWD_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define DWD_ADD(a, b) _mm256_add_ps((a), (b))
#define DWD_STOREU(p, v) _mm256_storeu_ps((p), (v))
#include "conv_direct_dw_impl.h"

/* ---- direct stride-1 block (see conv.c, direct_*) -------------------------------------
 *
 *   y[o * ldy + i] = bias[o] + sum_{c < Cn} sum_{t < taps} wp[(c * taps + t) * 8 + o]
 *                                                        * src[c * cstride + i + off[t]]
 *
 * for o < 8 and i < n, summed in the AVX-512 kernel's order.  Sixteen ymm registers hold 4
 * output channels x 24 positions (12 accumulators, 3 input vectors, one weight), so the 8
 * channels of a block take two passes over the input, each in blocks of 24 positions and a
 * tail of 1-3 vectors, the last masked: nothing past src[c * cstride + n - 1 + off[t]] is
 * read and nothing past y[o * ldy + n - 1] written. */
#define DIRECT_OB 8
#define DIRECT_HALF 4

static inline __attribute__((always_inline)) void direct_block(
    float *restrict y, int64_t ldy, const float *restrict src, int64_t cstride, int64_t Cn,
    const int64_t *restrict off, int64_t taps, const float *restrict wp,
    const float *restrict bias, int64_t i, int64_t n, int h, const int nv, const int full) {
    __m256i m[3];
    for (int v = 0; v < 3; ++v) m[v] = st_avx2_lanes(n - i - 8 * v);
    __m256 acc[DIRECT_HALF][3];
    for (int o = 0; o < DIRECT_HALF; ++o)
        for (int v = 0; v < nv; ++v) acc[o][v] = _mm256_set1_ps(bias[h + o]);
    for (int64_t c = 0; c < Cn; ++c) {
        const float *sc = src + c * cstride + i;
        const float *wc = wp + c * taps * DIRECT_OB + h;
        for (int64_t t = 0; t < taps; ++t) {
            const float *s = sc + off[t];
            const float *wt = wc + t * DIRECT_OB;
            __m256 x[3];
            for (int v = 0; v < nv; ++v)
                x[v] = full ? _mm256_loadu_ps(s + 8 * v) : _mm256_maskload_ps(s + 8 * v, m[v]);
            for (int o = 0; o < DIRECT_HALF; ++o) {
                const __m256 w = _mm256_broadcast_ss(wt + o);
                for (int v = 0; v < nv; ++v) acc[o][v] = _mm256_fmadd_ps(w, x[v], acc[o][v]);
            }
        }
    }
    for (int o = 0; o < DIRECT_HALF; ++o)
        for (int v = 0; v < nv; ++v) {
            float *d = y + (int64_t)(h + o) * ldy + i + 8 * v;
            if (full)
                _mm256_storeu_ps(d, acc[o][v]);
            else
                _mm256_maskstore_ps(d, m[v], acc[o][v]);
        }
}

void st_conv_direct_block_avx2(float *restrict y, int64_t ldy, const float *restrict src,
                               int64_t cstride, int64_t Cn, const int64_t *restrict off,
                               int64_t taps, const float *restrict wp,
                               const float *restrict bias, int64_t n) {
    for (int h = 0; h < DIRECT_OB; h += DIRECT_HALF) {
        int64_t i = 0;
        for (; i + 24 <= n; i += 24)
            direct_block(y, ldy, src, cstride, Cn, off, taps, wp, bias, i, n, h, 3, 1);
        const int64_t rest = n - i;
        if (rest > 16)
            direct_block(y, ldy, src, cstride, Cn, off, taps, wp, bias, i, n, h, 3, 0);
        else if (rest > 8)
            direct_block(y, ldy, src, cstride, Cn, off, taps, wp, bias, i, n, h, 2, 0);
        else if (rest > 0)
            direct_block(y, ldy, src, cstride, Cn, off, taps, wp, bias, i, n, h, 1, 0);
    }
}

/* ---- rows of one output plane for few outputs (conv_rowdirect_impl.h) -----------------
 * 3-row kernels: 12 ymm accumulators (12 rows of 1 vector, 6 of 2, 4 of 3 or 3 of 4); 5 and 7
 * rows: column blocks of one vector, in as many rows as leave room for the R weights (9 / 7). */
#define RD_NAME st_conv_rowdirect_avx2
#define RD_VL 8
#define RD_VEC __m256
#define RD_MASK_T __m256i
#define RD_MASK(a, b) _mm256_andnot_si256(st_avx2_lanes(a), st_avx2_lanes(b))
#define RD_LOADM(p, m) _mm256_maskload_ps((p), (m))
#define RD_STOREM(p, m, v) _mm256_maskstore_ps((p), (m), (v))
#define RD_SET1(x) _mm256_set1_ps(x)
#define RD_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define RD_RB(vb, r)                                                                       \
    ((r) == 3 ? ((vb) == 1 ? 12 : (vb) == 2 ? 6 : (vb) == 3 ? 4 : 3) : (15 - (r) - (vb)) / (vb))
#define RD_VB_CAP(r) ((r) == 3 ? 4 : 1)
#define RD_WNAME st_conv_rowdirect_dw_avx2
#define RD_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define RD_WVB 1
#define RD_WRB1 4
#define RD_WRB2 4
#include "conv_rowdirect_impl.h"

/* ---- im2col rows at horizontal stride 2 (conv.c, im2col_tile) -------------------------
 * o[j] = x[2j] for j < n: two loads of 8 with the even elements de-interleaved, reading no
 * further than x[2n - 2] (the last vector is left to the scalar loop). */
void st_conv_strided2_copy_avx2(float *restrict o, const float *restrict x, int64_t n) {
    int64_t j = 0;
    for (; j + 8 < n; j += 8) {
        const __m256 a = _mm256_loadu_ps(x + 2 * j), b = _mm256_loadu_ps(x + 2 * j + 8);
        _mm256_storeu_ps(o + j, _mm256_castpd_ps(_mm256_permute4x64_pd(
                                    _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8)));
    }
    for (; j < n; ++j) o[j] = x[2 * j];
}

/* ---- col2im rows at horizontal stride 2 (conv.c, col2im_tile) -------------------------
 * x[2j] += v[j] for j < n: 16 floats loaded, the even ones added to and interleaved back with
 * the odd ones unchanged (same bits), touching no further than x[2n - 2] (the last vector is
 * left to the scalar loop).  The caller's thread owns the plane x. */
void st_conv_strided2_add_avx2(float *restrict x, const float *restrict v, int64_t n) {
    int64_t j = 0;
    for (; j + 8 < n; j += 8) {
        const __m256 a = _mm256_loadu_ps(x + 2 * j), b = _mm256_loadu_ps(x + 2 * j + 8);
        /* e = x[0 2 8 10 | 4 6 12 14], o = x[1 3 9 11 | 5 7 13 15]: the order unpack
         * restores */
        const __m256 e = _mm256_shuffle_ps(a, b, 0x88), o = _mm256_shuffle_ps(a, b, 0xDD);
        /* v in that order: v0 v1 v4 v5 | v2 v3 v6 v7 */
        const __m256 vv = _mm256_castpd_ps(
            _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_loadu_ps(v + j)), 0xD8));
        const __m256 s = _mm256_add_ps(e, vv);
        /* unpack: s0 o0 s1 o1 | s2 o2 s3 o3 and s4 o4 s5 o5 | s6 o6 s7 o7 */
        _mm256_storeu_ps(x + 2 * j, _mm256_unpacklo_ps(s, o));
        _mm256_storeu_ps(x + 2 * j + 8, _mm256_unpackhi_ps(s, o));
    }
    for (; j < n; ++j) x[2 * j] += v[j];
}
