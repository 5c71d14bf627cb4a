/* FMA peak probe on ymm registers (see fma_peak_impl.h). */
#include <immintrin.h>

#define PK_NAME st_fma_loop_avx2
#define PK_T __m256
#define PK_LANES 8
#define PK_SET1(x) _mm256_set1_ps(x)
#define PK_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define PK_ADD(a, b) _mm256_add_ps(a, b)
#include "fma_peak_impl.h"
