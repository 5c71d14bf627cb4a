# Public Cython declarations of the conv kernels (extern only).
from libc.stdint cimport int32_t, int64_t


cdef extern from "striate/conv.h" nogil:
    size_t ST_CONV_DEFAULT_CHUNK_BYTES
    int ST_CONV_MIN_TILE
    ctypedef struct st_conv_desc:
        int64_t N, C, H, W
        int64_t K, R, S
        int64_t P, Q
        int64_t stride_h, stride_w
        int64_t pad_t, pad_l
        int64_t dil_h, dil_w
        int64_t groups
    int st_conv2d_forward(const st_conv_desc *d, const float *x, const float *w,
                          const float *bias, float *y)
    int st_conv2d_backward_data(const st_conv_desc *d, const float *dy, const float *w,
                                float *dx)
    int st_conv2d_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                                  float *dw)
    int st_conv2d_backward_bias(const st_conv_desc *d, const float *dy, float *db)
    size_t st_conv_set_chunk_bytes(size_t nbytes)
    size_t st_conv_get_chunk_bytes()
    int st_conv_set_winograd(int mode)
    int st_conv_get_winograd()
