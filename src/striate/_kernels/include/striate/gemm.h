/* striate SGEMM: C = alpha * op(A) @ op(B) + beta * C, row-major. */
#ifndef STRIATE_GEMM_H
#define STRIATE_GEMM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* op(A) is M x K (A is K x M when trans_a), op(B) is K x N (B is N x K when trans_b),
 * C is M x N; lda/ldb/ldc are row strides in elements.  beta == 0 ignores C's contents
 * (NaN in C does not propagate).  Threads with OpenMP inside.  Returns ST_OK or ST_ENOMEM. */
int st_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
             const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
             int64_t ldc);

/* Same as st_sgemm but single-threaded: for callers that parallelise outside (e.g. over a
 * batch inside an OpenMP region). */
int st_sgemm_serial(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                    float *C, int64_t ldc);

/* Blocking parameters of a path (for show_config). */
typedef struct {
    int mr, nr;          /* register tile */
    int64_t mc, kc, nc;  /* cache blocks */
    const char *kernel;  /* micro-kernel name, e.g. "sgemm_avx512_14x32" */
} st_gemm_info;
void st_sgemm_get_info(int arch, st_gemm_info *info);

#ifdef __cplusplus
}
#endif
#endif
