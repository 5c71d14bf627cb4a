/* Internal helpers shared by the files compiled with AVX2 flags (not shipped as API). */
#ifndef STRIATE_SIMD_AVX2_H
#define STRIATE_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>

/* Lanes [0, r) of a vmaskmov mask set, r clamped to [0, 8]. */
static inline __m256i st_avx2_lanes(int64_t r) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    r = r < 0 ? 0 : r > 8 ? 8 : r;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), idx);
}

/* The sum of the 8 lanes: halves, then pairs, then the last two. */
static inline float st_avx2_hsum(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

#endif
