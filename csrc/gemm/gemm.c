/* PLACEHOLDER naive SGEMM so the tree builds; replaced by the packed, blocked driver. */
#include "striate/gemm.h"
#include "striate/runtime.h"

int st_sgemm_serial(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                    const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                    float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            float s = 0.f;
            for (int64_t k = 0; k < K; ++k)
                s += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
            C[i * ldc + j] = alpha * s + (beta == 0.f ? 0.f : beta * C[i * ldc + j]);
        }
    return ST_OK;
}

int st_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
             int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    return st_sgemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void st_sgemm_get_info(int arch, st_gemm_info *info) {
    (void)arch;
    info->mr = 1; info->nr = 1; info->mc = 1; info->kc = 1; info->nc = 1;
    info->kernel = "naive";
}
