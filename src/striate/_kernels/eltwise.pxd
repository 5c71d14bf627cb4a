# Public Cython declarations of the eltwise kernels (extern only).
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t


cdef extern from "striate/eltwise.h" nogil:
    int ST_ACT_NONE
    int ST_ACT_RELU
    int st_bias_act_f32(int64_t N, int64_t C, int64_t S, const float *x, const float *bias,
                        int act, float *y)
    int st_relu_backward_f32(int64_t n, const float *gy, const float *y, float *gx)
    void st_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
    int st_dropout_f32(int64_t n, const float *x, float p, uint64_t seed, float *y,
                       uint8_t *keep)
    int st_dropout_backward_f32(int64_t n, const float *gy, const uint8_t *keep, float p,
                                float *gx)
    int st_adam_step_f32(int64_t n, float *w, const float *g, float *m, float *v, float *vmax,
                         float c1, float beta2, float c2, float eps_hat, float step_size,
                         float wd, float shrink, int maximize)
    int st_softmax_f32(int64_t N, int64_t C, const float *x, float *y)
    int st_log_softmax_f32(int64_t N, int64_t C, const float *x, float *y)
    int st_softmax_backward_f32(int64_t N, int64_t C, const float *y, const float *gy,
                                float *gx)
    int st_log_softmax_backward_f32(int64_t N, int64_t C, const float *y, const float *gy,
                                    float *gx)
    int st_softmax_xent_f32(int64_t N, int64_t C, const float *logits, const int64_t *target,
                            float *loss, float *prob)
    int st_softmax_xent_backward_f32(int64_t N, int64_t C, const float *prob,
                                     const int64_t *target, const float *gloss,
                                     float *glogits)
