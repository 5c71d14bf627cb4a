/* FMA peak probe, written once and instantiated per ISA (peak_avx512_k.c, peak_avx2_k.c, and
 * the portable vector form in runtime.c): `iters` rounds of 12 independent multiply-add
 * chains, each in its own register, enough to hide a 4-cycle latency on two FMA ports.
 * Returns the floating-point operations done (2 per lane and multiply-add).
 *
 * The includer defines PK_NAME (the function), PK_T (the vector type), PK_LANES (floats per
 * vector), PK_SET1(x), PK_FMA(a, b, c) (a * b + c) and PK_ADD(a, b). */
#include <stdint.h>
#include <string.h>

double PK_NAME(int64_t iters) {
    const PK_T b = PK_SET1(0.999999f), c = PK_SET1(1e-7f);
    PK_T a0 = PK_SET1(0.f), a1 = PK_SET1(1.f), a2 = PK_SET1(2.f), a3 = PK_SET1(3.f);
    PK_T a4 = PK_SET1(4.f), a5 = PK_SET1(5.f), a6 = PK_SET1(6.f), a7 = PK_SET1(7.f);
    PK_T a8 = PK_SET1(8.f), a9 = PK_SET1(9.f), a10 = PK_SET1(10.f), a11 = PK_SET1(11.f);
    for (int64_t i = 0; i < iters; ++i) {
#define PK_STEP(r) r = PK_FMA(r, b, c)
        PK_STEP(a0); PK_STEP(a1); PK_STEP(a2); PK_STEP(a3); PK_STEP(a4); PK_STEP(a5);
        PK_STEP(a6); PK_STEP(a7); PK_STEP(a8); PK_STEP(a9); PK_STEP(a10); PK_STEP(a11);
#undef PK_STEP
    }
    const PK_T s = PK_ADD(PK_ADD(PK_ADD(PK_ADD(a0, a1), PK_ADD(a2, a3)),
                                 PK_ADD(PK_ADD(a4, a5), PK_ADD(a6, a7))),
                          PK_ADD(PK_ADD(a8, a9), PK_ADD(a10, a11)));
    float v[PK_LANES];
    memcpy(v, &s, sizeof v);
    volatile float sink = v[0] + v[PK_LANES - 1]; /* keeps the chains alive */
    (void)sink;
    return (double)iters * 12.0 * 2.0 * PK_LANES;
}
