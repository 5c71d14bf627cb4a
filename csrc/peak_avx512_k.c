/* FMA peak probe on zmm registers (see fma_peak_impl.h). */
#include <immintrin.h>

#define PK_NAME st_fma_loop_avx512
#define PK_T __m512
#define PK_LANES 16
#define PK_SET1(x) _mm512_set1_ps(x)
#define PK_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define PK_ADD(a, b) _mm512_add_ps(a, b)
#include "fma_peak_impl.h"
