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

/* A batch of products with strided operands: product b uses A + b*stride_a, B + b*stride_b
 * (strides in elements; 0 reuses the same matrix).
 *   stride_c != 0: C_b = alpha * op(A_b) @ op(B_b) + beta * C_b with C_b = C + b*stride_c
 *                  (the C_b must not overlap); threads take whole products, and an A shared
 *                  by all (stride_a == 0) is packed once per thread rather than per product.
 *   stride_c == 0: C = alpha * sum_b op(A_b) @ op(B_b) + beta * C, every element summed over
 *                  b in order (b = 0 first), so the result does not depend on the thread
 *                  count; threads share C.
 * Every product gives the same result as st_sgemm on it.  Returns ST_OK or ST_ENOMEM. */
int st_sgemm_batch(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, int64_t stride_a, const float *B, int64_t ldb,
                   int64_t stride_b, float beta, float *C, int64_t ldc, int64_t stride_c,
                   int64_t batch);

/* Same as st_sgemm_batch but single-threaded. */
int st_sgemm_batch_serial(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                          float alpha, const float *A, int64_t lda, int64_t stride_a,
                          const float *B, int64_t ldb, int64_t stride_b, float beta, float *C,
                          int64_t ldc, int64_t stride_c, int64_t batch);

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
