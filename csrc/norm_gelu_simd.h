/* The exact (erf) GELU forward and backward, written once for the SIMD paths and included by
 * csrc/norm_avx512_k.c and csrc/norm_avx2_k.c after norm_body.inc, which defines the
 * includer's portable ST_FN(gelu) / ST_FN(gelu_bwd) (used here for the tanh form).
 *
 * Phi(x) as ncdf() in norm_body.inc: erfc by the Numerical Recipes fit, a refined reciprocal
 * instead of a division, without the correction of x^2's rounding, which the rounding of the
 * exponent p - x^2/2 matches in size (about 1e-6 relative for |x| <= 5, 1e-5 in the far tail).
 *
 * GV vectors are processed at a time, each step written for all of them in turn: one
 * vector's chain of about 60 dependent operations is too long for the scheduler to overlap
 * with the next on its own (AVX-512, 1 thread, Intel Xeon: 64K floats in L2 0.72 -> 0.61 ns
 * per element, PyTorch 0.69-0.72; 64x197x384 forward 4.7-5.4 -> 2.6-2.7 ms, backward 7.8-9.1
 * -> 4.6 ms; the AVX-512 results are the same bits as one vector at a time).
 *
 * The includer defines: V (vector type), VL (lanes), GV, VMASK, VLANES(r) (first r lanes),
 * VLOADM(p, m), VSTOREM(p, m, v), VLOADU(p), VSTOREU(p, v), VSET(c), VZERO(), VADD, VSUB,
 * VMUL, VMIN, VMAX, VABS, VFMA(a, b, c) (a*b + c), VFNMA (c - a*b), VFMS (a*b - c),
 * VRCP (about 12 bits or better), VROUND (to nearest), EXP_LO (inputs clamped to it),
 * VSCALE2N(p, n) (p * 2^n), VEXP_FLUSH(r, xin) (r, or 0 where xin < EXP_LO if VSCALE2N does
 * not underflow gracefully), VSEL_NONNEG(x, a, b) (a where x >= 0 or NaN, else b). */

#define EACH _Pragma("GCC unroll 4") for (int j = 0; j < GV; ++j)

/* exp(x) for x <= 0, in place: Cephes polynomial on x - n ln2, scaled by 2^n. */
static inline void gelu_exp_neg(V *x) {
    V xin[GV], n[GV], f[GV], p[GV];
    EACH xin[j] = x[j];
    EACH x[j] = VMAX(x[j], VSET(EXP_LO));
    EACH n[j] = VROUND(VMUL(x[j], VSET(1.44269504088896341f)));
    EACH f[j] = VFNMA(n[j], VSET(0.693359375f), x[j]);
    EACH f[j] = VFNMA(n[j], VSET(-2.12194440e-4f), f[j]);
    EACH p[j] = VFMA(VSET(1.9875691500e-4f), f[j], VSET(1.3981999507e-3f));
    EACH p[j] = VFMA(p[j], f[j], VSET(8.3334519073e-3f));
    EACH p[j] = VFMA(p[j], f[j], VSET(4.1665795894e-2f));
    EACH p[j] = VFMA(p[j], f[j], VSET(1.6666665459e-1f));
    EACH p[j] = VFMA(p[j], f[j], VSET(5.0000001201e-1f));
    EACH p[j] = VFMA(p[j], VMUL(f[j], f[j]), VADD(f[j], VSET(1.f)));
    EACH x[j] = VEXP_FLUSH(VSCALE2N(p[j], n[j]), xin[j]);
}

/* cdf[j] = Phi(x[j]); with e2 not NULL, e2[j] = exp(-x^2/2) with the correction of x^2's
 * rounding, from which the density follows. */
static inline void gelu_ncdf(const V *x, V *cdf, V *e2) {
    const V one = VSET(1.f);
    V ax[GV], t[GV], hx2[GV], p[GV], d[GV];
    EACH ax[j] = VMIN(VABS(x[j]), VSET(20.f));
    EACH d[j] = VFMA(ax[j], VSET(0.35355339059327376f), one);
    EACH t[j] = VRCP(d[j]); /* one Newton step */
    EACH t[j] = VFMA(t[j], VFNMA(d[j], t[j], one), t[j]);
    EACH hx2[j] = VMUL(VMUL(ax[j], ax[j]), VSET(0.5f));
    static const float C[10] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f,
                                0.27886807f, -0.18628806f, 0.09678418f, 0.37409196f,
                                1.00002368f, -1.26551223f};
    EACH p[j] = VSET(C[0]);
#pragma GCC unroll 9
    for (int c = 1; c < 10; ++c) EACH p[j] = VFMA(p[j], t[j], VSET(C[c]));
    EACH p[j] = VSUB(p[j], hx2[j]);
    gelu_exp_neg(p);
    if (e2) {
        V lo[GV];
        EACH lo[j] = VMUL(VSET(0.5f), VFMS(ax[j], ax[j], VADD(hx2[j], hx2[j])));
        EACH e2[j] = VSUB(VZERO(), hx2[j]);
        gelu_exp_neg(e2);
        EACH e2[j] = VMUL(e2[j], VSUB(one, lo[j]));
    }
    EACH {
        const V he = VMUL(VMUL(VSET(0.5f), t[j]), p[j]);
        cdf[j] = VSEL_NONNEG(x[j], VSUB(one, he), he);
    }
}

static void gelu_fast(const float *x, int64_t n, int approx, float *y) {
    if (approx) {
        ST_FN(gelu)(x, n, approx, y);
        return;
    }
    for (int64_t i = 0; i < n; i += GV * VL) {
        V v[GV], c[GV];
        if (n - i >= GV * VL) {
            EACH v[j] = VLOADU(x + i + j * VL);
            gelu_ncdf(v, c, NULL);
            EACH VSTOREU(y + i + j * VL, VMUL(v[j], c[j]));
        } else {
            VMASK k[GV];
            EACH k[j] = VLANES(n - i - j * VL);
            EACH v[j] = VLOADM(x + i + j * VL, k[j]);
            gelu_ncdf(v, c, NULL);
            EACH VSTOREM(y + i + j * VL, k[j], VMUL(v[j], c[j]));
        }
    }
}

static void gelu_bwd_fast(const float *x, const float *gy, int64_t n, int approx, float *gx) {
    if (approx) {
        ST_FN(gelu_bwd)(x, gy, n, approx, gx);
        return;
    }
    const V inv_sqrt_2pi = VSET(0.39894228040143268f);
    for (int64_t i = 0; i < n; i += GV * VL) {
        V v[GV], c[GV], e2[GV];
        VMASK k[GV];
        const int full = n - i >= GV * VL;
        EACH k[j] = VLANES(full ? VL : n - i - j * VL);
        EACH v[j] = full ? VLOADU(x + i + j * VL) : VLOADM(x + i + j * VL, k[j]);
        gelu_ncdf(v, c, e2);
        EACH {
            const V d = VFMA(VMUL(v[j], inv_sqrt_2pi), e2[j], c[j]);
            const V g = full ? VLOADU(gy + i + j * VL) : VLOADM(gy + i + j * VL, k[j]);
            if (full)
                VSTOREU(gx + i + j * VL, VMUL(g, d));
            else
                VSTOREM(gx + i + j * VL, k[j], VMUL(g, d));
        }
    }
}

#undef EACH
