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

/* A "rows" micro-kernel reads a full MR-row block of A in place (row-major, row stride lda)
 * instead of a packed panel; same contract otherwise, all MR rows valid. */
typedef void (*st_sgemm_ukr_rows_fn)(int64_t kc, const float *a, int64_t lda, const float *b,
                                     float *c, int64_t ldc, int n, float alpha, float beta);

/* A "B in place" micro-kernel reads B row-major (row stride ldb) instead of a packed panel;
 * columns >= n are never read.  Same contract as st_sgemm_ukr_fn otherwise. */
typedef void (*st_sgemm_ukr_bdir_fn)(int64_t kc, const float *a, const float *b, int64_t ldb,
                                     float *c, int64_t ldc, int m, int n, float alpha,
                                     float beta);

/* Pack one micro-panel of R rows (MR rows of op(A), or NR columns of op(B)) and kc steps:
 *     dst[k*R + r] = element (r, k)   for r < n,   0 for n <= r < R,   k < kc
 * where element (r, k) is src[r*ld + k] (row layout: A, or B transposed) or, when kmajor,
 * src[k*ld + r] (A transposed, or B).  Only the n valid rows of src are read. */
typedef void (*st_sgemm_pack_fn)(int kmajor, int64_t kc, int n, int R, const float *src,
                                 int64_t ld, float *dst);

void st_sgemm_pack_generic(int kmajor, int64_t kc, int n, int R, const float *src, int64_t ld,
                           float *dst);
void st_sgemm_pack_avx2(int kmajor, int64_t kc, int n, int R, const float *src, int64_t ld,
                        float *dst);
void st_sgemm_pack_avx512(int kmajor, int64_t kc, int n, int R, const float *src, int64_t ld,
                          float *dst);

/* generic C99 (always built) */
void st_sgemm_ukr_generic_4x8(int64_t kc, const float *a, const float *b, float *c,
                               int64_t ldc, int m, int n, float alpha, float beta);
/* AVX2 + FMA */
void st_sgemm_ukr_avx2_6x16(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                            int m, int n, float alpha, float beta);
void st_sgemm_ukr_avx2_6x16_rows(int64_t kc, const float *a, int64_t lda, const float *b,
                                 float *c, int64_t ldc, int n, float alpha, float beta);
/* [m] (m = 1..5): m x 16 tile from the first m rows of a 6-row panel; [0] unused */
extern const st_sgemm_ukr_fn st_sgemm_ukr_avx2_6x16_edge[6];
/* AVX-512F */
void st_sgemm_ukr_avx512_14x32(int64_t kc, const float *a, const float *b, float *c,
                               int64_t ldc, int m, int n, float alpha, float beta);
void st_sgemm_ukr_avx512_14x32_rows(int64_t kc, const float *a, int64_t lda, const float *b,
                                    float *c, int64_t ldc, int n, float alpha, float beta);
void st_sgemm_ukr_avx512_14x32_bdirect(int64_t kc, const float *a, const float *b,
                                       int64_t ldb, float *c, int64_t ldc, int m, int n,
                                       float alpha, float beta);
extern const st_sgemm_ukr_bdir_fn st_sgemm_ukr_avx512_14x32_bdirect_edge[14]; /* [m], m < 14 */
/* [m] (m = 1..13): m x 32 tile from the first m rows of a 14-row panel; [0] unused */
extern const st_sgemm_ukr_fn st_sgemm_ukr_avx512_14x32_edge[14];
/* narrow products (N <= 16): 12 x 16, one zmm per row */
void st_sgemm_ukr_avx512_12x16(int64_t kc, const float *a, const float *b, float *c,
                               int64_t ldc, int m, int n, float alpha, float beta);
void st_sgemm_ukr_avx512_12x16_rows(int64_t kc, const float *a, int64_t lda, const float *b,
                                    float *c, int64_t ldc, int n, float alpha, float beta);
/* [m] (m = 1..11): m x 16 tile from the first m rows of a 12-row panel; [0] unused */
extern const st_sgemm_ukr_fn st_sgemm_ukr_avx512_12x16_edge[12];

#endif
