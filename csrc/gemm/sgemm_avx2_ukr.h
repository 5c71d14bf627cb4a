/* Body of an AVX2 + FMA SGEMM micro-kernel, instantiated by sgemm_avx2_<MR>x16*.c with UKR_MR
 * (rows), UKR_NAME and optionally UKR_LINKAGE (e.g. static) and UKR_AS, the row stride of the
 * packed A panel when it differs from UKR_MR (edge kernels computing the first UKR_MR rows of
 * a wider panel).  NR = 16: two ymm vectors per row.  Include only from files compiled with
 * AVX2 flags; the macros are undefined at the end.
 *
 * Partial tiles use vmaskmov loads/stores on the columns (masked-out lanes are never
 * accessed) and skip invalid rows. */
#include <immintrin.h>
#include <stdint.h>

#ifndef UKR_AS
#define UKR_AS UKR_MR
#endif
#ifndef UKR_LINKAGE
#define UKR_LINKAGE
#endif

#include "../simd_avx2.h"

UKR_LINKAGE void UKR_NAME(int64_t kc, const float *restrict a, const float *restrict b,
                          float *restrict c, int64_t ldc, int m, int n, float alpha,
                          float beta) {
    __m256 acc[UKR_MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < UKR_MR; ++i) {
        acc[i][0] = _mm256_setzero_ps();
        acc[i][1] = _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
        for (int i = 0; i < UKR_MR; ++i) {
            const __m256 av = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
        a += UKR_AS;
        b += 16;
    }

    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const int full = (n == 16);
    const __m256i mask[2] = {st_avx2_lanes(n), st_avx2_lanes(n - 8)};
#pragma GCC unroll 8
    for (int i = 0; i < UKR_MR; ++i) {
        if (i >= m) break;
        float *cr = c + (int64_t)i * ldc;
#pragma GCC unroll 2
        for (int v = 0; v < 2; ++v) {
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

#undef UKR_MR
#undef UKR_AS
#undef UKR_NAME
#undef UKR_LINKAGE
