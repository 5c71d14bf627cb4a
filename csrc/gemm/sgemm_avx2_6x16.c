/* AVX2 + FMA SGEMM micro-kernel, 6 x 16 tile (12 ymm accumulators). */
#include "sgemm_kernels.h"

#define UKR_MR 6
#define UKR_NAME st_sgemm_ukr_avx2_6x16
#include "sgemm_avx2_ukr.h"
