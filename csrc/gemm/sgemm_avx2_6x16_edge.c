/* Edge kernels of the AVX2 6 x 16 path: m x 16 tiles (m = 1..5) reading the first m rows of a
 * packed 6-row A panel, so a partial last row panel costs m/6 of a full tile. */
#include "sgemm_kernels.h"

#define UKR_AS 6
#define UKR_LINKAGE static
#define UKR_MR 1
#define UKR_NAME ukr_edge_1
#include "sgemm_avx2_ukr.h"
#define UKR_AS 6
#define UKR_LINKAGE static
#define UKR_MR 2
#define UKR_NAME ukr_edge_2
#include "sgemm_avx2_ukr.h"
#define UKR_AS 6
#define UKR_LINKAGE static
#define UKR_MR 3
#define UKR_NAME ukr_edge_3
#include "sgemm_avx2_ukr.h"
#define UKR_AS 6
#define UKR_LINKAGE static
#define UKR_MR 4
#define UKR_NAME ukr_edge_4
#include "sgemm_avx2_ukr.h"
#define UKR_AS 6
#define UKR_LINKAGE static
#define UKR_MR 5
#define UKR_NAME ukr_edge_5
#include "sgemm_avx2_ukr.h"

const st_sgemm_ukr_fn st_sgemm_ukr_avx2_6x16_edge[6] = {
    0, ukr_edge_1, ukr_edge_2, ukr_edge_3, ukr_edge_4, ukr_edge_5,
};
