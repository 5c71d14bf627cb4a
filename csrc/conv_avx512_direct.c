/* Direct stride-1 convolution block for AVX-512 (see conv.c, direct_*):
 *
 *   y[o * ldy + i] = sum_{c < Cn} sum_{t < taps} wp[(c * taps + t) * DIRECT_OB + o]
 *                                              * src[c * cstride + i + off[t]]
 *
 * for o in [0, DIRECT_OB) and i in [0, n): DIRECT_OB (8) output channels times 48 flattened
 * output positions held in 24 registers while the reduction runs over channels and taps.
 * Offsets may be negative (the caller owns the margins); the tail is masked so nothing past
 * src[c * cstride + n - 1 + off[t]] is read. */
#include <immintrin.h>
#include <stdint.h>

#define DIRECT_OB 8
#define DIRECT_NV 3 /* vectors of 16 outputs per block */

static inline __mmask16 mask_of(int64_t len) {
    if (len <= 0) return 0;
    return len >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << len) - 1u);
}

#define FMA_ROW(o)                                                       \
    {                                                                    \
        const __m512 wv = _mm512_set1_ps(wt[o]);                         \
        a##o##0 = _mm512_fmadd_ps(wv, x0, a##o##0);                      \
        a##o##1 = _mm512_fmadd_ps(wv, x1, a##o##1);                      \
        a##o##2 = _mm512_fmadd_ps(wv, x2, a##o##2);                      \
    }
#define DECL_ROW(o) __m512 a##o##0 = z, a##o##1 = z, a##o##2 = z;
#define STORE_ROW(o)                                                     \
    _mm512_mask_storeu_ps(y + (o) * ldy + i, m0, a##o##0);               \
    _mm512_mask_storeu_ps(y + (o) * ldy + i + 16, m1, a##o##1);          \
    _mm512_mask_storeu_ps(y + (o) * ldy + i + 32, m2, a##o##2);

void st_conv_direct_block_avx512(float *restrict y, int64_t ldy, const float *restrict src,
                                 int64_t cstride, int64_t Cn, const int64_t *restrict off,
                                 int64_t taps, const float *restrict wp, int64_t n) {
    const __m512 z = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16 * DIRECT_NV) {
        const __mmask16 m0 = mask_of(n - i), m1 = mask_of(n - i - 16),
                        m2 = mask_of(n - i - 32);
        DECL_ROW(0) DECL_ROW(1) DECL_ROW(2) DECL_ROW(3)
        DECL_ROW(4) DECL_ROW(5) DECL_ROW(6) DECL_ROW(7)
        if (m2 == 0xFFFF) {
            for (int64_t c = 0; c < Cn; ++c) {
                const float *sc = src + c * cstride + i;
                const float *wc = wp + c * taps * DIRECT_OB;
                for (int64_t t = 0; t < taps; ++t) {
                    const float *s = sc + off[t];
                    const float *wt = wc + t * DIRECT_OB;
                    const __m512 x0 = _mm512_loadu_ps(s), x1 = _mm512_loadu_ps(s + 16),
                                 x2 = _mm512_loadu_ps(s + 32);
                    FMA_ROW(0) FMA_ROW(1) FMA_ROW(2) FMA_ROW(3)
                    FMA_ROW(4) FMA_ROW(5) FMA_ROW(6) FMA_ROW(7)
                }
            }
        } else {
            for (int64_t c = 0; c < Cn; ++c) {
                const float *sc = src + c * cstride + i;
                const float *wc = wp + c * taps * DIRECT_OB;
                for (int64_t t = 0; t < taps; ++t) {
                    const float *s = sc + off[t];
                    const float *wt = wc + t * DIRECT_OB;
                    const __m512 x0 = _mm512_maskz_loadu_ps(m0, s),
                                 x1 = _mm512_maskz_loadu_ps(m1, s + 16),
                                 x2 = _mm512_maskz_loadu_ps(m2, s + 32);
                    FMA_ROW(0) FMA_ROW(1) FMA_ROW(2) FMA_ROW(3)
                    FMA_ROW(4) FMA_ROW(5) FMA_ROW(6) FMA_ROW(7)
                }
            }
        }
        STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3)
        STORE_ROW(4) STORE_ROW(5) STORE_ROW(6) STORE_ROW(7)
    }
}
