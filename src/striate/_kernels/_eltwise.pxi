# Python-facing bindings of the eltwise kernels (included into _C.pyx).
from striate._kernels.eltwise cimport *


def bias_act(int64_t N, int64_t C, int64_t S, const float[::1] x, const float[::1] bias,
             bint relu, float[::1] y):
    """y = act(x + bias[c]) on flat N*C*S buffers; bias may be None; y may be x.  No checks."""
    cdef const float *pb = &bias[0] if bias is not None else NULL
    cdef int status
    with nogil:
        status = st_bias_act_f32(N, C, S, &x[0], pb, ST_ACT_RELU if relu else ST_ACT_NONE,
                                 &y[0])
    _check(status)


def relu_backward(const float[::1] gy, const float[::1] y, float[::1] gx):
    cdef int status
    with nogil:
        status = st_relu_backward_f32(gy.shape[0], &gy[0], &y[0], &gx[0])
    _check(status)


def philox4x32_10(ctr, key):
    """The four words of Philox4x32-10 for counter ``ctr`` (4 ints) and ``key`` (2 ints)."""
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    cdef uint32_t out[4]
    for i in range(4):
        c[i] = ctr[i]
    k[0] = key[0]
    k[1] = key[1]
    st_philox4x32_10(c, k, out)
    return (out[0], out[1], out[2], out[3])


def dropout(const float[::1] x, float p, uint64_t seed, float[::1] y, uint8_t[::1] keep):
    cdef int status
    with nogil:
        status = st_dropout_f32(x.shape[0], &x[0], p, seed, &y[0], &keep[0])
    _check(status)


def dropout_backward(const float[::1] gy, const uint8_t[::1] keep, float p, float[::1] gx):
    cdef int status
    with nogil:
        status = st_dropout_backward_f32(gy.shape[0], &gy[0], &keep[0], p, &gx[0])
    _check(status)


def adam_step(float[::1] w, const float[::1] g, float[::1] m, float[::1] v, float[::1] vmax,
              float c1, float beta2, float c2, float eps_hat, float step_size, float wd,
              float shrink, bint maximize):
    cdef float *pvm = &vmax[0] if vmax is not None else NULL
    cdef int status
    cdef Py_ssize_t n = w.shape[0], i, j
    # every array is read and written in one pass: one sharing memory with another would be
    # read after it was written (the wrapper has checked the lengths match)
    cdef const float *ptr[5]
    ptr[:] = [&w[0], &g[0], &m[0], &v[0], pvm]
    names = ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    for i in range(5 if pvm != NULL else 4):
        for j in range(i):
            if not (ptr[i] + n <= ptr[j] or ptr[j] + n <= ptr[i]):
                raise ValueError(f"adam_step: expected {names[j]} and {names[i]} in separate "
                                 f"memory, got arrays that overlap")
    with nogil:
        status = st_adam_step_f32(w.shape[0], &w[0], &g[0], &m[0], &v[0], pvm, c1, beta2, c2,
                                  eps_hat, step_size, wd, shrink, maximize)
    _check(status)


def softmax(const float[:, ::1] x, float[:, ::1] y, bint log):
    cdef int status
    with nogil:
        if log:
            status = st_log_softmax_f32(x.shape[0], x.shape[1], &x[0, 0], &y[0, 0])
        else:
            status = st_softmax_f32(x.shape[0], x.shape[1], &x[0, 0], &y[0, 0])
    _check(status)


def softmax_backward(const float[:, ::1] y, const float[:, ::1] gy, float[:, ::1] gx,
                     bint log):
    cdef int status
    with nogil:
        if log:
            status = st_log_softmax_backward_f32(y.shape[0], y.shape[1], &y[0, 0], &gy[0, 0],
                                                 &gx[0, 0])
        else:
            status = st_softmax_backward_f32(y.shape[0], y.shape[1], &y[0, 0], &gy[0, 0],
                                             &gx[0, 0])
    _check(status)


def softmax_xent(const float[:, ::1] logits, const int64_t[::1] target, float[::1] loss,
                 float[:, ::1] prob):
    cdef int status
    with nogil:
        status = st_softmax_xent_f32(logits.shape[0], logits.shape[1], &logits[0, 0],
                                     &target[0], &loss[0], &prob[0, 0])
    _check(status)


def softmax_xent_backward(const float[:, ::1] prob, const int64_t[::1] target,
                          const float[::1] gloss, float[:, ::1] glogits):
    cdef int status
    with nogil:
        status = st_softmax_xent_backward_f32(prob.shape[0], prob.shape[1], &prob[0, 0],
                                              &target[0], &gloss[0], &glogits[0, 0])
    _check(status)
