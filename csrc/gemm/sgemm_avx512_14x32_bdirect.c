/* AVX-512 SGEMM micro-kernel, 14 x 32 tile, reading B in place (row-major, row stride ldb)
 * instead of from a packed panel: for products with few rows (small M), where each element of
 * B is used only M times and packing B would cost a large share of the arithmetic.  Columns
 * n..31 are masked off (never read), so partial column panels need no copy either.  Rows of a
 * partial A panel are zero-padded by packing and not stored. */
#include "sgemm_kernels.h"

#define UKR_MR 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_NAME st_sgemm_ukr_avx512_14x32_bdirect
#include "sgemm_avx512_ukr.h"
