# Python-facing bindings of the pool kernels (included into _C.pyx).
from striate._kernels.pool cimport *


cdef st_pool2d_geom _geom(tuple g):
    cdef st_pool2d_geom r
    r.H, r.W, r.Ho, r.Wo, r.kh, r.kw, r.sh, r.sw, r.ph, r.pw, r.dh, r.dw = g
    return r


def maxpool2d(tuple geom, int64_t P, const float[::1] x, float[::1] y, int32_t[::1] idx):
    """Max pooling of P planes (flat buffers); geom = (H, W, Ho, Wo, kh, kw, sh, sw, ph, pw,
    dh, dw).  No checks."""
    cdef st_pool2d_geom g = _geom(geom)
    cdef int status
    with nogil:
        status = st_maxpool2d_f32(&g, P, &x[0], &y[0], &idx[0])
    _check(status)


def maxpool2d_backward(tuple geom, int64_t P, const float[::1] gy, const int32_t[::1] idx,
                       float[::1] gx):
    cdef st_pool2d_geom g = _geom(geom)
    cdef int status
    with nogil:
        status = st_maxpool2d_backward_f32(&g, P, &gy[0], &idx[0], &gx[0])
    _check(status)


def avgpool2d(tuple geom, int64_t P, bint count_include_pad, int64_t divisor_override,
              const float[::1] x, float[::1] y):
    cdef st_pool2d_geom g = _geom(geom)
    cdef int status
    with nogil:
        status = st_avgpool2d_f32(&g, P, count_include_pad, divisor_override, &x[0], &y[0])
    _check(status)


def avgpool2d_backward(tuple geom, int64_t P, bint count_include_pad, int64_t divisor_override,
                       const float[::1] gy, float[::1] gx):
    cdef st_pool2d_geom g = _geom(geom)
    cdef int status
    with nogil:
        status = st_avgpool2d_backward_f32(&g, P, count_include_pad, divisor_override, &gy[0],
                                           &gx[0])
    _check(status)


def global_avgpool2d(int64_t P, int64_t HW, const float[::1] x, float[::1] y):
    cdef int status
    with nogil:
        status = st_global_avgpool2d_f32(P, HW, &x[0], &y[0])
    _check(status)


def global_avgpool2d_backward(int64_t P, int64_t HW, const float[::1] gy, float[::1] gx):
    cdef int status
    with nogil:
        status = st_global_avgpool2d_backward_f32(P, HW, &gy[0], &gx[0])
    _check(status)
