/* Weight gradient of a layer with few input channels, one call of the direct path (conv.c,
 * direct_dw_run), written once and compiled per ISA: csrc/conv_avx512_direct.c and
 * csrc/conv_avx2_direct.c define the macros below and include this file.
 *
 *   acc0[16 t + l] += sum_{i = l mod VL, i < n} dy0[i] * src[i + off[t]]   (acc1 likewise, dy1)
 *
 * for taps t < tg <= DWD_T and lanes l < DWD_VL (the rest of each 16-float slot is left
 * alone): two output channels' gradients dot the shifted input planes, 2 x DWD_T vectors of
 * partial sums in registers while dy and the planes stream through once; the next pair's dy
 * is fetched meanwhile.  The last partial vector is masked on both sides, so nothing past
 * dy[n - 1] or src[off[t] + n - 1] is read.
 *
 * The includer defines: DWD_NAME (function), DWD_T (taps per call), DWD_VL (lanes), DWD_VEC
 * (vector type), DWD_ZERO(), DWD_LOADU(p), DWD_MASK_T, DWD_MASK(r) (first r lanes),
 * DWD_LOADM(p, m) (masked load, other lanes 0), DWD_FMA(a, b, c) (a * b + c), DWD_ADD(a, b),
 * DWD_STOREU(p, v). */
#include <stdint.h>

void DWD_NAME(const float *restrict dy0, const float *restrict dy1, const float *restrict src,
              const int64_t *restrict off, int tg, int64_t n, float *restrict acc0,
              float *restrict acc1) {
    DWD_VEC a0[DWD_T], a1[DWD_T];
    const float *p[DWD_T];
#pragma GCC unroll 16
    for (int t = 0; t < DWD_T; ++t) {
        a0[t] = a1[t] = DWD_ZERO();
        p[t] = src + off[t < tg ? t : 0];
    }
    int64_t i = 0;
    for (; i + DWD_VL <= n; i += DWD_VL) {
        const DWD_VEC d0 = DWD_LOADU(dy0 + i), d1 = DWD_LOADU(dy1 + i);
        _mm_prefetch((const char *)(dy1 + n + i), _MM_HINT_T0);
        _mm_prefetch((const char *)(dy1 + 2 * n + i), _MM_HINT_T0);
#pragma GCC unroll 16
        for (int t = 0; t < DWD_T; ++t) {
            if (t < tg) {
                const DWD_VEC xv = DWD_LOADU(p[t] + i);
                a0[t] = DWD_FMA(d0, xv, a0[t]);
                a1[t] = DWD_FMA(d1, xv, a1[t]);
            }
        }
    }
    if (i < n) {
        const DWD_MASK_T m = DWD_MASK(n - i);
        const DWD_VEC d0 = DWD_LOADM(dy0 + i, m), d1 = DWD_LOADM(dy1 + i, m);
#pragma GCC unroll 16
        for (int t = 0; t < DWD_T; ++t) {
            if (t < tg) {
                const DWD_VEC xv = DWD_LOADM(p[t] + i, m);
                a0[t] = DWD_FMA(d0, xv, a0[t]);
                a1[t] = DWD_FMA(d1, xv, a1[t]);
            }
        }
    }
#pragma GCC unroll 16
    for (int t = 0; t < DWD_T; ++t) {
        if (t < tg) {
            DWD_STOREU(acc0 + 16 * t, DWD_ADD(DWD_LOADU(acc0 + 16 * t), a0[t]));
            DWD_STOREU(acc1 + 16 * t, DWD_ADD(DWD_LOADU(acc1 + 16 * t), a1[t]));
        }
    }
}

#undef DWD_NAME
#undef DWD_T
#undef DWD_VL
#undef DWD_VEC
#undef DWD_ZERO
#undef DWD_LOADU
#undef DWD_MASK_T
#undef DWD_MASK
#undef DWD_LOADM
#undef DWD_FMA
#undef DWD_ADD
#undef DWD_STOREU
