/* Edge kernels of the AVX-512 14 x 32 path: m x 32 tiles (m = 1..13) reading the first m rows
 * of a packed 14-row A panel.  The last row panel of a block with M % 14 != 0 then costs m/14
 * of a full tile instead of a whole one (M = 32, 64, 128 are 14k + 4, 8, 2 rows). */
#include "sgemm_kernels.h"

#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 1
#define UKR_NAME ukr_edge_1
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 2
#define UKR_NAME ukr_edge_2
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 3
#define UKR_NAME ukr_edge_3
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 4
#define UKR_NAME ukr_edge_4
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 5
#define UKR_NAME ukr_edge_5
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 6
#define UKR_NAME ukr_edge_6
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 7
#define UKR_NAME ukr_edge_7
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 8
#define UKR_NAME ukr_edge_8
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 9
#define UKR_NAME ukr_edge_9
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 10
#define UKR_NAME ukr_edge_10
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 11
#define UKR_NAME ukr_edge_11
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 12
#define UKR_NAME ukr_edge_12
#include "sgemm_avx512_ukr.h"
#define UKR_AS 14
#define UKR_LINKAGE static
#define UKR_NV 2
#define UKR_MR 13
#define UKR_NAME ukr_edge_13
#include "sgemm_avx512_ukr.h"

const st_sgemm_ukr_fn st_sgemm_ukr_avx512_14x32_edge[14] = {
    0,           ukr_edge_1,  ukr_edge_2,  ukr_edge_3,  ukr_edge_4,
    ukr_edge_5,  ukr_edge_6,  ukr_edge_7,  ukr_edge_8,  ukr_edge_9,
    ukr_edge_10, ukr_edge_11, ukr_edge_12, ukr_edge_13,
};
