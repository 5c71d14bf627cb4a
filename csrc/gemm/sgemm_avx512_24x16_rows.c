/* AVX-512 SGEMM micro-kernel, 24 x 16 tile, reading A in place (row-major, row stride lda)
 * instead of from a packed panel: for narrow products (N <= 16) each element of A is used
 * only N times, so packing it would cost as much as the arithmetic.  Each FMA takes its A
 * element as an embedded broadcast from one of the 24 rows; the summation order is that of
 * the packed 24 x 16 kernel, so both give identical results.  All 24 rows must be valid;
 * columns n..15 of C are masked off. */
#include <immintrin.h>

#include "sgemm_kernels.h"

void st_sgemm_ukr_avx512_24x16_rows(int64_t kc, const float *restrict a, int64_t lda,
                                    const float *restrict b, float *restrict c, int64_t ldc,
                                    int n, float alpha, float beta) {
    __m512 acc[24];
    /* four row groups of six: row 6g + j is at r[g] + j*lda */
    const float *r0 = a, *r1 = a + 6 * lda, *r2 = a + 12 * lda, *r3 = a + 18 * lda;
    const int64_t l1 = lda, l2 = 2 * lda, l3 = 3 * lda, l4 = 4 * lda, l5 = 5 * lda;
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) {
        _mm_prefetch((const char *)(c + (int64_t)i * ldc), _MM_HINT_T0);
        acc[i] = _mm512_setzero_ps();
    }
    for (int64_t k = 0; k < kc; ++k) {
        const __m512 bv = _mm512_load_ps(b);
#define ST_ROWS6(R, base)                                                                     \
    acc[R + 0] = _mm512_fmadd_ps(_mm512_set1_ps(base[k]), bv, acc[R + 0]);                    \
    acc[R + 1] = _mm512_fmadd_ps(_mm512_set1_ps(base[k + l1]), bv, acc[R + 1]);               \
    acc[R + 2] = _mm512_fmadd_ps(_mm512_set1_ps(base[k + l2]), bv, acc[R + 2]);               \
    acc[R + 3] = _mm512_fmadd_ps(_mm512_set1_ps(base[k + l3]), bv, acc[R + 3]);               \
    acc[R + 4] = _mm512_fmadd_ps(_mm512_set1_ps(base[k + l4]), bv, acc[R + 4]);               \
    acc[R + 5] = _mm512_fmadd_ps(_mm512_set1_ps(base[k + l5]), bv, acc[R + 5]);
        ST_ROWS6(0, r0)
        ST_ROWS6(6, r1)
        ST_ROWS6(12, r2)
        ST_ROWS6(18, r3)
#undef ST_ROWS6
        b += 16;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const __mmask16 mask = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
    if (beta == 0.f) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; ++i)
            _mm512_mask_storeu_ps(c + (int64_t)i * ldc, mask, _mm512_mul_ps(acc[i], va));
    } else {
#pragma GCC unroll 24
        for (int i = 0; i < 24; ++i) {
            float *cr = c + (int64_t)i * ldc;
            __m512 old = _mm512_maskz_loadu_ps(mask, cr);
            _mm512_mask_storeu_ps(cr, mask, _mm512_fmadd_ps(vb, old, _mm512_mul_ps(acc[i], va)));
        }
    }
}
