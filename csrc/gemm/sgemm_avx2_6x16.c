/* AVX2 + FMA SGEMM micro-kernel, 6 x 16 tile (12 ymm accumulators).  Partial tiles use
 * vmaskmov loads/stores on the columns (masked-out lanes are never accessed) and skip invalid
 * rows. */
#include <immintrin.h>

#include "sgemm_kernels.h"

#define MR 6
#define NV 2 /* 8-float vectors per row: NR = 16 */

static inline __m256i lane_mask(int r) {
    /* lanes [0, r) set, r clamped to [0, 8] */
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    r = r < 0 ? 0 : r > 8 ? 8 : r;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), idx);
}

void st_sgemm_ukr_avx2_6x16(int64_t kc, const float *restrict a, const float *restrict b,
                            float *restrict c, int64_t ldc, int m, int n, float alpha,
                            float beta) {
    __m256 acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();

    for (int64_t k = 0; k < kc; ++k) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
            __m256 av = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
        a += MR;
        b += 8 * NV;
    }

    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const int full = (n == 8 * NV);
    __m256i mask[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) mask[v] = lane_mask(n - 8 * v);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
        if (i >= m) break;
        float *cr = c + (int64_t)i * ldc;
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) {
            __m256 r = _mm256_mul_ps(acc[i][v], va);
            if (full) {
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
