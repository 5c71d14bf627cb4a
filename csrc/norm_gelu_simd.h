/* The smooth activations' SIMD paths, written once and included by csrc/norm_avx512_k.c and
 * csrc/norm_avx2_k.c after norm_body.inc (whose portable loops the generic path runs): the
 * exact (erf) GELU forward and backward, and the sigmoid family (sigmoid, SiLU, the tanh
 * GELU, forward and backward) on sig_pair below.
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
 * not underflow gracefully), VSEL_NONNEG(x, a, b) (a where x >= 0 or NaN, else b),
 * VNABS(x) (-|x|). */

#define EACH _Pragma("GCC unroll 4") for (int j = 0; j < GV; ++j)

/* exp(x) for x <= 0, in place: Cephes polynomial on x - n ln2, scaled by 2^n. */
static inline void gelu_exp_neg(V *x) {
    V xin[GV], n[GV], f[GV], p[GV];
    EACH xin[j] = x[j];
    EACH x[j] = VMAX(VSET(EXP_LO), x[j]); /* NaN stays NaN: max_ps gives its 2nd operand */
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
    EACH ax[j] = VMIN(VSET(20.f), VABS(x[j])); /* NaN stays NaN, as in gelu_exp_neg */
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

/* s[j] = sigmoid(z[j]) and, with sm not NULL, sm[j] = sigmoid(-z[j]) = 1 - s[j] (not in
 * place: s and sm must not be z).  From e = exp(-|z|) <= 1 and r = 1 / (1 + e) (a refined
 * reciprocal: 1 + e is in [1, 2]), e r is the sigmoid of -|z| and 1 - e r that of |z|
 * (r itself can be 1 ulp below 1 for e = 0 on AVX2, 1 - e r is 1 there).  exp is never
 * taken of a positive value, so it cannot overflow, and it keeps a NaN, as both selects do.
 * These replace the compiler-vectorised loops of norm_body.inc on these paths, whose exp was
 * clamped to [-87.3, 88.3] (sigmoid(NaN) was 1, sigmoid(-inf) 4.5e-39 and so silu(-3e38)
 * -1.35); 1 thread, AMD EPYC (Zen 4), 64K floats in L2, us: AVX-512 sigmoid 23 -> 19,
 * SiLU 23 -> 21, tanh GELU 34 -> 25, their gradients 30 -> 24 and 44 -> 33; AVX2 31 -> 32,
 * 31 -> 34, 46 -> 45, 41 -> 41, 64 -> 56. */
static inline void sig_pair(const V *z, V *s, V *sm) {
    const V one = VSET(1.f);
    V e[GV], d[GV], r[GV];
    EACH e[j] = VNABS(z[j]);
    gelu_exp_neg(e);
    EACH d[j] = VADD(one, e[j]);
    EACH r[j] = VRCP(d[j]); /* one Newton step */
    EACH r[j] = VFMA(r[j], VFNMA(d[j], r[j], one), r[j]);
    EACH {
        const V er = VMUL(e[j], r[j]), c = VSUB(one, er);
        s[j] = VSEL_NONNEG(z[j], c, er); /* -0 as +0: 1 - e r rounds to 0.5 exactly */
        if (sm) sm[j] = VSEL_NONNEG(z[j], er, c);
    }
}

/* The maps of the sigmoid family on GV vectors: out = f(v) (forward) or gy f'(v) (backward).
 * The tanh GELU is x sigmoid(z), z = 2u = 2k (x + c x^3) = x (2k + 2kc x^2). */
static inline void sigmoid_core(const V *v, V *out) { sig_pair(v, out, NULL); }

static inline void silu_core(const V *v, V *out) {
    V s[GV];
    sig_pair(v, s, NULL);
    EACH out[j] = VMUL(v[j], s[j]);
}

static inline void gelu_tanh_core(const V *v, V *out) {
    V z[GV], s[GV];
    EACH z[j] = VMUL(v[j], VFMA(VMUL(v[j], v[j]), VSET(2.f * ST_GELU_K * ST_GELU_C),
                                VSET(2.f * ST_GELU_K)));
    sig_pair(z, s, NULL);
    EACH out[j] = VMUL(v[j], s[j]);
}

/* s (1 + x (1 - s)) */
static inline void silu_bwd_core(const V *v, const V *g, V *out) {
    V s[GV], sm[GV];
    sig_pair(v, s, sm);
    EACH out[j] = VMUL(g[j], VMUL(s[j], VFMA(v[j], sm[j], VSET(1.f))));
}

/* s + w 2u' with s = sigmoid(2u), w = x s (1 - s), 2u' = 2k (1 + 3c x^2), taken as
 * s + 2k w + (w x) (6kc x) as in norm_body.inc's ST_FN(gelu_bwd): x^2 overflows from
 * |x| = 1.8e19 on, where w is exactly 0 (from |x| = 11 on: exp(-2 |u|) is 0 on both paths;
 * NaN for an infinite x, as in the reference). */
static inline void gelu_tanh_bwd_core(const V *v, const V *g, V *out) {
    V z[GV], s[GV], sm[GV];
    EACH z[j] = VMUL(v[j], VFMA(VMUL(v[j], v[j]), VSET(2.f * ST_GELU_K * ST_GELU_C),
                                VSET(2.f * ST_GELU_K)));
    sig_pair(z, s, sm);
    EACH {
        const V w = VMUL(v[j], VMUL(s[j], sm[j]));
        const V d = VFMA(VMUL(w, v[j]), VMUL(VSET(6.f * ST_GELU_K * ST_GELU_C), v[j]),
                         VFMA(VSET(2.f * ST_GELU_K), w, s[j]));
        out[j] = VMUL(g[j], d);
    }
}

/* y = core(x) over n floats, GV vectors at a time, the last block masked (core a constant,
 * inlined with the loop). */
static inline __attribute__((always_inline)) void sig_map(const float *x, int64_t n, float *y,
                                                          void (*core)(const V *, V *)) {
    for (int64_t i = 0; i < n; i += GV * VL) {
        V v[GV], o[GV];
        if (n - i >= GV * VL) {
            EACH v[j] = VLOADU(x + i + j * VL);
            core(v, o);
            EACH VSTOREU(y + i + j * VL, o[j]);
        } else {
            VMASK k[GV];
            EACH k[j] = VLANES(n - i - j * VL);
            EACH v[j] = VLOADM(x + i + j * VL, k[j]);
            core(v, o);
            EACH VSTOREM(y + i + j * VL, k[j], o[j]);
        }
    }
}

/* gx = core(x, gy) over n floats, as sig_map. */
static inline __attribute__((always_inline)) void sig_map2(const float *x, const float *gy,
                                                           int64_t n, float *gx,
                                                           void (*core)(const V *, const V *,
                                                                        V *)) {
    for (int64_t i = 0; i < n; i += GV * VL) {
        V v[GV], g[GV], o[GV];
        if (n - i >= GV * VL) {
            EACH v[j] = VLOADU(x + i + j * VL);
            EACH g[j] = VLOADU(gy + i + j * VL);
            core(v, g, o);
            EACH VSTOREU(gx + i + j * VL, o[j]);
        } else {
            VMASK k[GV];
            EACH k[j] = VLANES(n - i - j * VL);
            EACH v[j] = VLOADM(x + i + j * VL, k[j]);
            EACH g[j] = VLOADM(gy + i + j * VL, k[j]);
            core(v, g, o);
            EACH VSTOREM(gx + i + j * VL, k[j], o[j]);
        }
    }
}

static void sigmoid_fast(const float *x, int64_t n, float *y) { sig_map(x, n, y, sigmoid_core); }

static void silu_fast(const float *x, int64_t n, float *y) { sig_map(x, n, y, silu_core); }

static void silu_bwd_fast(const float *x, const float *gy, int64_t n, float *gx) {
    sig_map2(x, gy, n, gx, silu_bwd_core);
}

static void gelu_fast(const float *x, int64_t n, int approx, float *y) {
    if (approx) {
        sig_map(x, n, y, gelu_tanh_core);
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
        sig_map2(x, gy, n, gx, gelu_tanh_bwd_core);
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
