/* Internal declarations of the SGEMM micro-kernels and packing routines (not public).
 *
 * A micro-kernel computes one MR x NR tile of C from packed panels:
 *     C[0:m, 0:n] = alpha * (Apanel^T @ Bpanel) + beta * C[0:m, 0:n]
 * where `a` is an A micro-panel stored k-major (kc x MR, a[k*MR + i]) and `b` a B micro-panel
 * (kc x NR, b[k*NR + j]), both zero-padded to the full tile.  m <= MR and n <= NR are the
 * valid rows/columns of the tile: only those elements of C are read or written.  beta == 0
 * never reads C (NaN in C does not propagate). */
#ifndef STRIATE_SGEMM_KERNELS_H
#define STRIATE_SGEMM_KERNELS_H

#include <stdint.h>

typedef void (*st_sgemm_ukr_fn)(int64_t kc, const float *a, const float *b, float *c,
                                int64_t ldc, int m, int n, float alpha, float beta);

/* Pack rows [0, mc) x k [0, kc) of op(A) (pointer already offset to the block's origin) into
 * MR-row micro-panels, zero-padding the last one.  trans: A stored K x M. */
typedef void (*st_sgemm_pack_fn)(int trans, int64_t mc, int64_t kc, const float *A, int64_t lda,
                                 float *dst);

/* generic C99 (always built) */
void st_sgemm_ukr_generic_4x16(int64_t kc, const float *a, const float *b, float *c,
                               int64_t ldc, int m, int n, float alpha, float beta);
/* AVX2 + FMA */
void st_sgemm_ukr_avx2_6x16(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                            int m, int n, float alpha, float beta);
/* AVX-512F */
void st_sgemm_ukr_avx512_14x32(int64_t kc, const float *a, const float *b, float *c,
                               int64_t ldc, int m, int n, float alpha, float beta);
void st_sgemm_ukr_avx512_24x16(int64_t kc, const float *a, const float *b, float *c,
                               int64_t ldc, int m, int n, float alpha, float beta);

#endif
