/* AVX-512 primitives of the elementwise family: the plain loops of eltwise_body.inc
 * (vectorised by the compiler with this file's flags) and a vector exp for softmax. */
#include <immintrin.h>
#include <math.h>

#include "eltwise_isa.h"
#include "simd_avx512.h"

#define ST_SFX avx512
#define ST_DROPOUT_SIMD
#include "eltwise_body.inc"

enum { VL = 16 };


/* exp(x): Cephes-style degree-6 polynomial on x - n*ln2, scaled by 2^n with vscalefps (which
 * gives 0 and inf at the ends of the range); NaN propagates. */
static inline __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_set1_ps(89.f), _mm512_max_ps(_mm512_set1_ps(-104.f), x));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
    return _mm512_scalef_ps(p, n);
}

static float rowmax_avx512(const float *x, int64_t n) {
    __m512 m = _mm512_set1_ps(x[0]);
    int64_t i = 0;
    for (; i + VL <= n; i += VL) m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
    if (i < n) {
        const __mmask16 k = st_avx512_lanes(n - i);
        m = _mm512_mask_max_ps(m, k, m, _mm512_maskz_loadu_ps(k, x + i));
    }
    return _mm512_reduce_max_ps(m);
}

static float expsum_avx512(const float *x, float shift, float *y, int64_t n) {
    const __m512 vs = _mm512_set1_ps(shift);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += VL) {
        const __mmask16 k = st_avx512_lanes(n - i);
        const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vs));
        acc = _mm512_mask_add_ps(acc, k, acc, e);
        if (y) _mm512_mask_storeu_ps(y + i, k, e);
    }
    return _mm512_reduce_add_ps(acc);
}

/* Dropout of elements i .. i+nl-1 by the lanes of a Philox word (see philox_simd.h). */
static inline void drop16(const float *x, float *y, uint8_t *keep, int64_t i, int64_t nl,
                          __m512i word, uint32_t t24, float scale) {
    const __mmask16 m = st_avx512_lanes(nl);
    const __mmask16 k = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(word, 8),
                                                _mm512_set1_epi32((int)t24)) & m;
    const __m512 s = _mm512_maskz_mov_ps(k, _mm512_set1_ps(scale));
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), s));
    _mm_mask_storeu_epi8(keep + i, m, _mm_maskz_set1_epi8(k, 1));
}

#define PV __m512i
#define PV_N 16
#define PV_MUL_EVEN _mm512_mul_epu32
#define PV_SRL64 _mm512_srli_epi64
#define PV_SLL64 _mm512_slli_epi64
#define PV_BLEND_ODD(a, b) _mm512_mask_blend_epi32((__mmask16)0xAAAA, (a), (b))
#define PV_XOR _mm512_xor_si512
#define PV_ADD32 _mm512_add_epi32
#define PV_SET1(v) _mm512_set1_epi32((int)(v))
#define PV_LANES _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define PV_DROP drop16
#include "philox_simd.h"
#define dropout_run_avx512 philox_dropout_run

const st_eltwise_ops st_eltwise_ops_avx512 = {
    bias_run_avx512, bias_vec_avx512,    relu_bwd_avx512,    rowmax_avx512,
    expsum_avx512,   softmax_bwd_avx512, dropout_run_avx512, dropout_bwd_avx512};
