# SGEMM bindings.
from striate._kernels.gemm cimport *


def sgemm(bint trans_a, bint trans_b, float alpha, const float[:, ::1] a,
          const float[:, ::1] b, float beta, float[:, ::1] c, bint serial=False):
    """c = alpha * op(a) @ op(b) + beta * c on C-contiguous float32 2-D arrays (no checks).
    serial: call st_sgemm_serial (one thread) instead of st_sgemm."""
    cdef int64_t M = c.shape[0], N = c.shape[1]
    cdef int64_t K = a.shape[0] if trans_a else a.shape[1]
    cdef int status
    cdef const float *pa = &a[0, 0] if a.shape[0] > 0 and a.shape[1] > 0 else NULL
    cdef const float *pb = &b[0, 0] if b.shape[0] > 0 and b.shape[1] > 0 else NULL
    if M == 0 or N == 0:
        return
    with nogil:
        if serial:
            status = st_sgemm_serial(trans_a, trans_b, M, N, K, alpha, pa, a.shape[1], pb,
                                     b.shape[1], beta, &c[0, 0], c.shape[1])
        else:
            status = st_sgemm(trans_a, trans_b, M, N, K, alpha, pa, a.shape[1], pb,
                              b.shape[1], beta, &c[0, 0], c.shape[1])
    _check(status)


def sgemm_ld(bint trans_a, bint trans_b, int64_t M, int64_t N, int64_t K, float alpha,
             const float[::1] a, int64_t lda, const float[::1] b, int64_t ldb, float beta,
             float[::1] c, int64_t ldc):
    """st_sgemm on flat buffers with explicit leading dimensions (row strides), as C callers
    use it (e.g. on a column of a wider matrix).  Checks only that every addressed element
    lies inside its buffer."""
    cdef int64_t ra = K if trans_a else M, ca = M if trans_a else K
    cdef int64_t rb = N if trans_b else K, cb = K if trans_b else N
    if M <= 0 or N <= 0 or K <= 0:
        raise ValueError("sgemm_ld: M, N and K must be positive")
    if (lda < ca or ldb < cb or ldc < N or (ra - 1) * lda + ca > a.shape[0]
            or (rb - 1) * ldb + cb > b.shape[0] or (M - 1) * ldc + N > c.shape[0]):
        raise ValueError("sgemm_ld: a leading dimension or a buffer is too small")
    cdef int status
    with nogil:
        status = st_sgemm(trans_a, trans_b, M, N, K, alpha, &a[0], lda, &b[0], ldb, beta,
                          &c[0], ldc)
    _check(status)


def sgemm_batch(bint trans_a, bint trans_b, float alpha, const float[:, :, ::1] a,
                const float[:, :, ::1] b, float beta, float[:, :, ::1] c, bint serial=False):
    """Batched sgemm (no checks): product i uses a[i] and b[i], or a[0] / b[0] for all when
    that operand holds one matrix; c[i] = alpha * op(a_i) @ op(b_i) + beta * c[i], or, when
    c holds one matrix, c = alpha * sum_i op(a_i) @ op(b_i) + beta * c.  The batch size is
    the largest leading dimension.  serial: st_sgemm_batch_serial."""
    cdef int64_t batch = max(a.shape[0], b.shape[0], c.shape[0])
    cdef int64_t M = c.shape[1], N = c.shape[2]
    cdef int64_t K = a.shape[1] if trans_a else a.shape[2]
    cdef int64_t sa = 0 if a.shape[0] == 1 else a.shape[1] * a.shape[2]
    cdef int64_t sb = 0 if b.shape[0] == 1 else b.shape[1] * b.shape[2]
    cdef int64_t sc = 0 if c.shape[0] == 1 else M * N
    cdef int status
    if M == 0 or N == 0 or batch == 0:
        return
    cdef const float *pa = &a[0, 0, 0] if K > 0 else NULL
    cdef const float *pb = &b[0, 0, 0] if K > 0 else NULL
    with nogil:
        if serial:
            status = st_sgemm_batch_serial(trans_a, trans_b, M, N, K, alpha, pa, a.shape[2],
                                           sa, pb, b.shape[2], sb, beta, &c[0, 0, 0],
                                           c.shape[2], sc, batch)
        else:
            status = st_sgemm_batch(trans_a, trans_b, M, N, K, alpha, pa, a.shape[2], sa, pb,
                                    b.shape[2], sb, beta, &c[0, 0, 0], c.shape[2], sc, batch)
    _check(status)


def sgemm_info(int arch):
    cdef st_gemm_info info
    st_sgemm_get_info(arch, &info)
    return dict(mr=info.mr, nr=info.nr, mc=info.mc, kc=info.kc, nc=info.nc,
                kernel=info.kernel.decode())
