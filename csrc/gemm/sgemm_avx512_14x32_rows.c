/* AVX-512 SGEMM micro-kernel, 14 x 32 tile, reading A in place (row-major, row stride lda)
 * instead of from a packed panel: for products where each row tile of A meets only one or two
 * column panels of B (packing A would cost a large share of the arithmetic, and a row-major A
 * packs by transposing), e.g. the weight gradient of a 1x1 convolution, whose A is the input
 * image (channels x positions).  Same summation order as the packed 14 x 32 kernel (one FMA
 * chain per element over k, then alpha / beta), so results are identical.  All 14 rows must
 * be valid; columns n..31 of C are masked off. */
#include <immintrin.h>

#include "sgemm_kernels.h"
#include "simd_avx512.h"

#define ROWS_PF_AHEAD 64 /* floats ahead in each row of A, fetched once every 16 steps of k */

void st_sgemm_ukr_avx512_14x32_rows(int64_t kc, const float *restrict a, int64_t lda,
                                    const float *restrict b, float *restrict c, int64_t ldc,
                                    int n, float alpha, float beta) {
    __m512 acc[14][2];
    const __mmask16 mask[2] = {st_avx512_lanes(n), st_avx512_lanes(n - 16)};
    /* rows 3g + j are read at p[g] + j * lda (j < 3): five base pointers, two strides */
    const float *p0 = a, *p1 = a + 3 * lda, *p2 = a + 6 * lda, *p3 = a + 9 * lda,
                *p4 = a + 12 * lda;
    const int64_t l1 = lda, l2 = 2 * lda;
#pragma GCC unroll 14
    for (int i = 0; i < 14; ++i) {
        _mm_prefetch((const char *)(c + (int64_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (int64_t)i * ldc + 31), _MM_HINT_T0);
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    }
    for (int64_t k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        const float *ak[14] = {p0 + k,      p0 + k + l1, p0 + k + l2, p1 + k,      p1 + k + l1,
                               p1 + k + l2, p2 + k,      p2 + k + l1, p2 + k + l2, p3 + k,
                               p3 + k + l1, p3 + k + l2, p4 + k,      p4 + k + l1};
        if ((k & 15) == 0 && k + ROWS_PF_AHEAD < kc) {
#pragma GCC unroll 14
            for (int i = 0; i < 14; ++i)
                _mm_prefetch((const char *)(ak[i] + ROWS_PF_AHEAD), _MM_HINT_T0);
        }
#pragma GCC unroll 14
        for (int i = 0; i < 14; ++i) {
            const __m512 av = _mm512_set1_ps(*ak[i]);
            acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
        }
        b += 32;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
    for (int i = 0; i < 14; ++i) {
        float *cr = c + (int64_t)i * ldc;
#pragma GCC unroll 2
        for (int v = 0; v < 2; ++v) {
            const __m512 r = _mm512_mul_ps(acc[i][v], va);
            if (beta == 0.f) {
                _mm512_mask_storeu_ps(cr + 16 * v, mask[v], r);
            } else {
                const __m512 old = _mm512_maskz_loadu_ps(mask[v], cr + 16 * v);
                _mm512_mask_storeu_ps(cr + 16 * v, mask[v], _mm512_fmadd_ps(vb, old, r));
            }
        }
    }
}
