/* Direct depthwise inner loops for AVX-512: the stride-1 loops of conv_dw_simd.h on 16-float
 * vectors, the portable loops of conv_dw_impl.h compiled with AVX-512 flags otherwise. */
#include <immintrin.h>
#include <stdint.h>

#include "simd_avx512.h"

#define DW_NAME(f) f##_avx512_c
#include "conv_dw_impl.h"
#undef DW_NAME


#define DWS_NAME(f) f##_avx512
#define DWS_C(f) f##_avx512_c
#define DV __m512
#define DV_L 16
#define DV_SET1(x) _mm512_set1_ps(x)
#define DV_LOADU(p) _mm512_loadu_ps(p)
#define DV_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define DV_FMADD(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define DV_MASK_T __mmask16
#define DV_MASK(len) st_avx512_lanes(len)
#define DV_LOADM(m, p) _mm512_maskz_loadu_ps((m), (p))
#define DV_STOREM(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define DV_REDUCE(v) _mm512_reduce_add_ps(v)
#include "conv_dw_simd.h"
