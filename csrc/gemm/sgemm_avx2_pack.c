/* AVX2 packing of SGEMM micro-panels (see st_sgemm_pack_fn in sgemm_kernels.h).
 *
 * Row layout (element (r, k) at src[r*ld + k]) is transposed 8 x 8 at a time in registers;
 * k-major layout (src[k*ld + r]) is a masked copy.  vmaskmov loads never touch masked-out
 * lanes, so rows >= n and k >= kc are not read.  A panel narrower than 8 (R = 6) is written
 * with full 8-lane stores in increasing order, each overwriting the previous one's spill, and
 * a masked store (slow on AMD, so only once per panel) for its very last row. */
#include <immintrin.h>

#include "../simd_avx2.h"
#include "sgemm_kernels.h"

/* On return w[j] holds column j of the 8 x 8 block r[0..7]. */
static inline void transpose8(const __m256 r[8], __m256 w[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4h + c]: lane L holds rows 4h..4h+3 of column 4L + c */
    for (int h = 0; h < 2; ++h) {
        u[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
        u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
        u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
        u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {
        w[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        w[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

void st_sgemm_pack_avx2(int kmajor, int64_t kc, int n, int R, const float *src, int64_t ld,
                        float *dst) {
    if (kmajor) {
        for (int64_t k = 0; k < kc; ++k) {
            const float *s = src + k * ld;
            float *d = dst + k * R;
            /* one short piece per row: fetch rows ahead explicitly (large stride) */
            if (k + 8 < kc) {
                _mm_prefetch((const char *)(s + 8 * ld), _MM_HINT_T0);
                _mm_prefetch((const char *)(s + 8 * ld + n - 1), _MM_HINT_T0);
            }
            for (int rb = 0; rb < R; rb += 8) {
                __m256 v = rb + 8 <= n ? _mm256_loadu_ps(s + rb)
                                       : _mm256_maskload_ps(s + rb, st_avx2_lanes(n - rb));
                if (rb + 8 <= R || k + 1 < kc)
                    _mm256_storeu_ps(d + rb, v);
                else
                    _mm256_maskstore_ps(d + rb, st_avx2_lanes(R - rb), v);
            }
        }
        return;
    }
    for (int rb = 0; rb < R; rb += 8) {
        const int nv = n - rb; /* valid rows in this group of 8 */
        const int full_store = rb + 8 <= R;
        const __m256i smask = st_avx2_lanes(R - rb);
        for (int64_t k0 = 0; k0 < kc; k0 += 8) {
            const int64_t kv = kc - k0 < 8 ? kc - k0 : 8;
            const __m256i kmask = st_avx2_lanes(kv);
            __m256 r[8], w[8];
#pragma GCC unroll 8
            for (int i = 0; i < 8; ++i) {
                const float *s = src + (int64_t)(rb + i) * ld + k0;
                r[i] = i >= nv ? _mm256_setzero_ps()
                               : kv == 8 ? _mm256_loadu_ps(s) : _mm256_maskload_ps(s, kmask);
            }
            transpose8(r, w);
            float *d = dst + k0 * R + rb;
            if (full_store || (R <= 8 && k0 + kv < kc)) {
                for (int j = 0; j < kv; ++j) _mm256_storeu_ps(d + j * R, w[j]);
            } else if (R <= 8) { /* one group: spills land on rows written next */
                for (int j = 0; j + 1 < kv; ++j) _mm256_storeu_ps(d + j * R, w[j]);
                _mm256_maskstore_ps(d + (kv - 1) * R, smask, w[kv - 1]);
            } else { /* later rows were already written by earlier groups */
                for (int j = 0; j < kv; ++j) _mm256_maskstore_ps(d + j * R, smask, w[j]);
            }
        }
    }
}
