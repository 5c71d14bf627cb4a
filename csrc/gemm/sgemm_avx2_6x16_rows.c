/* AVX2 + FMA SGEMM micro-kernel, 6 x 16 tile, reading A in place (row-major, row stride lda)
 * instead of from a packed panel: for narrow products (N <= 16), where packing A would cost
 * as much as the arithmetic.  Same summation order as the packed 6 x 16 kernel.  All 6 rows
 * must be valid; columns n..15 of C are masked off. */
#include <immintrin.h>

#include "../simd_avx2.h"
#include "sgemm_kernels.h"

void st_sgemm_ukr_avx2_6x16_rows(int64_t kc, const float *restrict a, int64_t lda,
                                 const float *restrict b, float *restrict c, int64_t ldc, int n,
                                 float alpha, float beta) {
    __m256 acc[6][2];
    const float *r0 = a, *r3 = a + 3 * lda;
    const int64_t l1 = lda, l2 = 2 * lda;
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) {
        _mm_prefetch((const char *)(c + (int64_t)i * ldc), _MM_HINT_T0);
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        const float *ak[6] = {r0 + k, r0 + k + l1, r0 + k + l2, r3 + k, r3 + k + l1, r3 + k + l2};
#pragma GCC unroll 6
        for (int i = 0; i < 6; ++i) {
            const __m256 av = _mm256_broadcast_ss(ak[i]);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
        b += 16;
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const __m256i mask[2] = {st_avx2_lanes(n), st_avx2_lanes(n - 8)};
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) {
        float *cr = c + (int64_t)i * ldc;
#pragma GCC unroll 2
        for (int v = 0; v < 2; ++v) {
            __m256 r = _mm256_mul_ps(acc[i][v], va);
            if (n == 16) {
                if (beta != 0.f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8 * v), r);
                _mm256_storeu_ps(cr + 8 * v, r);
            } else {
                if (beta != 0.f)
                    r = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8 * v, mask[v]), r);
                _mm256_maskstore_ps(cr + 8 * v, mask[v], r);
            }
        }
    }
}
