/* AVX2 primitives of the elementwise family: the plain loops of eltwise_body.inc (vectorised
 * by the compiler with this file's flags) and a vector exp for softmax. */
#include <immintrin.h>
#include <math.h>

#include "eltwise_isa.h"
#include "simd_avx2.h"

#define ST_SFX avx2
#define ST_DROPOUT_SIMD
#include "eltwise_body.inc"

enum { VL = 8 };

/* exp(x): Cephes-style degree-6 polynomial on x - n*ln2, scaled by 2^n built in the exponent
 * bits; inputs below -87.3 give exactly 0 (so exp(-inf) = 0); NaN propagates. */
static inline __m256 exp256(__m256 x0) {
    const __m256 lo = _mm256_set1_ps(-87.3f);
    __m256 x = _mm256_min_ps(_mm256_set1_ps(88.7f), _mm256_max_ps(lo, x0));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
    const __m256i e = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(_mm256_cmp_ps(x0, lo, _CMP_LT_OQ), y);
}

static float rowmax_avx2(const float *x, int64_t n) {
    __m256 m = _mm256_set1_ps(x[0]);
    int64_t i = 0;
    for (; i + VL <= n; i += VL) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    float buf[VL];
    _mm256_storeu_ps(buf, m);
    float r = buf[0];
    for (int l = 1; l < VL; ++l) r = buf[l] > r ? buf[l] : r;
    for (; i < n; ++i) r = x[i] > r ? x[i] : r;
    return r;
}

static float expsum_avx2(const float *x, float shift, float *y, int64_t n) {
    const __m256 vs = _mm256_set1_ps(shift);
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + VL <= n; i += VL) {
        const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
        acc = _mm256_add_ps(acc, e);
        if (y) _mm256_storeu_ps(y + i, e);
    }
    if (i < n) { /* tail through a zero-padded buffer (never reads past x[n-1]) */
        float buf[VL], out[VL];
        const int64_t k = n - i;
        for (int l = 0; l < VL; ++l) buf[l] = l < k ? x[i + l] : -INFINITY;
        const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(buf), vs));
        _mm256_storeu_ps(out, e);
        for (int l = 0; l < k; ++l) {
            if (y) y[i + l] = out[l];
        }
        float t = 0.f;
        for (int l = 0; l < k; ++l) t += out[l];
        return st_avx2_hsum(acc) + t;
    }
    return st_avx2_hsum(acc);
}

/* Dropout of elements i .. i+nl-1 by the lanes of a Philox word (see philox_simd.h). */
static inline void drop8(const float *x, float *y, uint8_t *keep, int64_t i, int64_t nl,
                         __m256i word, uint32_t t24, float scale) {
    /* word >> 8 < 2^24: a signed compare with t24 - 1 (t24 <= 2^24) is word >> 8 >= t24 */
    const __m256i k = _mm256_cmpgt_epi32(_mm256_srli_epi32(word, 8),
                                         _mm256_set1_epi32((int)t24 - 1));
    const __m256 s = _mm256_and_ps(_mm256_castsi256_ps(k), _mm256_set1_ps(scale));
    __m128i b = _mm_packs_epi32(_mm256_castsi256_si128(k), _mm256_extracti128_si256(k, 1));
    b = _mm_and_si128(_mm_packs_epi16(b, b), _mm_set1_epi8(1)); /* lanes 0-7 as bytes 0/1 */
    if (nl == 8) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), s));
        _mm_storel_epi64((__m128i *)(keep + i), b);
        return;
    }
    float v[8];
    uint8_t kb[16];
    _mm256_storeu_ps(v, _mm256_mul_ps(_mm256_maskload_ps(x + i, st_avx2_lanes(nl)), s));
    _mm_storeu_si128((__m128i *)kb, b);
    for (int64_t l = 0; l < nl; ++l) {
        y[i + l] = v[l];
        keep[i + l] = kb[l];
    }
}

#define PV __m256i
#define PV_N 8
#define PV_MUL_EVEN _mm256_mul_epu32
#define PV_SRL64 _mm256_srli_epi64
#define PV_SLL64 _mm256_slli_epi64
#define PV_BLEND_ODD(a, b) _mm256_blend_epi32((a), (b), 0xAA)
#define PV_XOR _mm256_xor_si256
#define PV_ADD32 _mm256_add_epi32
#define PV_SET1(v) _mm256_set1_epi32((int)(v))
#define PV_LANES _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
#define PV_DROP drop8
#include "philox_simd.h"
#define dropout_run_avx2 philox_dropout_run

const st_eltwise_ops st_eltwise_ops_avx2 = {
    bias_run_avx2, bias_vec_avx2,    relu_bwd_avx2,    rowmax_avx2,
    expsum_avx2,   softmax_bwd_avx2, dropout_run_avx2, dropout_bwd_avx2};
