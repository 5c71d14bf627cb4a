/* AVX2 + FMA weight gradient of a layer with few input channels (see conv.c, direct_dw_*):
 *
 *   acc0[16 t + l] += sum_{i = l mod 8, i < n} dy0[i] * src[i + off[t]]   (acc1 likewise, dy1)
 *
 * for taps t < tg <= 6 and lanes l < 8 (lanes 8..15 of each 16-float slot are left alone):
 * two output channels x 6 taps of 8-lane partial sums in registers (12 of the 16 ymm), while
 * dy and the shifted input planes stream through once.  The last partial vector is masked on
 * both sides, so nothing past dy[n - 1] or src[off[t] + n - 1] is read. */
#include <immintrin.h>
#include <stdint.h>

#define DWD_T_AVX2 6

static inline __m256i lane_mask(int64_t r) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    r = r < 0 ? 0 : r > 8 ? 8 : r;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), idx);
}

void st_conv_direct_dw_avx2(const float *restrict dy0, const float *restrict dy1,
                            const float *restrict src, const int64_t *restrict off, int tg,
                            int64_t n, float *restrict acc0, float *restrict acc1) {
    __m256 a0[DWD_T_AVX2], a1[DWD_T_AVX2];
    const float *p[DWD_T_AVX2];
#pragma GCC unroll 6
    for (int t = 0; t < DWD_T_AVX2; ++t) {
        a0[t] = a1[t] = _mm256_setzero_ps();
        p[t] = src + off[t < tg ? t : 0];
    }
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 d0 = _mm256_loadu_ps(dy0 + i), d1 = _mm256_loadu_ps(dy1 + i);
        _mm_prefetch((const char *)(dy1 + n + i), _MM_HINT_T0); /* the next pair's dY */
        _mm_prefetch((const char *)(dy1 + 2 * n + i), _MM_HINT_T0);
#pragma GCC unroll 6
        for (int t = 0; t < DWD_T_AVX2; ++t) {
            if (t < tg) {
                const __m256 xv = _mm256_loadu_ps(p[t] + i);
                a0[t] = _mm256_fmadd_ps(d0, xv, a0[t]);
                a1[t] = _mm256_fmadd_ps(d1, xv, a1[t]);
            }
        }
    }
    if (i < n) {
        const __m256i m = lane_mask(n - i);
        const __m256 d0 = _mm256_maskload_ps(dy0 + i, m), d1 = _mm256_maskload_ps(dy1 + i, m);
#pragma GCC unroll 6
        for (int t = 0; t < DWD_T_AVX2; ++t) {
            if (t < tg) {
                const __m256 xv = _mm256_maskload_ps(p[t] + i, m);
                a0[t] = _mm256_fmadd_ps(d0, xv, a0[t]);
                a1[t] = _mm256_fmadd_ps(d1, xv, a1[t]);
            }
        }
    }
#pragma GCC unroll 6
    for (int t = 0; t < DWD_T_AVX2; ++t) {
        if (t < tg) {
            _mm256_storeu_ps(acc0 + 16 * t, _mm256_add_ps(_mm256_loadu_ps(acc0 + 16 * t), a0[t]));
            _mm256_storeu_ps(acc1 + 16 * t, _mm256_add_ps(_mm256_loadu_ps(acc1 + 16 * t), a1[t]));
        }
    }
}
