# C-level entry points declared in _C.pxd (exported to other Cython modules).


cdef int c_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
               float *C, int64_t ldc) noexcept nogil:
    return st_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)


cdef int c_conv2d_forward(const st_conv_desc *d, const float *x, const float *w,
                        const float *bias, float *y) noexcept nogil:
    return st_conv2d_forward(d, x, w, bias, y)


cdef int c_conv2d_backward_data(const st_conv_desc *d, const float *dy, const float *w,
                              float *dx) noexcept nogil:
    return st_conv2d_backward_data(d, dy, w, dx)


cdef int c_conv2d_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                                float *dw) noexcept nogil:
    return st_conv2d_backward_weight(d, dy, x, dw)


cdef int c_maxpool2d_forward(const st_pool2d_geom *g, int64_t planes, const float *x,
                           float *y, int32_t *idx) noexcept nogil:
    return st_maxpool2d_f32(g, planes, x, y, idx)


cdef int c_avgpool2d_forward(const st_pool2d_geom *g, int64_t planes, int count_include_pad,
                           int64_t divisor_override, const float *x, float *y) noexcept nogil:
    return st_avgpool2d_f32(g, planes, count_include_pad, divisor_override, x, y)
