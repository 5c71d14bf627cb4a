/* The 1-D Winograd F(4x4, 3x3) tile transforms on SIMD registers, one tile per lane, shared
 * by the AVX-512 and AVX2 kernels: the including file defines the vector type WV and the
 * operations WV_ADD, WV_SUB, WV_MUL, WV_FMADD (a * b + c), WV_FNMADD (c - a * b) and
 * WV_SET1 first.  The matrices are those of conv_winograd_impl.h:
 *   BT6  input   B^T (6x6)
 *   AT4  output  A^T (4x6)
 *   A6   dY      A   (6x4), the adjoint of the output transform
 *   G3   kernel  G   (6x3)
 * With WG_SIMD_NAME(f) defined it also defines the row-read input and dY tile transforms
 * (below) from the including file's lane bookkeeping. */
#ifndef STRIATE_CONV_WINOGRAD_SIMD_H
#define STRIATE_CONV_WINOGRAD_SIMD_H

#define BT6(d0, d1, d2, d3, d4, d5, t)                                                       \
    do {                                                                                     \
        const WV s_four = WV_SET1(4.f), s_five = WV_SET1(5.f), s_two = WV_SET1(2.f);         \
        t[0] = WV_ADD(WV_FNMADD(s_five, d2, WV_MUL(s_four, d0)), d4);                        \
        t[1] = WV_FNMADD(s_four, WV_ADD(d1, d2), WV_ADD(d3, d4));                            \
        t[2] = WV_FMADD(s_four, WV_SUB(d1, d2), WV_SUB(d4, d3));                             \
        t[3] = WV_FMADD(s_two, WV_SUB(d3, d1), WV_SUB(d4, d2));                              \
        t[4] = WV_FMADD(s_two, WV_SUB(d1, d3), WV_SUB(d4, d2));                              \
        t[5] = WV_ADD(WV_FNMADD(s_five, d3, WV_MUL(s_four, d1)), d5);                        \
    } while (0)

#define AT4(m0, m1, m2, m3, m4, m5, t)                                                       \
    do {                                                                                     \
        const WV s_a = WV_ADD(m1, m2), s_b = WV_SUB(m1, m2);                                 \
        const WV s_c = WV_ADD(m3, m4), s_e = WV_SUB(m3, m4);                                 \
        t[0] = WV_ADD(WV_ADD(m0, s_a), s_c);                                                 \
        t[1] = WV_FMADD(WV_SET1(2.f), s_e, s_b);                                             \
        t[2] = WV_FMADD(WV_SET1(4.f), s_c, s_a);                                             \
        t[3] = WV_ADD(WV_FMADD(WV_SET1(8.f), s_e, s_b), m5);                                 \
    } while (0)

/* The 16 outputs (A^T m A) + bv of the lanes' tiles into o[4a + c], with LOAD(xi) the lanes'
 * point xi: columns first (t = A^T m), then rows (shared by the output transforms). */
#define AT4_TILES(LOAD, bv, o)                                                               \
    do {                                                                                     \
        WV t_[4][6]; /* t_[a][j] = (A^T m)[a][j] */                                          \
        for (int j_ = 0; j_ < 6; ++j_) {                                                     \
            WV v_[6], r_[4];                                                                 \
            for (int i_ = 0; i_ < 6; ++i_) v_[i_] = LOAD(i_ * 6 + j_);                       \
            AT4(v_[0], v_[1], v_[2], v_[3], v_[4], v_[5], r_);                               \
            for (int a_ = 0; a_ < 4; ++a_) t_[a_][j_] = r_[a_];                              \
        }                                                                                    \
        for (int a_ = 0; a_ < 4; ++a_) {                                                     \
            WV r_[4];                                                                        \
            AT4(t_[a_][0], t_[a_][1], t_[a_][2], t_[a_][3], t_[a_][4], t_[a_][5], r_);       \
            for (int c_ = 0; c_ < 4; ++c_) o[4 * a_ + c_] = WV_ADD(r_[c_], bv);              \
        }                                                                                    \
    } while (0)

#define A6(o0, o1, o2, o3, t)                                                                \
    do {                                                                                     \
        const WV s_ev = WV_ADD(o0, o2), s_od = WV_ADD(o1, o3);                               \
        const WV s_ev4 = WV_FMADD(WV_SET1(4.f), o2, o0);                                     \
        const WV s_od2 = WV_FMADD(WV_SET1(8.f), o3, WV_MUL(WV_SET1(2.f), o1));               \
        t[0] = o0;                                                                           \
        t[1] = WV_ADD(s_ev, s_od);                                                           \
        t[2] = WV_SUB(s_ev, s_od);                                                           \
        t[3] = WV_ADD(s_ev4, s_od2);                                                         \
        t[4] = WV_SUB(s_ev4, s_od2);                                                         \
        t[5] = o3;                                                                           \
    } while (0)

#define G3(g0, g1, g2, t)                                                                    \
    do {                                                                                     \
        const WV s_e = WV_MUL(WV_ADD(g0, g2), WV_SET1(-1.f / 6.f));                          \
        const WV s_f = WV_FMADD(g0, WV_SET1(1.f / 24.f), WV_MUL(g2, WV_SET1(1.f / 6.f)));    \
        const WV s_g6 = WV_MUL(g1, WV_SET1(1.f / 6.f));                                      \
        const WV s_g12 = WV_MUL(g1, WV_SET1(1.f / 12.f));                                    \
        t[0] = WV_MUL(g0, WV_SET1(0.25f));                                                   \
        t[1] = WV_SUB(s_e, s_g6);                                                            \
        t[2] = WV_ADD(s_e, s_g6);                                                            \
        t[3] = WV_ADD(s_f, s_g12);                                                           \
        t[4] = WV_SUB(s_f, s_g12);                                                           \
        t[5] = g2;                                                                           \
    } while (0)

#endif

#ifdef WG_SIMD_NAME
/* The including file provides, for passes of WG_VL tiles (one per lane): the type wg_rows
 * and wg_rows_init(g, b, width, R), which sets up the reads of tiles b .. b+WG_VL-1 and
 * returns how many are real; wg_load_row(x, R, i, W, width, d), which loads row i of the
 * lanes' tiles transposed (d[j] lane l = element j of tile l's row); and wg_store(p, nl, v),
 * which stores the first nl lanes, or, with WG_BLOCK > WG_VL, wg_store_block(p, v), an
 * aligned store of all lanes into the local block. */

/* WG_BLOCK (default WG_VL): tiles whose transformed points are written out together.  With
 * more tiles than lanes (AVX2: 16 = one cache line of each point, 8 lanes), the passes fill a
 * local block and each point's line is then written whole, once: passes writing half lines
 * at a point stride that is a multiple of 4 KiB (all 36 lines in one L1 set) would read
 * every line for ownership twice. */
#ifndef WG_BLOCK
#define WG_BLOCK WG_VL
#endif

/* Store r (the lanes of tiles b .. b+nl-1, b - b0 into the block) at point xi. */
static inline void WG_SIMD_NAME(wg_put)(float *restrict out, int64_t ps, float *restrict blk,
                                        int64_t b, int64_t b0, int64_t nl, int xi, WV r) {
#if WG_BLOCK > WG_VL
    (void)out, (void)ps, (void)nl, (void)b;
    wg_store_block(blk + xi * WG_BLOCK + (b - b0), r);
#else
    (void)blk, (void)b0;
    wg_store(out + xi * ps + b, nl, r);
#endif
}

/* Write the block of tiles b0 .. b0+n-1 to dst[xi * ps + t] (WG_BLOCK > WG_VL only). */
static inline void WG_SIMD_NAME(wg_flush)(float *restrict dst, int64_t ps,
                                          const float *restrict blk, int64_t b0, int64_t n) {
#if WG_BLOCK > WG_VL
    for (int xi = 0; xi < 36; ++xi) {
        float *o = dst + xi * ps + b0;
        const float *q = blk + xi * WG_BLOCK;
        if (n == WG_BLOCK)
            for (int l = 0; l < WG_BLOCK; ++l) o[l] = q[l];
        else
            for (int64_t l = 0; l < n; ++l) o[l] = q[l];
    }
#else
    (void)dst, (void)ps, (void)blk, (void)b0, (void)n;
#endif
}

/* Tiles of the planes x transformed to dst[xi * ps + t], rows first, then columns: the
 * input's B^T d B (dy = 0, 6 x 6 tiles) or, for the weight gradient, dY's A o A^T (dy = 1,
 * 4 x 4 tiles).  Inlined with dy constant. */
static inline __attribute__((always_inline)) void WG_SIMD_NAME(wg_tiles)(
    const float *restrict x, const wg_planes *g, float *restrict dst, int64_t ps, const int dy) {
    const int width = dy ? 4 : 6;
    const int64_t nt = g->nimg * g->tH * g->tW;
    _Alignas(64) float blk[WG_BLOCK > WG_VL ? 36 * WG_BLOCK : 1];
    for (int64_t b0 = 0; b0 < nt; b0 += WG_BLOCK) {
        const int64_t nb = nt - b0 < WG_BLOCK ? nt - b0 : WG_BLOCK;
        for (int64_t b = b0; b < b0 + nb; b += WG_VL) {
            wg_rows R;
            const int64_t nl = wg_rows_init(g, b, width, &R);
            WV h[6][6]; /* h[i][c] = (d B)[i][c] (input) or (o A^T)[i][c] (dY) */
            for (int i = 0; i < width; ++i) {
                WV d[8];
                wg_load_row(x, &R, i, g->W, width, d);
                if (dy)
                    A6(d[0], d[1], d[2], d[3], h[i]);
                else
                    BT6(d[0], d[1], d[2], d[3], d[4], d[5], h[i]);
            }
            for (int c = 0; c < 6; ++c) {
                WV r[6];
                if (dy)
                    A6(h[0][c], h[1][c], h[2][c], h[3][c], r);
                else
                    BT6(h[0][c], h[1][c], h[2][c], h[3][c], h[4][c], h[5][c], r);
                for (int k = 0; k < 6; ++k)
                    WG_SIMD_NAME(wg_put)(dst, ps, blk, b, b0, nl, k * 6 + c, r[k]);
            }
        }
        WG_SIMD_NAME(wg_flush)(dst, ps, blk, b0, nb);
    }
}

/* Input tiles (B^T d B) of the planes x: dst[xi * ps + t]. */
void WG_SIMD_NAME(st_wino_input)(const float *restrict x, const wg_planes *g,
                                 float *restrict dst, int64_t ps) {
    WG_SIMD_NAME(wg_tiles)(x, g, dst, ps, 0);
}

/* dY tiles (A o A^T) of the planes dy for the weight gradient: dst[xi * ps + t]. */
void WG_SIMD_NAME(st_wino_dy)(const float *restrict dy, const wg_planes *g,
                              float *restrict dst, int64_t ps) {
    WG_SIMD_NAME(wg_tiles)(dy, g, dst, ps, 1);
}
#endif
