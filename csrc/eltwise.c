/* Elementwise and row-wise kernels: drivers, threading and the generic C path.
 * Every output element (or row) is computed by one thread in a fixed order, so results do not
 * depend on the thread count.  Small problems run serially. */
#include <math.h>
#include <string.h>

#include "eltwise_isa.h"
#include "striate/eltwise.h"
#include "striate/runtime.h"

/* Elements below which a call stays on one thread; elements per parallel task; row tasks per
 * thread.  Schedules are dynamic: a thread the OS preempts on a busy machine then delays a
 * call by one small task, not by its whole static share. */
enum { ST_ELTW_PAR_MIN = 32768, ST_ELTW_CHUNK = 16384, ST_ELTW_TASKS_PER_THREAD = 8 };

static int64_t row_task(int64_t n) {
    return n / ((int64_t)ST_ELTW_TASKS_PER_THREAD * st_get_num_threads()) + 1;
}

#define ST_SFX generic
#include "eltwise_body.inc"

static float rowmax_generic(const float *x, int64_t n) {
    float m = x[0];
    for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
    return m;
}

static float expsum_generic(const float *x, float shift, float *y, int64_t n) {
    float s = 0.f;
    for (int64_t i = 0; i < n; ++i) {
        const float e = expf(x[i] - shift);
        if (y) y[i] = e;
        s += e;
    }
    return s;
}

const st_eltwise_ops st_eltwise_ops_generic = {
    bias_run_generic, bias_vec_generic,   relu_bwd_generic,   rowmax_generic,
    expsum_generic,   softmax_bwd_generic, dropout_run_generic, dropout_bwd_generic};

static const st_eltwise_ops *ops(void) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: return &st_eltwise_ops_avx512;
    case ST_ARCH_AVX2: return &st_eltwise_ops_avx2;
    default: return &st_eltwise_ops_generic;
    }
}

int st_bias_act_f32(int64_t N, int64_t C, int64_t S, const float *x, const float *bias,
                    int act, float *y) {
    const st_eltwise_ops *o = ops();
    const int relu = act == ST_ACT_RELU;
    const int64_t total = N * C * S;
    (void)total;
    if (S == 1) { /* (N, C): bias along rows */
        const int64_t rt = row_task(N);
        (void)rt;
#pragma omp parallel for schedule(dynamic, rt) if (total > ST_ELTW_PAR_MIN)
        for (int64_t n = 0; n < N; ++n) o->bias_vec(x + n * C, bias, relu, y + n * C, C);
        return ST_OK;
    }
    /* Tasks of about ST_ELTW_CHUNK elements: several small planes, or a piece of a big one
     * (so a few big planes still use every thread). */
    const int64_t P = N * C;
    if (S >= ST_ELTW_CHUNK) {
        const int64_t nch = (S + ST_ELTW_CHUNK - 1) / ST_ELTW_CHUNK;
#pragma omp parallel for schedule(dynamic) if (total > ST_ELTW_PAR_MIN)
        for (int64_t t = 0; t < P * nch; ++t) {
            const int64_t p = t / nch, c0 = (t % nch) * ST_ELTW_CHUNK;
            const int64_t len = S - c0 < ST_ELTW_CHUNK ? S - c0 : ST_ELTW_CHUNK;
            const float b = bias ? bias[p % C] : 0.f;
            o->bias_run(x + p * S + c0, b, relu, y + p * S + c0, len);
        }
    } else {
        const int64_t ppt = ST_ELTW_CHUNK / S, tasks = (P + ppt - 1) / ppt;
#pragma omp parallel for schedule(dynamic) if (total > ST_ELTW_PAR_MIN)
        for (int64_t t = 0; t < tasks; ++t) {
            const int64_t p1 = (t + 1) * ppt < P ? (t + 1) * ppt : P;
            for (int64_t p = t * ppt; p < p1; ++p)
                o->bias_run(x + p * S, bias ? bias[p % C] : 0.f, relu, y + p * S, S);
        }
    }
    return ST_OK;
}

int st_relu_backward_f32(int64_t n, const float *gy, const float *y, float *gx) {
    const st_eltwise_ops *o = ops();
    const int64_t nch = (n + ST_ELTW_CHUNK - 1) / ST_ELTW_CHUNK;
#pragma omp parallel for schedule(dynamic) if (n > ST_ELTW_PAR_MIN)
    for (int64_t t = 0; t < nch; ++t) {
        const int64_t c0 = t * ST_ELTW_CHUNK;
        const int64_t len = n - c0 < ST_ELTW_CHUNK ? n - c0 : ST_ELTW_CHUNK;
        o->relu_bwd(gy + c0, y + c0, gx + c0, len);
    }
    return ST_OK;
}

void st_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], a = key[0], b = key[1];
    for (int round = 0; round < 10; ++round) {
        const uint64_t p0 = (uint64_t)ST_PHILOX_M0 * c0, p1 = (uint64_t)ST_PHILOX_M1 * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ a, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ b;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        a += ST_PHILOX_W0;
        b += ST_PHILOX_W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* Groups of 64 elements per parallel task (16384 elements). */
enum { ST_DROPOUT_TASK_GROUPS = ST_ELTW_CHUNK / 64 };

int st_dropout_f32(int64_t n, const float *x, float p, uint64_t seed, float *y, uint8_t *keep) {
    if (!(p >= 0.f && p <= 1.f)) return ST_EINVAL; /* NaN too */
    const st_eltwise_ops *o = ops();
    /* u = (word >> 8) / 2^24 >= p  <=>  word >> 8 >= ceil(p * 2^24) (exact in double) */
    const double thr = ceil((double)p * 16777216.0);
    const uint32_t t24 = thr <= 0.0 ? 0u : thr >= 16777216.0 ? 16777216u : (uint32_t)thr;
    const float scale = p >= 1.f ? 0.f : 1.f / (1.f - p);
    const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    const int64_t groups = (n + 63) / 64;
    const int64_t tasks = (groups + ST_DROPOUT_TASK_GROUPS - 1) / ST_DROPOUT_TASK_GROUPS;
#pragma omp parallel for schedule(dynamic) if (n > ST_ELTW_PAR_MIN)
    for (int64_t t = 0; t < tasks; ++t) {
        const int64_t g0 = t * ST_DROPOUT_TASK_GROUPS;
        const int64_t g1 = g0 + ST_DROPOUT_TASK_GROUPS < groups ? g0 + ST_DROPOUT_TASK_GROUPS
                                                                : groups;
        o->dropout_run(x, n, g0, g1, t24, scale, k0, k1, y, keep);
    }
    return ST_OK;
}

int st_dropout_backward_f32(int64_t n, const float *gy, const uint8_t *keep, float p,
                            float *gx) {
    if (!(p >= 0.f && p <= 1.f)) return ST_EINVAL;
    const st_eltwise_ops *o = ops();
    const float scale = p >= 1.f ? 0.f : 1.f / (1.f - p);
    const int64_t nch = (n + ST_ELTW_CHUNK - 1) / ST_ELTW_CHUNK;
#pragma omp parallel for schedule(dynamic) if (n > ST_ELTW_PAR_MIN)
    for (int64_t t = 0; t < nch; ++t) {
        const int64_t c0 = t * ST_ELTW_CHUNK;
        const int64_t len = n - c0 < ST_ELTW_CHUNK ? n - c0 : ST_ELTW_CHUNK;
        o->dropout_bwd(gy + c0, keep + c0, scale, gx + c0, len);
    }
    return ST_OK;
}

/* Compiled without FMA (this file has the baseline flags): every product and sum is rounded
 * like NumPy's. */
static void adam_run(int64_t n, float *restrict w, const float *restrict g, float *restrict m,
                     float *restrict v, float *restrict vmax, float c1, float beta2, float c2,
                     float eps_hat, float step_size, float wd, float shrink, int maximize) {
    for (int64_t i = 0; i < n; ++i) {
        float d = maximize ? -g[i] : g[i];
        if (wd != 0.f) d = d + w[i] * wd;
        const float mi = m[i] + (d - m[i]) * c1;
        float vi = v[i] * beta2 + (d * d) * c2;
        m[i] = mi;
        v[i] = vi;
        if (vmax) {
            const float a = vmax[i];
            vi = (a > vi || a != a) ? a : vi; /* np.maximum: NaN propagates */
            vmax[i] = vi;
        }
        const float wi = shrink != 1.f ? w[i] * shrink : w[i];
        w[i] = wi - mi / (sqrtf(vi) + eps_hat) * step_size;
    }
}

int st_adam_step_f32(int64_t n, float *w, const float *g, float *m, float *v, float *vmax,
                     float c1, float beta2, float c2, float eps_hat, float step_size, float wd,
                     float shrink, int maximize) {
    const int64_t nch = (n + ST_ELTW_CHUNK - 1) / ST_ELTW_CHUNK;
#pragma omp parallel for schedule(dynamic) if (n > ST_ELTW_PAR_MIN)
    for (int64_t t = 0; t < nch; ++t) {
        const int64_t c0 = t * ST_ELTW_CHUNK;
        const int64_t len = n - c0 < ST_ELTW_CHUNK ? n - c0 : ST_ELTW_CHUNK;
        adam_run(len, w + c0, g + c0, m + c0, v + c0, vmax ? vmax + c0 : NULL, c1, beta2, c2,
                 eps_hat, step_size, wd, shrink, maximize);
    }
    return ST_OK;
}

int st_softmax_f32(int64_t N, int64_t C, const float *x, float *y) {
    const st_eltwise_ops *o = ops();
    const int64_t rt = row_task(N);
    (void)rt;
#pragma omp parallel for schedule(dynamic, rt) if (N * C > ST_ELTW_PAR_MIN)
    for (int64_t n = 0; n < N; ++n) {
        const float *xr = x + n * C;
        float *yr = y + n * C;
        const float s = o->expsum(xr, o->rowmax(xr, C), yr, C);
        const float inv = 1.f / s;
        for (int64_t c = 0; c < C; ++c) yr[c] *= inv;
    }
    return ST_OK;
}

int st_log_softmax_f32(int64_t N, int64_t C, const float *x, float *y) {
    const st_eltwise_ops *o = ops();
    const int64_t rt = row_task(N);
    (void)rt;
#pragma omp parallel for schedule(dynamic, rt) if (N * C > ST_ELTW_PAR_MIN)
    for (int64_t n = 0; n < N; ++n) {
        const float *xr = x + n * C;
        float *yr = y + n * C;
        const float m = o->rowmax(xr, C);
        const float lse = m + logf(o->expsum(xr, m, NULL, C));
        for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] - lse;
    }
    return ST_OK;
}

int st_softmax_backward_f32(int64_t N, int64_t C, const float *y, const float *gy, float *gx) {
    const st_eltwise_ops *o = ops();
    const int64_t rt = row_task(N);
    (void)rt;
#pragma omp parallel for schedule(dynamic, rt) if (N * C > ST_ELTW_PAR_MIN)
    for (int64_t n = 0; n < N; ++n) o->softmax_bwd(y + n * C, gy + n * C, gx + n * C, C);
    return ST_OK;
}

int st_log_softmax_backward_f32(int64_t N, int64_t C, const float *y, const float *gy,
                                float *gx) {
    const st_eltwise_ops *o = ops();
    int status = ST_OK;
    const int64_t rt = row_task(N);
    (void)rt;
#pragma omp parallel for schedule(dynamic, rt) if (N * C > ST_ELTW_PAR_MIN)
    for (int64_t n = 0; n < N; ++n) {
        const float *yr = y + n * C, *gr = gy + n * C;
        float *out = gx + n * C;
        float *e = (float *)st_workspace(ST_WS_AUX, (size_t)C * sizeof(float));
        if (!e) {
#pragma omp atomic write
            status = ST_ENOMEM;
            continue;
        }
        float acc[16] = {0.f}; /* 16 independent partial sums, not one chain of adds */
        int64_t c = 0;
        for (; c + 16 <= C; c += 16)
            for (int l = 0; l < 16; ++l) acc[l] += gr[c + l];
        float s = 0.f;
        for (int l = 0; l < 16; ++l) s += acc[l];
        for (; c < C; ++c) s += gr[c];
        o->expsum(yr, 0.f, e, C);
        for (int64_t c = 0; c < C; ++c) out[c] = gr[c] - e[c] * s;
    }
    return status;
}

int st_softmax_xent_f32(int64_t N, int64_t C, const float *logits, const int64_t *target,
                        float *loss, float *prob) {
    const st_eltwise_ops *o = ops();
    const int64_t rt = row_task(N);
    (void)rt;
#pragma omp parallel for schedule(dynamic, rt) if (N * C > ST_ELTW_PAR_MIN)
    for (int64_t n = 0; n < N; ++n) {
        const float *xr = logits + n * C;
        float *pr = prob + n * C;
        const float m = o->rowmax(xr, C);
        const float s = o->expsum(xr, m, pr, C);
        loss[n] = m + logf(s) - xr[target[n]];
        const float inv = 1.f / s;
        for (int64_t c = 0; c < C; ++c) pr[c] *= inv;
    }
    return ST_OK;
}

int st_softmax_xent_backward_f32(int64_t N, int64_t C, const float *prob,
                                 const int64_t *target, const float *gloss, float *glogits) {
    const int64_t rt = row_task(N);
    (void)rt;
#pragma omp parallel for schedule(dynamic, rt) if (N * C > ST_ELTW_PAR_MIN)
    for (int64_t n = 0; n < N; ++n) {
        const float *pr = prob + n * C;
        float *o = glogits + n * C;
        const float gl = gloss[n], pt = pr[target[n]]; /* read first: o may alias pr */
        for (int64_t c = 0; c < C; ++c) o[c] = pr[c] * gl;
        o[target[n]] = (pt - 1.f) * gl;
    }
    return ST_OK;
}
