/* AVX-512 packing of SGEMM micro-panels (see st_sgemm_pack_fn in sgemm_kernels.h).
 *
 * Element (r, k) of the panel source is src[r*ld + k] (row layout: rows of A, or columns of a
 * transposed B) or src[k*ld + r] (k-major layout: columns of a transposed A, or rows of B).
 * Row layout is transposed 16 x 16 at a time in registers (64 shuffles per 256 floats);
 * k-major layout is a masked copy.  Masked loads never touch rows >= n or k >= kc. */
#include <immintrin.h>

#include "sgemm_kernels.h"
#include "simd_avx512.h"

#define PF_AHEAD 64 /* floats ahead in each source row (row layout) */
#define PF_ROWS 8   /* rows ahead (k-major layout) */


/* In-register transpose: on return w[j] holds column j of the 16 x 16 block r[0..15]. */
static inline void transpose16(const __m512 r[16], __m512 w[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4g + c]: lane L holds rows 4g..4g+3 of column 4L + c */
    for (int g = 0; g < 4; ++g) {
        __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
        __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
        u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* 4 x 4 transpose of 128-bit lanes for each c */
    for (int c = 0; c < 4; ++c) {
        __m512 x0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
        __m512 x1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
        __m512 x2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
        __m512 x3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
        w[0 + c] = _mm512_shuffle_f32x4(x0, x2, 0x88);
        w[4 + c] = _mm512_shuffle_f32x4(x0, x2, 0xDD);
        w[8 + c] = _mm512_shuffle_f32x4(x1, x3, 0x88);
        w[12 + c] = _mm512_shuffle_f32x4(x1, x3, 0xDD);
    }
}

void st_sgemm_pack_avx512(int kmajor, int64_t kc, int n, int R, const float *src, int64_t ld,
                          float *dst) {
    if (kmajor) {
        for (int64_t k = 0; k < kc; ++k) {
            const float *s = src + k * ld;
            float *d = dst + k * R;
            /* one short piece per row: the rows ahead are fetched explicitly, the hardware
             * prefetchers do not follow a large stride */
            if (k + PF_ROWS < kc) {
                _mm_prefetch((const char *)(s + PF_ROWS * ld), _MM_HINT_T0);
                _mm_prefetch((const char *)(s + PF_ROWS * ld + n - 1), _MM_HINT_T0);
            }
            for (int rb = 0; rb < R; rb += 16)
                _mm512_mask_storeu_ps(d + rb, st_avx512_lanes(R - rb),
                                      _mm512_maskz_loadu_ps(st_avx512_lanes(n - rb), s + rb));
        }
        return;
    }
    for (int rb = 0; rb < R; rb += 16) {
        const int nv = n - rb; /* valid rows in this group of 16 */
        const __mmask16 smask = st_avx512_lanes(R - rb);
        for (int64_t k0 = 0; k0 < kc; k0 += 16) {
            const int64_t kv = kc - k0 < 16 ? kc - k0 : 16;
            const __mmask16 kmask = st_avx512_lanes(kv);
            __m512 r[16], w[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; ++i) {
                if (i < nv) {
                    const float *s = src + (int64_t)(rb + i) * ld + k0;
                    r[i] = _mm512_maskz_loadu_ps(kmask, s);
                    /* many rows are streamed at once: help the hardware prefetcher */
                    if (k0 + PF_AHEAD < kc) _mm_prefetch((const char *)(s + PF_AHEAD), _MM_HINT_T0);
                } else {
                    r[i] = _mm512_setzero_ps();
                }
            }
            transpose16(r, w);
            float *d = dst + k0 * R + rb;
            if (kv == 16) {
#pragma GCC unroll 16
                for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(d + j * R, smask, w[j]);
            } else {
                for (int j = 0; j < kv; ++j) _mm512_mask_storeu_ps(d + j * R, smask, w[j]);
            }
        }
    }
}
