/* AVX-512 primitives of the normalisation family: the plain loops of norm_body.inc, which the
 * compiler vectorises with this file's flags, and the exact (erf) GELU written with
 * intrinsics (a refined reciprocal instead of a division, 2^n by vscalefps). */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "norm_isa.h"

#define ST_SFX avx512
#define ST_NORM_OWN_TABLE
#include "norm_body.inc"

enum { VL = 16 };

static inline __mmask16 lanes(int64_t n) {
    return n >= VL ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* exp(x) for x <= 0: Cephes polynomial on x - n ln2, scaled by 2^n with vscalefps (which
 * underflows gracefully to 0); inputs below -104 give 0. */
static inline __m512 exp_neg512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    f = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), f);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(f, f), _mm512_add_ps(f, _mm512_set1_ps(1.f)));
    return _mm512_scalef_ps(p, n);
}

/* The normal CDF as ncdf() in norm_body.inc (erfc by the Numerical Recipes fit; here without
 * the correction of x^2's rounding, which the rounding of the exponent p - x^2/2 matches in
 * size: about 1e-6 relative for |x| <= 5, 1e-5 in the far tail).  With want_pdf, *e2
 * receives exp(-x^2/2) with that correction, from which the density follows. */
static inline __m512 ncdf512(__m512 x, __m512 *e2, int want_pdf) {
    const __m512 one = _mm512_set1_ps(1.f);
    const __m512 ax = _mm512_min_ps(_mm512_abs_ps(x), _mm512_set1_ps(20.f));
    const __m512 d = _mm512_fmadd_ps(ax, _mm512_set1_ps(0.35355339059327376f), one);
    __m512 t = _mm512_rcp14_ps(d); /* one Newton step: ~1e-8 */
    t = _mm512_fmadd_ps(t, _mm512_fnmadd_ps(d, t, one), t);
    const __m512 hx2 = _mm512_mul_ps(_mm512_mul_ps(ax, ax), _mm512_set1_ps(0.5f));
    __m512 p = _mm512_set1_ps(0.17087277f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.82215223f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.48851587f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.13520398f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.27886807f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.18628806f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.09678418f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.37409196f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.00002368f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.26551223f));
    const __m512 he = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), t),
                                    exp_neg512(_mm512_sub_ps(p, hx2)));
    if (want_pdf) {
        /* the density's exponent is exact up to the rounding of x^2, corrected here */
        const __m512 hi = _mm512_add_ps(hx2, hx2); /* x^2 rounded, exactly */
        const __m512 lo = _mm512_mul_ps(_mm512_set1_ps(0.5f), _mm512_fmsub_ps(ax, ax, hi));
        *e2 = _mm512_mul_ps(exp_neg512(_mm512_sub_ps(_mm512_setzero_ps(), hx2)),
                            _mm512_sub_ps(one, lo));
    }
    const __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NLT_UQ);
    return _mm512_mask_sub_ps(he, pos, one, he); /* x >= 0 (or NaN): 1 - he */
}

static void gelu_fast(const float *x, int64_t n, int approx, float *y) {
    if (approx) {
        gelu_avx512(x, n, approx, y);
        return;
    }
    for (int64_t i = 0; i < n; i += VL) {
        const __mmask16 k = lanes(n - i);
        const __m512 v = _mm512_maskz_loadu_ps(k, x + i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(v, ncdf512(v, NULL, 0)));
    }
}

static void gelu_bwd_fast(const float *x, const float *gy, int64_t n, int approx, float *gx) {
    if (approx) {
        gelu_bwd_avx512(x, gy, n, approx, gx);
        return;
    }
    const __m512 inv_sqrt_2pi = _mm512_set1_ps(0.39894228040143268f);
    for (int64_t i = 0; i < n; i += VL) {
        const __mmask16 k = lanes(n - i);
        const __m512 v = _mm512_maskz_loadu_ps(k, x + i);
        __m512 e2;
        const __m512 cdf = ncdf512(v, &e2, 1);
        const __m512 d = _mm512_fmadd_ps(_mm512_mul_ps(v, inv_sqrt_2pi), e2, cdf);
        _mm512_mask_storeu_ps(gx + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, gy + i), d));
    }
}

const st_norm_ops st_norm_ops_avx512 = {
    sum_avx512,     sqdev_avx512,   dot_avx512, affine_avx512, lincomb_avx512,
    ln_apply_avx512, ln_sums_avx512, ln_bwd_avx512, gelu_fast,  gelu_bwd_fast,
    silu_avx512,    silu_bwd_avx512, sigmoid_avx512};
