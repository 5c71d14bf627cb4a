/* AVX2 + FMA weight gradient of a layer with few input channels (conv_direct_dw_impl.h): two
 * output channels x 6 taps of 8-lane partial sums in 12 of the 16 ymm registers. */
#include <immintrin.h>
#include <stdint.h>

static inline __m256i lane_mask(int64_t r) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    r = r < 0 ? 0 : r > 8 ? 8 : r;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), idx);
}

#define DWD_NAME st_conv_direct_dw_avx2
#define DWD_T 6
#define DWD_VL 8
#define DWD_VEC __m256
#define DWD_ZERO() _mm256_setzero_ps()
#define DWD_LOADU(p) _mm256_loadu_ps(p)
#define DWD_MASK_T __m256i
#define DWD_MASK(r) lane_mask(r)
#define DWD_LOADM(p, m) _mm256_maskload_ps((p), (m))
#define DWD_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define DWD_ADD(a, b) _mm256_add_ps((a), (b))
#define DWD_STOREU(p, v) _mm256_storeu_ps((p), (v))
#include "conv_direct_dw_impl.h"
