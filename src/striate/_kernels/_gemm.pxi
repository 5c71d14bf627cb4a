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
