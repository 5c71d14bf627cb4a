# Public Cython declarations of the pool kernels (extern only).
from libc.stdint cimport int32_t, int64_t


cdef extern from "striate/pool.h" nogil:
    ctypedef struct st_pool2d_geom:
        int64_t H, W, Ho, Wo
        int kh, kw, sh, sw, ph, pw, dh, dw
    int st_maxpool2d_f32(const st_pool2d_geom *g, int64_t P, const float *x, float *y,
                         int32_t *idx)
    int st_maxpool2d_backward_f32(const st_pool2d_geom *g, int64_t P, const float *gy,
                                  const int32_t *idx, float *gx)
    int st_avgpool2d_f32(const st_pool2d_geom *g, int64_t P, int count_include_pad,
                         int64_t divisor_override, const float *x, float *y)
    int st_avgpool2d_backward_f32(const st_pool2d_geom *g, int64_t P, int count_include_pad,
                                  int64_t divisor_override, const float *gy, float *gx)
    int st_global_avgpool2d_f32(int64_t P, int64_t HW, const float *x, float *y)
    int st_global_avgpool2d_backward_f32(int64_t P, int64_t HW, const float *gy, float *gx)
