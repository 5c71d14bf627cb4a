/* Direct depthwise inner loops for AVX-512: explicit intrinsics for stride 1 (the common
 * case), the portable loops of conv_dw_impl.h compiled with AVX-512 flags otherwise. */
#include <immintrin.h>
#include <stdint.h>

#define DW_NAME(f) f##_avx512_c
#include "conv_dw_impl.h"
#undef DW_NAME

static inline __mmask16 tail_mask(int64_t len) {
    return len >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << len) - 1u);
}

/* y[i] = bias + sum_t w[t] * xp[i*sw + off[t]]: 64 outputs in 4 registers per pass. */
void st_dw_fwd_line_avx512(float *restrict y, const float *restrict xp,
                           const int64_t *restrict off, const float *restrict w, int64_t taps,
                           int64_t n, int64_t sw, float bias) {
    if (sw != 1) {
        st_dw_fwd_line_avx512_c(y, xp, off, w, taps, n, sw, bias);
        return;
    }
    const __m512 b = _mm512_set1_ps(bias);
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a0 = b, a1 = b, a2 = b, a3 = b;
        for (int64_t t = 0; t < taps; ++t) {
            const __m512 wv = _mm512_set1_ps(w[t]);
            const float *s = xp + off[t] + i;
            a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s), a0);
            a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 16), a1);
            a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 32), a2);
            a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 48), a3);
        }
        _mm512_storeu_ps(y + i, a0);
        _mm512_storeu_ps(y + i + 16, a1);
        _mm512_storeu_ps(y + i + 32, a2);
        _mm512_storeu_ps(y + i + 48, a3);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        __m512 a0 = b;
        for (int64_t t = 0; t < taps; ++t)
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(w[t]),
                                 _mm512_maskz_loadu_ps(m, xp + off[t] + i), a0);
        _mm512_mask_storeu_ps(y + i, m, a0);
    }
}

void st_dw_bwd_data_line_avx512(float *restrict dxp, const float *restrict dy,
                                const int64_t *restrict off, const float *restrict w,
                                int64_t taps, int64_t n, int64_t sw) {
    st_dw_bwd_data_line_avx512_c(dxp, dy, off, w, taps, n, sw);
}

/* Up to DOT_MAX taps at once: dy is loaded once per 16 outputs for all of them. */
#define DOT_MAX 9

static void dots(float *restrict dw, const float *restrict dy, const float *restrict xp,
                 const int64_t *restrict off, int64_t taps, int64_t n) {
    __m512 acc[DOT_MAX];
    const float *src[DOT_MAX];
    for (int j = 0; j < DOT_MAX; ++j) {
        acc[j] = _mm512_setzero_ps();
        src[j] = xp + off[j < taps ? j : 0];
    }
#define DOT_BODY(LOAD_DY, LOAD_X)                                                 \
    {                                                                             \
        const __m512 d = LOAD_DY;                                                 \
        switch (taps) {                                                           \
            case 9: acc[8] = _mm512_fmadd_ps(d, LOAD_X(src[8]), acc[8]); /* fallthrough */ \
            case 8: acc[7] = _mm512_fmadd_ps(d, LOAD_X(src[7]), acc[7]); /* fallthrough */ \
            case 7: acc[6] = _mm512_fmadd_ps(d, LOAD_X(src[6]), acc[6]); /* fallthrough */ \
            case 6: acc[5] = _mm512_fmadd_ps(d, LOAD_X(src[5]), acc[5]); /* fallthrough */ \
            case 5: acc[4] = _mm512_fmadd_ps(d, LOAD_X(src[4]), acc[4]); /* fallthrough */ \
            case 4: acc[3] = _mm512_fmadd_ps(d, LOAD_X(src[3]), acc[3]); /* fallthrough */ \
            case 3: acc[2] = _mm512_fmadd_ps(d, LOAD_X(src[2]), acc[2]); /* fallthrough */ \
            case 2: acc[1] = _mm512_fmadd_ps(d, LOAD_X(src[1]), acc[1]); /* fallthrough */ \
            default: acc[0] = _mm512_fmadd_ps(d, LOAD_X(src[0]), acc[0]);                 \
        }                                                                         \
    }
    int64_t i = 0;
#define LX_FULL(p) _mm512_loadu_ps((p) + i)
    for (; i + 16 <= n; i += 16) DOT_BODY(_mm512_loadu_ps(dy + i), LX_FULL)
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
#define LX_MASK(p) _mm512_maskz_loadu_ps(m, (p) + i)
        DOT_BODY(_mm512_maskz_loadu_ps(m, dy + i), LX_MASK)
    }
    for (int64_t j = 0; j < taps; ++j) dw[j] += _mm512_reduce_add_ps(acc[j]);
#undef DOT_BODY
#undef LX_FULL
#undef LX_MASK
}

void st_dw_bwd_weight_line_avx512(float *restrict dw, const float *restrict dy,
                                  const float *restrict xp, const int64_t *restrict off,
                                  int64_t taps, int64_t n, int64_t sw) {
    if (sw != 1) {
        st_dw_bwd_weight_line_avx512_c(dw, dy, xp, off, taps, n, sw);
        return;
    }
    for (int64_t t0 = 0; t0 < taps; t0 += DOT_MAX) {
        const int64_t tg = taps - t0 < DOT_MAX ? taps - t0 : DOT_MAX;
        dots(dw + t0, dy, xp, off + t0, tg, n);
    }
}
