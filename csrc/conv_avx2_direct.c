/* AVX2 + FMA weight gradient of a layer with few input channels (conv_direct_dw_impl.h): two
 * output channels x 6 taps of 8-lane partial sums in 12 of the 16 ymm registers. */
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
