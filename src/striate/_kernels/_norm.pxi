# Python-facing bindings of the normalisation kernels (included into _C.pyx).  Flat
# C-contiguous buffers; optional ones may be None.  No checks: striate.kernels validates.
# Batch norm reads image n of x at x[n * xs] (xs >= C * S; see striate/norm.h).
from striate._kernels.norm cimport *
from striate._kernels.eltwise cimport ST_ACT_NONE, ST_ACT_RELU


cdef inline const float *_cptr(const float[::1] a):
    return &a[0] if a is not None else NULL


cdef inline float *_wptr(float[::1] a):
    return &a[0] if a is not None else NULL


cdef inline int _act(bint relu) noexcept nogil:
    return ST_ACT_RELU if relu else ST_ACT_NONE


def batch_norm_train(int64_t N, int64_t C, int64_t S, const float[::1] x, int64_t xs,
                     const float[::1] weight, const float[::1] bias, float eps, bint relu,
                     float[::1] y, float[::1] mean, float[::1] invstd, float[::1] var):
    cdef const float *pw = _cptr(weight)
    cdef const float *pb = _cptr(bias)
    cdef float *pv = _wptr(var)
    cdef int status
    with nogil:
        status = st_batch_norm_train_f32(N, C, S, &x[0], xs, pw, pb, eps, _act(relu), &y[0],
                                         &mean[0], &invstd[0], pv)
    _check(status)


def batch_norm_eval(int64_t N, int64_t C, int64_t S, const float[::1] x, int64_t xs,
                    const float[::1] mean, const float[::1] scale, const float[::1] shift,
                    bint relu, float[::1] y):
    cdef int status
    with nogil:
        status = st_batch_norm_eval_f32(N, C, S, &x[0], xs, &mean[0], &scale[0], &shift[0],
                                        _act(relu), &y[0])
    _check(status)


def batch_norm_backward(int64_t N, int64_t C, int64_t S, const float[::1] gy,
                        const float[::1] x, int64_t xs, const float[::1] weight,
                        const float[::1] bias, const float[::1] mean,
                        const float[::1] invstd, bint relu, float[::1] gx, float[::1] dweight,
                        float[::1] dbias):
    cdef const float *pw = _cptr(weight)
    cdef const float *pb = _cptr(bias)
    cdef float *pgx = _wptr(gx)
    cdef float *pdw = _wptr(dweight)
    cdef float *pdb = _wptr(dbias)
    cdef int status
    with nogil:
        status = st_batch_norm_backward_f32(N, C, S, &gy[0], &x[0], xs, pw, pb, &mean[0],
                                            &invstd[0], _act(relu), pgx, pdw, pdb)
    _check(status)


def layer_norm(int64_t R, int64_t M, const float[::1] x, const float[::1] weight,
               const float[::1] bias, float eps, float[::1] y, float[::1] mean,
               float[::1] invstd):
    cdef const float *pw = _cptr(weight)
    cdef const float *pb = _cptr(bias)
    cdef int status
    with nogil:
        status = st_layer_norm_f32(R, M, &x[0], pw, pb, eps, &y[0], &mean[0], &invstd[0])
    _check(status)


def layer_norm_backward(int64_t R, int64_t M, const float[::1] gy, const float[::1] x,
                        const float[::1] weight, const float[::1] mean,
                        const float[::1] invstd, float[::1] gx, float[::1] dweight,
                        float[::1] dbias):
    cdef const float *pw = _cptr(weight)
    cdef float *pgx = _wptr(gx)
    cdef float *pdw = _wptr(dweight)
    cdef float *pdb = _wptr(dbias)
    cdef int status
    with nogil:
        status = st_layer_norm_backward_f32(R, M, &gy[0], &x[0], pw, &mean[0], &invstd[0],
                                            pgx, pdw, pdb)
    _check(status)


def gelu(const float[::1] x, bint tanh, float[::1] y):
    cdef int status
    with nogil:
        status = st_gelu_f32(x.shape[0], &x[0], ST_GELU_TANH_APPROX if tanh else ST_GELU_NONE,
                             &y[0])
    _check(status)


def gelu_backward(const float[::1] x, const float[::1] gy, bint tanh, float[::1] gx):
    cdef int status
    with nogil:
        status = st_gelu_backward_f32(x.shape[0], &x[0], &gy[0],
                                      ST_GELU_TANH_APPROX if tanh else ST_GELU_NONE, &gx[0])
    _check(status)


def silu(const float[::1] x, float[::1] y):
    cdef int status
    with nogil:
        status = st_silu_f32(x.shape[0], &x[0], &y[0])
    _check(status)


def silu_backward(const float[::1] x, const float[::1] gy, float[::1] gx):
    cdef int status
    with nogil:
        status = st_silu_backward_f32(x.shape[0], &x[0], &gy[0], &gx[0])
    _check(status)


def sigmoid(const float[::1] x, float[::1] y):
    cdef int status
    with nogil:
        status = st_sigmoid_f32(x.shape[0], &x[0], &y[0])
    _check(status)
