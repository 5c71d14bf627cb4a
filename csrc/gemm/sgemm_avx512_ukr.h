/* Body of an AVX-512 SGEMM micro-kernel, instantiated by sgemm_avx512_<MR>x<NR>*.c with
 * UKR_MR (rows), UKR_NV (16-float vectors per row, NR = 16 * UKR_NV) and UKR_NAME defined.
 * Optional:
 *   UKR_LINKAGE  e.g. static
 *   UKR_AS       row stride of the packed A panel when it differs from UKR_MR (edge kernels
 *                computing only the first UKR_MR rows of a wider panel)
 *   UKR_BLD      read B in place (row-major, row stride ldb: an extra argument after b) instead
 *                of from a packed panel; columns >= n are masked off, so never read
 * Include only from files compiled with AVX-512 flags; the macros are undefined at the end.
 *
 * The accumulators live in registers (MR * NV <= 28 zmm); the k loop loads NV vectors of B and
 * broadcasts one A element per row.  Partial tiles use masked loads and stores on the columns
 * and skip invalid rows, so no byte outside C's valid tile is touched. */
#include <immintrin.h>
#include <stdint.h>

#ifndef UKR_AS
#define UKR_AS UKR_MR
#endif
#ifndef UKR_LINKAGE
#define UKR_LINKAGE
#endif
#ifndef UKR_PF_ROWS
#define UKR_PF_ROWS 64 /* in-place B: rows fetched ahead (the stride defeats the prefetchers) */
#endif

#ifdef UKR_BLD
UKR_LINKAGE void UKR_NAME(int64_t kc, const float *restrict a, const float *restrict b,
                          int64_t ldb, float *restrict c, int64_t ldc, int m, int n, float alpha,
                          float beta) {
#else
UKR_LINKAGE void UKR_NAME(int64_t kc, const float *restrict a, const float *restrict b,
                          float *restrict c, int64_t ldc, int m, int n, float alpha,
                          float beta) {
#endif
    __m512 acc[UKR_MR][UKR_NV];
    __mmask16 mask[UKR_NV];
#pragma GCC unroll 4
    for (int v = 0; v < UKR_NV; ++v) {
        int r = n - 16 * v;
        mask[v] = r >= 16 ? (__mmask16)0xffff : r <= 0 ? (__mmask16)0 : (__mmask16)((1u << r) - 1u);
    }
    /* the C tile is needed only after the k loop: start fetching it now */
#pragma GCC unroll 32
    for (int i = 0; i < UKR_MR; ++i) {
        if (i >= m) break;
        _mm_prefetch((const char *)(c + (int64_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (int64_t)i * ldc + 16 * UKR_NV - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 32
    for (int i = 0; i < UKR_MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < UKR_NV; ++v) acc[i][v] = _mm512_setzero_ps();

    /* One k step: the NV vectors of B's row k (LOAD(v)), then MR broadcasts of A times them. */
#define UKR_KSTEP(LOAD, B_STEP, PF_B)                                                         \
    do {                                                                                     \
        __m512 bv[UKR_NV];                                                                   \
        _Pragma("GCC unroll 4") for (int v = 0; v < UKR_NV; ++v) bv[v] = LOAD(v);           \
        PF_B;                                                                                \
        b += (B_STEP);                                                                       \
        _mm_prefetch((const char *)(a + 8 * UKR_AS), _MM_HINT_T0);                           \
        _Pragma("GCC unroll 32") for (int i = 0; i < UKR_MR; ++i) {                          \
            __m512 av = _mm512_set1_ps(a[i]);                                                \
            _Pragma("GCC unroll 4") for (int v = 0; v < UKR_NV; ++v)                         \
                acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);                           \
        }                                                                                    \
        a += UKR_AS;                                                                         \
    } while (0)
#ifdef UKR_BLD
    /* every line of the row piece UKR_PF_ROWS ahead (3 lines when rows are unaligned) */
#define UKR_PF_B                                                                             \
    do {                                                                                     \
        _Pragma("GCC unroll 4") for (int v = 0; v < UKR_NV; ++v)                             \
            _mm_prefetch((const char *)(b + UKR_PF_ROWS * ldb + 16 * v), _MM_HINT_T0);       \
        _mm_prefetch((const char *)(b + UKR_PF_ROWS * ldb + 16 * UKR_NV - 1), _MM_HINT_T0);  \
    } while (0)
#define UKR_LOAD_FULL(v) _mm512_loadu_ps(b + 16 * (v))
#define UKR_LOAD_MASKED(v) _mm512_maskz_loadu_ps(mask[v], b + 16 * (v))
    /* a full panel takes plain loads: masked ones in this loop measured 5-7% slower */
    if (n >= 16 * UKR_NV)
        for (int64_t k = 0; k < kc; ++k) UKR_KSTEP(UKR_LOAD_FULL, ldb, UKR_PF_B);
    else
        for (int64_t k = 0; k < kc; ++k) UKR_KSTEP(UKR_LOAD_MASKED, ldb, UKR_PF_B);
#undef UKR_PF_B
#undef UKR_LOAD_FULL
#undef UKR_LOAD_MASKED
#else
#define UKR_LOAD_PACKED(v) _mm512_load_ps(b + 16 * (v))
    for (int64_t k = 0; k < kc; ++k) UKR_KSTEP(UKR_LOAD_PACKED, 16 * UKR_NV, (void)0);
#undef UKR_LOAD_PACKED
#endif
#undef UKR_KSTEP

    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    if (beta == 0.f) {
#pragma GCC unroll 32
        for (int i = 0; i < UKR_MR; ++i) {
            if (i >= m) break;
            float *cr = c + (int64_t)i * ldc;
#pragma GCC unroll 4
            for (int v = 0; v < UKR_NV; ++v)
                _mm512_mask_storeu_ps(cr + 16 * v, mask[v], _mm512_mul_ps(acc[i][v], va));
        }
    } else {
#pragma GCC unroll 32
        for (int i = 0; i < UKR_MR; ++i) {
            if (i >= m) break;
            float *cr = c + (int64_t)i * ldc;
#pragma GCC unroll 4
            for (int v = 0; v < UKR_NV; ++v) {
                __m512 old = _mm512_maskz_loadu_ps(mask[v], cr + 16 * v);
                _mm512_mask_storeu_ps(cr + 16 * v, mask[v],
                                      _mm512_fmadd_ps(vb, old, _mm512_mul_ps(acc[i][v], va)));
            }
        }
    }
}

#undef UKR_MR
#undef UKR_NV
#undef UKR_AS
#undef UKR_NAME
#undef UKR_LINKAGE
#undef UKR_BLD
