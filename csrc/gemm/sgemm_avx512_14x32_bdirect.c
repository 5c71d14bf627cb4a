/* AVX-512 SGEMM micro-kernels, 14 x 32 tile and its m x 32 edges (m = 1..13), reading B in
 * place (row-major, row stride ldb) instead of from a packed panel: for products with few rows
 * (small M), where each element of B is used only M times and packing B would cost a large
 * share of the arithmetic.  Columns n..31 are masked off (never read), so partial column
 * panels need no copy either.  A comes from packed 14-row panels. */
#include "sgemm_kernels.h"

#define UKR_MR 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_NAME st_sgemm_ukr_avx512_14x32_bdirect
#include "sgemm_avx512_ukr.h"

#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 1
#define UKR_NAME ukr_bdir_edge_1
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 2
#define UKR_NAME ukr_bdir_edge_2
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 3
#define UKR_NAME ukr_bdir_edge_3
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 4
#define UKR_NAME ukr_bdir_edge_4
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 5
#define UKR_NAME ukr_bdir_edge_5
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 6
#define UKR_NAME ukr_bdir_edge_6
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 7
#define UKR_NAME ukr_bdir_edge_7
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 8
#define UKR_NAME ukr_bdir_edge_8
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 9
#define UKR_NAME ukr_bdir_edge_9
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 10
#define UKR_NAME ukr_bdir_edge_10
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 11
#define UKR_NAME ukr_bdir_edge_11
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 12
#define UKR_NAME ukr_bdir_edge_12
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_NV 2
#define UKR_BLD 1
#define UKR_LINKAGE static
#define UKR_MR 13
#define UKR_NAME ukr_bdir_edge_13
#include "sgemm_avx512_ukr.h"

const st_sgemm_ukr_bdir_fn st_sgemm_ukr_avx512_14x32_bdirect_edge[14] = {
    0,
    ukr_bdir_edge_1,
    ukr_bdir_edge_2,
    ukr_bdir_edge_3,
    ukr_bdir_edge_4,
    ukr_bdir_edge_5,
    ukr_bdir_edge_6,
    ukr_bdir_edge_7,
    ukr_bdir_edge_8,
    ukr_bdir_edge_9,
    ukr_bdir_edge_10,
    ukr_bdir_edge_11,
    ukr_bdir_edge_12,
    ukr_bdir_edge_13,
};
