/* Stride-1 depthwise inner loops on SIMD registers, written once for AVX-512
 * (conv_avx512_dw.c) and AVX2 (conv_avx2_dw.c); other strides take the portable loops of
 * conv_dw_impl.h compiled with the file's flags.  The includer defines DWS_NAME(f) (the
 * function names), DWS_C(f) (the names of those portable loops), the vector type DV with DV_L lanes, DV_SET1(x),
 * DV_LOADU(p), DV_STOREU(p, v), DV_FMADD(a, b, c) (a * b + c), the mask type DV_MASK_T with
 * DV_MASK(len) (the first min(len, DV_L) lanes), DV_LOADM(m, p) (masked-out lanes read 0 and
 * touch no memory), DV_STOREM(p, m, v) and DV_REDUCE(v) (the sum of the lanes). */
#include <stdint.h>

/* y[i] = bias + sum_t w[t] * xp[i*sw + off[t]]: 4 vectors of outputs per pass. */
void DWS_NAME(st_dw_fwd_line)(float *restrict y, const float *restrict xp,
                              const int64_t *restrict off, const float *restrict w,
                              int64_t taps, int64_t n, int64_t sw, float bias) {
    if (sw != 1) {
        DWS_C(st_dw_fwd_line)(y, xp, off, w, taps, n, sw, bias);
        return;
    }
    const DV b = DV_SET1(bias);
    int64_t i = 0;
    for (; i + 4 * DV_L <= n; i += 4 * DV_L) {
        DV a0 = b, a1 = b, a2 = b, a3 = b;
        for (int64_t t = 0; t < taps; ++t) {
            const DV wv = DV_SET1(w[t]);
            const float *s = xp + off[t] + i;
            a0 = DV_FMADD(wv, DV_LOADU(s), a0);
            a1 = DV_FMADD(wv, DV_LOADU(s + DV_L), a1);
            a2 = DV_FMADD(wv, DV_LOADU(s + 2 * DV_L), a2);
            a3 = DV_FMADD(wv, DV_LOADU(s + 3 * DV_L), a3);
        }
        DV_STOREU(y + i, a0);
        DV_STOREU(y + i + DV_L, a1);
        DV_STOREU(y + i + 2 * DV_L, a2);
        DV_STOREU(y + i + 3 * DV_L, a3);
    }
    for (; i < n; i += DV_L) {
        const DV_MASK_T m = DV_MASK(n - i);
        DV a0 = b;
        for (int64_t t = 0; t < taps; ++t)
            a0 = DV_FMADD(DV_SET1(w[t]), DV_LOADM(m, xp + off[t] + i), a0);
        if (n - i >= DV_L)
            DV_STOREU(y + i, a0);
        else
            DV_STOREM(y + i, m, a0);
    }
}

void DWS_NAME(st_dw_bwd_data_line)(float *restrict dxp, const float *restrict dy,
                                   const int64_t *restrict off, const float *restrict w,
                                   int64_t taps, int64_t n, int64_t sw) {
    DWS_C(st_dw_bwd_data_line)(dxp, dy, off, w, taps, n, sw);
}

/* Up to DWS_DOT_MAX taps at once: dy is loaded once per vector of outputs for all of them. */
#define DWS_DOT_MAX 9

static void DWS_NAME(dots)(float *restrict dw, const float *restrict dy,
                           const float *restrict xp, const int64_t *restrict off, int64_t taps,
                           int64_t n, int64_t q, int64_t pitch) {
    DV acc[DWS_DOT_MAX];
    const float *src[DWS_DOT_MAX];
    for (int j = 0; j < DWS_DOT_MAX; ++j) {
        acc[j] = DV_SET1(0.f);
        src[j] = xp + off[j < taps ? j : 0];
    }
#define DOT_BODY(LOAD_DY, LOAD_X)                                                      \
    {                                                                                  \
        const DV d = LOAD_DY;                                                          \
        switch (taps) {                                                                \
            case 9: acc[8] = DV_FMADD(d, LOAD_X(src[8]), acc[8]); /* fallthrough */    \
            case 8: acc[7] = DV_FMADD(d, LOAD_X(src[7]), acc[7]); /* fallthrough */    \
            case 7: acc[6] = DV_FMADD(d, LOAD_X(src[6]), acc[6]); /* fallthrough */    \
            case 6: acc[5] = DV_FMADD(d, LOAD_X(src[5]), acc[5]); /* fallthrough */    \
            case 5: acc[4] = DV_FMADD(d, LOAD_X(src[4]), acc[4]); /* fallthrough */    \
            case 4: acc[3] = DV_FMADD(d, LOAD_X(src[3]), acc[3]); /* fallthrough */    \
            case 3: acc[2] = DV_FMADD(d, LOAD_X(src[2]), acc[2]); /* fallthrough */    \
            case 2: acc[1] = DV_FMADD(d, LOAD_X(src[1]), acc[1]); /* fallthrough */    \
            default: acc[0] = DV_FMADD(d, LOAD_X(src[0]), acc[0]);                     \
        }                                                                              \
    }
    int64_t i = 0;
#define LX_FULL(p) DV_LOADU((p) + i)
    for (; i + DV_L <= n; i += DV_L) DOT_BODY(DV_LOADU(dy + i), LX_FULL)
    if (i < n) {
        const DV_MASK_T m = DV_MASK(n - i);
#define LX_MASK(p) DV_LOADM(m, (p) + i)
        DOT_BODY(DV_LOADM(m, dy + i), LX_MASK)
    }
    for (int64_t j = 0; j < taps; ++j) {
        float s = DV_REDUCE(acc[j]);
        if (s != s && q < pitch) s = DWS_C(st_dw_tap_valid)(dy, xp + off[j], n, 1, q, pitch);
        dw[j] += s;
    }
#undef DOT_BODY
#undef LX_FULL
#undef LX_MASK
}

/* dw[t] += sum_i dy[i] * xp[i*sw + off[t]] for every tap t, over the columns i % pitch < q
 * (as conv_dw_impl.h's). */
void DWS_NAME(st_dw_bwd_weight_line)(float *restrict dw, const float *restrict dy,
                                     const float *restrict xp, const int64_t *restrict off,
                                     int64_t taps, int64_t n, int64_t sw, int64_t q,
                                     int64_t pitch) {
    if (sw != 1) {
        DWS_C(st_dw_bwd_weight_line)(dw, dy, xp, off, taps, n, sw, q, pitch);
        return;
    }
    for (int64_t t0 = 0; t0 < taps; t0 += DWS_DOT_MAX) {
        const int64_t tg = taps - t0 < DWS_DOT_MAX ? taps - t0 : DWS_DOT_MAX;
        DWS_NAME(dots)(dw + t0, dy, xp, off + t0, tg, n, q, pitch);
    }
}

#undef DWS_DOT_MAX
