# C-level API of striate._kernels._C for other Cython code:
#
#     from striate._kernels._C cimport c_sgemm, c_conv2d_forward, st_conv_desc
#
# The functions are exported through the module's C-API capsule, so the cimporting
# extension needs no link step against striate: compile it with
# include_dirs=[striate.get_include()] and import striate first.  All are nogil and
# return ST_OK (0) or an ST_E* status.
from libc.stdint cimport int32_t, int64_t
from striate._kernels.conv cimport st_conv_desc
from striate._kernels.pool cimport st_pool2d_geom

cdef int c_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
               float *C, int64_t ldc) noexcept nogil
cdef int c_conv2d_forward(const st_conv_desc *d, const float *x, const float *w,
                        const float *bias, float *y) noexcept nogil
cdef int c_conv2d_backward_data(const st_conv_desc *d, const float *dy, const float *w,
                              float *dx) noexcept nogil
cdef int c_conv2d_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                                float *dw) noexcept nogil
cdef int c_maxpool2d_forward(const st_pool2d_geom *g, int64_t planes, const float *x,
                           float *y, int32_t *idx) noexcept nogil
cdef int c_avgpool2d_forward(const st_pool2d_geom *g, int64_t planes, int count_include_pad,
                           int64_t divisor_override, const float *x, float *y) noexcept nogil
