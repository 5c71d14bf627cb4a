/* Internal helpers shared by the files compiled with AVX-512 flags (not shipped as API). */
#ifndef STRIATE_SIMD_AVX512_H
#define STRIATE_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

/* Lanes [0, len) of a 16-lane mask set, len clamped to [0, 16]. */
static inline __mmask16 st_avx512_lanes(int64_t len) {
    return len >= 16 ? (__mmask16)0xFFFF
           : len <= 0 ? (__mmask16)0
                      : (__mmask16)((1u << len) - 1u);
}

#endif
