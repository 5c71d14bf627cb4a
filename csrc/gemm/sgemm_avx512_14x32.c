/* AVX-512 SGEMM micro-kernel, 14 x 32 tile (28 zmm accumulators): the main kernel. */
#include "sgemm_kernels.h"

#define UKR_MR 14
#define UKR_NV 2
#define UKR_NAME st_sgemm_ukr_avx512_14x32
#include "sgemm_avx512_ukr.h"
