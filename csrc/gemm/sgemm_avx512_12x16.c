/* AVX-512 SGEMM micro-kernels for narrow products (N <= 16): a 12 x 16 tile, one zmm per row
 * (12 accumulators), packed (st_sgemm_ukr_avx512_12x16), its m-row edges (m = 1..11) and a
 * variant reading full 12-row tiles of A in place (st_sgemm_ukr_avx512_12x16_rows).
 *
 * Each element of A meets only N <= 16 columns, so the product is bound by broadcasting A: one
 * zmm FMA per broadcast here, against two ymm FMAs per broadcast in the AVX2 6 x 16 tile,
 * which halves the FMA work where 512-bit FMAs run at full width (Intel Xeon, 1 thread,
 * 512 x 4608 @ 4608 x 16 in a kernel-only loop: 0.87 ms with the 6 x 16 ymm tile, 0.76 with a
 * 6 x 16 zmm one, 0.69 at 8 x 16, 0.62-0.65 at 12 x 16, no better at 16 x 16).  Summation
 * order as every other kernel: one FMA chain per element over k, then alpha and beta. */
#include <immintrin.h>

#include "sgemm_kernels.h"
#include "simd_avx512.h"

#define UKR_MR 12
#define UKR_NV 1
#define UKR_NAME st_sgemm_ukr_avx512_12x16
#include "sgemm_avx512_ukr.h"

#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 1
#define UKR_NAME ukr_edge_1
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 2
#define UKR_NAME ukr_edge_2
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 3
#define UKR_NAME ukr_edge_3
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 4
#define UKR_NAME ukr_edge_4
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 5
#define UKR_NAME ukr_edge_5
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 6
#define UKR_NAME ukr_edge_6
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 7
#define UKR_NAME ukr_edge_7
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 8
#define UKR_NAME ukr_edge_8
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 9
#define UKR_NAME ukr_edge_9
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 10
#define UKR_NAME ukr_edge_10
#include "sgemm_avx512_ukr.h"
#define UKR_AS 12
#define UKR_LINKAGE static
#define UKR_NV 1
#define UKR_MR 11
#define UKR_NAME ukr_edge_11
#include "sgemm_avx512_ukr.h"

const st_sgemm_ukr_fn st_sgemm_ukr_avx512_12x16_edge[12] = {
    0,          ukr_edge_1, ukr_edge_2, ukr_edge_3, ukr_edge_4,  ukr_edge_5,
    ukr_edge_6, ukr_edge_7, ukr_edge_8, ukr_edge_9, ukr_edge_10, ukr_edge_11,
};

#define ROWS_PF_AHEAD 64 /* floats ahead in each row of A, fetched once every 16 steps of k */

void st_sgemm_ukr_avx512_12x16_rows(int64_t kc, const float *restrict a, int64_t lda,
                                    const float *restrict b, float *restrict c, int64_t ldc,
                                    int n, float alpha, float beta) {
    __m512 acc[12];
    const __mmask16 mask = st_avx512_lanes(n);
    /* rows 3g + j are read at p[g] + j * lda (j < 3): four base pointers, two strides */
    const float *p0 = a, *p1 = a + 3 * lda, *p2 = a + 6 * lda, *p3 = a + 9 * lda;
    const int64_t l1 = lda, l2 = 2 * lda;
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) {
        _mm_prefetch((const char *)(c + (int64_t)i * ldc), _MM_HINT_T0);
        acc[i] = _mm512_setzero_ps();
    }
    for (int64_t k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_load_ps(b);
        const float *ak[12] = {p0 + k, p0 + k + l1, p0 + k + l2, p1 + k, p1 + k + l1, p1 + k + l2,
                               p2 + k, p2 + k + l1, p2 + k + l2, p3 + k, p3 + k + l1, p3 + k + l2};
        if ((k & 15) == 0 && k + ROWS_PF_AHEAD < kc) {
#pragma GCC unroll 12
            for (int i = 0; i < 12; ++i)
                _mm_prefetch((const char *)(ak[i] + ROWS_PF_AHEAD), _MM_HINT_T0);
        }
#pragma GCC unroll 12
        for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(*ak[i]), b0, acc[i]);
        b += 16;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) {
        float *cr = c + (int64_t)i * ldc;
        const __m512 r = _mm512_mul_ps(acc[i], va);
        if (beta == 0.f) {
            _mm512_mask_storeu_ps(cr, mask, r);
        } else {
            const __m512 old = _mm512_maskz_loadu_ps(mask, cr);
            _mm512_mask_storeu_ps(cr, mask, _mm512_fmadd_ps(vb, old, r));
        }
    }
}
