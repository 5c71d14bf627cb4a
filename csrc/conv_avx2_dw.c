/* Direct depthwise inner loops for AVX2 + FMA: the stride-1 loops of conv_dw_simd.h on
 * 8-float vectors, the portable loops of conv_dw_impl.h compiled with AVX2 flags otherwise. */
#include <immintrin.h>
#include <stdint.h>

#include "simd_avx2.h"

#define DW_NAME(f) f##_avx2_c
#include "conv_dw_impl.h"
#undef DW_NAME

#define DWS_NAME(f) f##_avx2
#define DWS_C(f) f##_avx2_c
#define DV __m256
#define DV_L 8
#define DV_SET1(x) _mm256_set1_ps(x)
#define DV_LOADU(p) _mm256_loadu_ps(p)
#define DV_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define DV_FMADD(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define DV_MASK_T __m256i
#define DV_MASK(len) st_avx2_lanes(len)
#define DV_LOADM(m, p) _mm256_maskload_ps((p), (m))
#define DV_STOREM(p, m, v) _mm256_maskstore_ps((p), (m), (v))
#define DV_REDUCE(v) st_avx2_hsum(v)
#include "conv_dw_simd.h"
