/* AVX-512 SGEMM micro-kernel, 24 x 16 tile (24 zmm accumulators): used when N <= 16
 * (tall-skinny products such as conv512x4608x16), where a 32-wide tile would waste half. */
#include "sgemm_kernels.h"

#define UKR_MR 24
#define UKR_NV 1
#define UKR_NAME st_sgemm_ukr_avx512_24x16
#include "sgemm_avx512_ukr.h"
