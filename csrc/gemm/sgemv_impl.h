/* SGEMV kernels for the products with one row or one column (gemm.c routes M == 1 or N == 1
 * here): plain C written lane-wise (16 independent partial sums per row, 128-wide column
 * blocks) so that the compiler vectorises it; included once per ISA with GV_NAME(f) naming
 * the build (gemm.c: generic, sgemv_avx2_k.c, sgemv_avx512_k.c).  Every output is summed in
 * a fixed order, whatever the thread count (threads split outputs, never K). */
#include <stdint.h>

#ifndef STRIATE_GV_COMMON
#define STRIATE_GV_COMMON
#define GV_L 16   /* partial sums per row */
#define GV_W 4096 /* columns per block of the axpy form (16 KiB of accumulators) */
static inline float gv_out(float acc, float alpha, float beta, float y) {
    return beta == 0.f ? alpha * acc : alpha * acc + beta * y;
}
#endif

/* y[i * incy] = alpha * dot(R[i * ldr ...], x) + beta * y[i * incy] for i < n (x: K floats) */
void GV_NAME(st_sgemv_dot)(int64_t n, int64_t K, const float *restrict R, int64_t ldr,
                           const float *restrict x, float *restrict y, int64_t incy,
                           float alpha, float beta) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *r0 = R + i * ldr, *r1 = r0 + ldr, *r2 = r1 + ldr, *r3 = r2 + ldr;
        float a0[GV_L] = {0}, a1[GV_L] = {0}, a2[GV_L] = {0}, a3[GV_L] = {0};
        int64_t k = 0;
        for (; k + GV_L <= K; k += GV_L)
            for (int l = 0; l < GV_L; ++l) {
                const float xv = x[k + l];
                a0[l] += r0[k + l] * xv;
                a1[l] += r1[k + l] * xv;
                a2[l] += r2[k + l] * xv;
                a3[l] += r3[k + l] * xv;
            }
        float s[4] = {0.f, 0.f, 0.f, 0.f};
        for (int l = 0; l < GV_L; ++l) {
            s[0] += a0[l];
            s[1] += a1[l];
            s[2] += a2[l];
            s[3] += a3[l];
        }
        for (; k < K; ++k) {
            s[0] += r0[k] * x[k];
            s[1] += r1[k] * x[k];
            s[2] += r2[k] * x[k];
            s[3] += r3[k] * x[k];
        }
        for (int q = 0; q < 4; ++q)
            y[(i + q) * incy] = gv_out(s[q], alpha, beta, y[(i + q) * incy]);
    }
    for (; i < n; ++i) {
        const float *r0 = R + i * ldr;
        float a0[GV_L] = {0};
        int64_t k = 0;
        for (; k + GV_L <= K; k += GV_L)
            for (int l = 0; l < GV_L; ++l) a0[l] += r0[k + l] * x[k + l];
        float s = 0.f;
        for (int l = 0; l < GV_L; ++l) s += a0[l];
        for (; k < K; ++k) s += r0[k] * x[k];
        y[i * incy] = gv_out(s, alpha, beta, y[i * incy]);
    }
}

/* y[j * incy] = alpha * sum_k x[k] R[k * ldr + j] + beta * y[j * incy] for j < n: each row
 * of R is streamed whole (a block of GV_W columns at a time) into accumulators that stay in
 * L1, four rows per pass. */
void GV_NAME(st_sgemv_axpy)(int64_t n, int64_t K, const float *restrict R, int64_t ldr,
                            const float *restrict x, float *restrict y, int64_t incy,
                            float alpha, float beta) {
    float acc[GV_W];
    for (int64_t j0 = 0; j0 < n; j0 += GV_W) {
        const int64_t w = n - j0 < GV_W ? n - j0 : GV_W;
        for (int64_t l = 0; l < w; ++l) acc[l] = 0.f;
        int64_t k = 0;
        for (; k + 4 <= K; k += 4) {
            const float x0 = x[k], x1 = x[k + 1], x2 = x[k + 2], x3 = x[k + 3];
            const float *r0 = R + k * ldr + j0, *r1 = r0 + ldr, *r2 = r1 + ldr, *r3 = r2 + ldr;
            for (int64_t l = 0; l < w; ++l)
                acc[l] += (x0 * r0[l] + x1 * r1[l]) + (x2 * r2[l] + x3 * r3[l]);
        }
        for (; k < K; ++k) {
            const float xv = x[k], *r = R + k * ldr + j0;
            for (int64_t l = 0; l < w; ++l) acc[l] += xv * r[l];
        }
        for (int64_t l = 0; l < w; ++l)
            y[(j0 + l) * incy] = gv_out(acc[l], alpha, beta, y[(j0 + l) * incy]);
    }
}
