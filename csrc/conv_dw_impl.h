/* Inner loops of the direct depthwise convolution, written once in portable C and compiled
 * per ISA: csrc/conv.c (baseline flags), csrc/conv_avx2_dw.c and csrc/conv_avx512_dw.c
 * include this file with DW_NAME defined to suffix the function names; the compiler
 * vectorises the loops for that ISA.
 *
 * The driver (conv.c) lays one input plane out zero-padded with a row pitch L that is a
 * multiple of the stride, and one output plane with row pitch Qp = stride_h * L / stride_w,
 * so that output element i (flattened, pitch Qp) reads padded input element
 * i * stride_w + off(r, s) for every tap: each tap is one long 1-D loop.  Output columns
 * q >= Q of the pitch are garbage in the forward and must be zero in dy for the backward. */

#include <stdint.h>

#define DW_BLK 64 /* output elements accumulated in one block (kept in L1) */

/* y[i] = bias + sum_t w[t] * xp[i * sw + off[t]] for i in [0, n). */
void DW_NAME(st_dw_fwd_line)(float *restrict y, const float *restrict xp,
                             const int64_t *restrict off, const float *restrict w, int64_t taps,
                             int64_t n, int64_t sw, float bias) {
    float acc[DW_BLK];
    for (int64_t i0 = 0; i0 < n; i0 += DW_BLK) {
        int64_t len = n - i0 < DW_BLK ? n - i0 : DW_BLK;
        for (int64_t j = 0; j < len; ++j) acc[j] = bias;
        if (sw == 1) {
            for (int64_t t = 0; t < taps; ++t) {
                const float a = w[t];
                const float *restrict src = xp + off[t] + i0;
                for (int64_t j = 0; j < len; ++j) acc[j] += a * src[j];
            }
        } else {
            for (int64_t t = 0; t < taps; ++t) {
                const float a = w[t];
                const float *restrict src = xp + off[t] + i0 * sw;
                for (int64_t j = 0; j < len; ++j) acc[j] += a * src[j * sw];
            }
        }
        for (int64_t j = 0; j < len; ++j) y[i0 + j] = acc[j];
    }
}

/* dxp[i * sw + off[t]] += w[t] * dy[i] for every tap t and i in [0, n). */
void DW_NAME(st_dw_bwd_data_line)(float *restrict dxp, const float *restrict dy,
                                  const int64_t *restrict off, const float *restrict w,
                                  int64_t taps, int64_t n, int64_t sw) {
    for (int64_t t = 0; t < taps; ++t) {
        const float a = w[t];
        float *restrict dst = dxp + off[t];
        if (sw == 1) {
            for (int64_t i = 0; i < n; ++i) dst[i] += a * dy[i];
        } else {
            for (int64_t i = 0; i < n; ++i) dst[i * sw] += a * dy[i];
        }
    }
}

/* sum_i dy[i] * src[i * sw] over the outputs i whose column i % pitch is below q: a tap's
 * weight gradient summed again when the long loop below gave NaN.  That loop also multiplies
 * the zeros of dy's pitch columns (>= q) by input elements, harmless unless one is NaN or
 * infinite; summing again makes a non-finite input reach exactly the taps that read it. */
float DW_NAME(st_dw_tap_valid)(const float *restrict dy, const float *restrict src, int64_t n,
                               int64_t sw, int64_t q, int64_t pitch) {
    float s = 0.f;
    for (int64_t r = 0; r < n; r += pitch)
        for (int64_t i = r; i < r + q && i < n; ++i) s += dy[i] * src[i * sw];
    return s;
}

/* dw[t] += sum_i dy[i] * xp[i * sw + off[t]] for every tap t, over the outputs i whose column
 * i % pitch is below q (the rest of the pitch is zero in dy; see st_dw_tap_valid). */
void DW_NAME(st_dw_bwd_weight_line)(float *restrict dw, const float *restrict dy,
                                    const float *restrict xp, const int64_t *restrict off,
                                    int64_t taps, int64_t n, int64_t sw, int64_t q,
                                    int64_t pitch) {
    for (int64_t t = 0; t < taps; ++t) {
        const float *restrict src = xp + off[t];
        float part[16] = {0};
        int64_t i = 0;
        if (sw == 1) {
            for (; i + 16 <= n; i += 16)
                for (int j = 0; j < 16; ++j) part[j] += dy[i + j] * src[i + j];
        } else {
            for (; i + 16 <= n; i += 16)
                for (int j = 0; j < 16; ++j) part[j] += dy[i + j] * src[(i + j) * sw];
        }
        float s = 0.f;
        for (; i < n; ++i) s += dy[i] * src[i * sw];
        for (int j = 0; j < 16; ++j) s += part[j];
        if (s != s && q < pitch) s = DW_NAME(st_dw_tap_valid)(dy, src, n, sw, q, pitch);
        dw[t] += s;
    }
}
