# Public Cython declarations of the normalisation kernels (extern only).
from libc.stdint cimport int64_t


cdef extern from "striate/norm.h" nogil:
    int ST_GELU_NONE
    int ST_GELU_TANH_APPROX
    int st_batch_norm_train_f32(int64_t N, int64_t C, int64_t S, const float *x, int64_t xs,
                                const float *weight, const float *bias, float eps, int act,
                                float *y, float *mean, float *invstd, float *var)
    int st_batch_norm_eval_f32(int64_t N, int64_t C, int64_t S, const float *x, int64_t xs,
                               const float *mean, const float *scale, const float *shift,
                               int act, float *y)
    int st_batch_norm_backward_f32(int64_t N, int64_t C, int64_t S, const float *gy,
                                   const float *x, int64_t xs, const float *weight,
                                   const float *bias, const float *mean, const float *invstd,
                                   int act, float *gx, float *dweight, float *dbias)
    int st_layer_norm_f32(int64_t R, int64_t M, const float *x, const float *weight,
                          const float *bias, float eps, float *y, float *mean, float *invstd)
    int st_layer_norm_backward_f32(int64_t R, int64_t M, const float *gy, const float *x,
                                   const float *weight, const float *mean,
                                   const float *invstd, float *gx, float *dweight,
                                   float *dbias)
    int st_gelu_f32(int64_t n, const float *x, int approx, float *y)
    int st_gelu_backward_f32(int64_t n, const float *x, const float *gy, int approx,
                             float *gx)
    int st_silu_f32(int64_t n, const float *x, float *y)
    int st_silu_backward_f32(int64_t n, const float *x, const float *gy, float *gx)
    int st_sigmoid_f32(int64_t n, const float *x, float *y)
