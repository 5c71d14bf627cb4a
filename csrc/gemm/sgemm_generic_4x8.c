/* Portable C99 SGEMM micro-kernel, 4 x 8 tile: always built, the fallback path and the
 * reference the SIMD kernels are tested against.  Written so a compiler can vectorise the
 * inner j loop with the baseline ISA: on x86-64, 8 SSE2 accumulators + B + A fit the 16 xmm
 * registers (a 4 x 16 tile would spill). */
#include "sgemm_kernels.h"

#define MR 4
#define NR 8

void st_sgemm_ukr_generic_4x8(int64_t kc, const float *restrict a, const float *restrict b,
                               float *restrict c, int64_t ldc, int m, int n, float alpha,
                               float beta) {
    float acc[MR][NR] = {{0.f}};
    for (int64_t k = 0; k < kc; ++k) {
        for (int i = 0; i < MR; ++i) {
            const float ai = a[i];
            for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
        }
        a += MR;
        b += NR;
    }
    for (int i = 0; i < m; ++i) {
        float *cr = c + (int64_t)i * ldc;
        if (beta == 0.f)
            for (int j = 0; j < n; ++j) cr[j] = alpha * acc[i][j];
        else
            for (int j = 0; j < n; ++j) cr[j] = alpha * acc[i][j] + beta * cr[j];
    }
}
