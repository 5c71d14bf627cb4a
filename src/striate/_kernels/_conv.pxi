# Python-facing bindings of the conv kernels (included into _C.pyx).  Thin: `geom` is the
# descriptor as a 15-tuple (N, C, H, W, K, R, S, P, Q, stride_h, stride_w, pad_t, pad_l,
# dil_h, dil_w) plus groups; arrays are C-contiguous float32, flattened to 1-D by the caller.
from striate._kernels.conv cimport *


cdef int _conv_desc(tuple geom, st_conv_desc *d) except -1:
    (d.N, d.C, d.H, d.W, d.K, d.R, d.S, d.P, d.Q, d.stride_h, d.stride_w, d.pad_t, d.pad_l,
     d.dil_h, d.dil_w, d.groups) = geom
    return 0


def conv2d_forward(tuple geom, const float[::1] x, const float[::1] w, const float[::1] bias,
                   float[::1] y):
    """y = conv(x, w) (+ bias when bias is not None)."""
    cdef st_conv_desc d
    cdef int status
    _conv_desc(geom, &d)
    cdef const float *pb = &bias[0] if bias is not None else NULL
    with nogil:
        status = st_conv2d_forward(&d, &x[0], &w[0], pb, &y[0])
    _check(status)


def conv2d_backward_data(tuple geom, const float[::1] dy, const float[::1] w, float[::1] dx):
    cdef st_conv_desc d
    cdef int status
    _conv_desc(geom, &d)
    with nogil:
        status = st_conv2d_backward_data(&d, &dy[0], &w[0], &dx[0])
    _check(status)


def conv2d_backward_weight(tuple geom, const float[::1] dy, const float[::1] x,
                           float[::1] dw):
    cdef st_conv_desc d
    cdef int status
    _conv_desc(geom, &d)
    with nogil:
        status = st_conv2d_backward_weight(&d, &dy[0], &x[0], &dw[0])
    _check(status)


def conv2d_backward_bias(tuple geom, const float[::1] dy, float[::1] db):
    cdef st_conv_desc d
    cdef int status
    _conv_desc(geom, &d)
    with nogil:
        status = st_conv2d_backward_bias(&d, &dy[0], &db[0])
    _check(status)


def conv_set_chunk_bytes(size_t nbytes):
    """Set the per-thread column-workspace budget (0: default); returns the previous one."""
    return st_conv_set_chunk_bytes(nbytes)


def conv_get_chunk_bytes():
    return st_conv_get_chunk_bytes()


def conv_set_winograd(int mode):
    """Set the Winograd mode (0 never, 1 auto, 2 always); returns the previous one."""
    return st_conv_set_winograd(mode)


def conv_get_winograd():
    return st_conv_get_winograd()
