# Public Cython declarations of striate's C kernels (extern only: cimport them from your
# own Cython code and add striate.get_include() to the C include path).
from libc.stdint cimport int32_t, int64_t


cdef extern from "striate/gemm.h" nogil:
    ctypedef struct st_gemm_info:
        int mr, nr
        int64_t mc, kc, nc
        const char *kernel
    int st_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                 float *C, int64_t ldc)
    int st_sgemm_serial(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                        float alpha, const float *A, int64_t lda, const float *B,
                        int64_t ldb, float beta, float *C, int64_t ldc)
    int st_sgemm_batch(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                       const float *A, int64_t lda, int64_t stride_a, const float *B,
                       int64_t ldb, int64_t stride_b, float beta, float *C, int64_t ldc,
                       int64_t stride_c, int64_t batch)
    int st_sgemm_batch_serial(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                              float alpha, const float *A, int64_t lda, int64_t stride_a,
                              const float *B, int64_t ldb, int64_t stride_b, float beta,
                              float *C, int64_t ldc, int64_t stride_c, int64_t batch)
    void st_sgemm_get_info(int arch, st_gemm_info *info)
