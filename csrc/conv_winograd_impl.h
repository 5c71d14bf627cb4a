/* Winograd F(4x4, 3x3) tile transforms (Lavin & Gray 2016), 16 tiles per pass in lanes.
 *
 * Plain C written lane-wise so that the compiler vectorises each pass across the 16 tiles;
 * included once per ISA with WG_NAME(f) naming the build (conv_winograd.c: generic,
 * conv_avx2_winograd.c, conv_avx512_winograd.c).  The driver is in conv_winograd.c.
 *
 * The three 1-D transforms (and their use in 2-D as X^T d X):
 *   input   B^T (6x6):  t = B^T d
 *   output  A^T (4x6):  o = A^T m
 *   dY      A   (6x4):  m = A o          (the adjoint of the output transform, for dW)
 * The tile functions take one channel of a chunk of images (wg_planes): tile (ti, tj) of
 * image n reads input rows 4ti - pt .. 4ti - pt + 5 and columns 4tj - pl .. 4tj - pl + 5
 * (zero outside the plane) and writes output rows/columns 4ti .. 4ti + 3 / 4tj .. 4tj + 3
 * (those inside the plane).  The tiles are numbered t = (n * tH + ti) * tW + tj, and
 * transformed tiles are stored point-major: point xi (0..35) of tile t at dst[xi * ps + t]. */
#include <stdint.h>

#ifndef STRIATE_WG_PLANES
#define STRIATE_WG_PLANES
#define WG_L 16
/* one channel of a chunk of images: nimg planes of H x W floats, img_stride apart; the
 * padding (pt, pl) of the input side; tH x tW tiles per image */
typedef struct {
    int64_t nimg, H, W, img_stride, pt, pl, tH, tW;
} wg_planes;
#endif

/* Lane geometry of tiles b .. b+WG_L-1: image offset, first row and first column (before
 * subtracting the padding); lanes past the last tile repeat tile b.  Returns the number of
 * real tiles. */
static inline int64_t WG_NAME(wg_lanes)(const wg_planes *g, int64_t b, int64_t *base,
                                        int64_t *row, int64_t *col) {
    const int64_t per = g->tH * g->tW, nt = g->nimg * per;
    const int64_t nl = nt - b < WG_L ? nt - b : WG_L;
    int64_t n = b / per, ti = (b % per) / g->tW, tj = b % g->tW;
    for (int l = 0; l < WG_L; ++l) {
        base[l] = n * g->img_stride;
        row[l] = 4 * ti;
        col[l] = 4 * tj;
        if (l + 1 < nl && ++tj == g->tW) {
            tj = 0;
            if (++ti == g->tH) {
                ti = 0;
                ++n;
            }
        }
    }
    return nl;
}

/* dst[xi * ps + l] = buf[xi * WG_L + l] for the 36 points and the nl real lanes */
static inline void WG_NAME(wg_store36)(float *restrict dst, int64_t ps,
                                       const float *restrict buf, int64_t nl) {
    for (int xi = 0; xi < 36; ++xi)
        for (int64_t l = 0; l < nl; ++l) dst[xi * ps + l] = buf[xi * WG_L + l];
}

/* B^T applied to 6 lanes-vectors s[0..5] (stride ss), result into t[0..5] (stride ts) */
#define WG_BT(s, ss, t, ts)                                                                  \
    for (int l = 0; l < WG_L; ++l) {                                                         \
        const float d0 = s[0 * ss + l], d1 = s[1 * ss + l], d2 = s[2 * ss + l];              \
        const float d3 = s[3 * ss + l], d4 = s[4 * ss + l], d5 = s[5 * ss + l];              \
        t[0 * ts + l] = 4.f * d0 - 5.f * d2 + d4;                                            \
        t[1 * ts + l] = -4.f * (d1 + d2) + d3 + d4;                                          \
        t[2 * ts + l] = 4.f * (d1 - d2) - d3 + d4;                                           \
        t[3 * ts + l] = 2.f * (d3 - d1) - d2 + d4;                                           \
        t[4 * ts + l] = 2.f * (d1 - d3) - d2 + d4;                                           \
        t[5 * ts + l] = 4.f * d1 - 5.f * d3 + d5;                                            \
    }

/* A^T: 6 -> 4 */
#define WG_AT(s, ss, t, ts)                                                                  \
    for (int l = 0; l < WG_L; ++l) {                                                         \
        const float m0 = s[0 * ss + l], m1 = s[1 * ss + l], m2 = s[2 * ss + l];              \
        const float m3 = s[3 * ss + l], m4 = s[4 * ss + l], m5 = s[5 * ss + l];              \
        const float a = m1 + m2, b = m1 - m2, c = m3 + m4, e = m3 - m4;                      \
        t[0 * ts + l] = m0 + a + c;                                                          \
        t[1 * ts + l] = b + 2.f * e;                                                         \
        t[2 * ts + l] = a + 4.f * c;                                                         \
        t[3 * ts + l] = b + 8.f * e + m5;                                                    \
    }

/* A: 4 -> 6 */
#define WG_A(s, ss, t, ts)                                                                   \
    for (int l = 0; l < WG_L; ++l) {                                                         \
        const float o0 = s[0 * ss + l], o1 = s[1 * ss + l], o2 = s[2 * ss + l];              \
        const float o3 = s[3 * ss + l];                                                      \
        const float ev = o0 + o2, od = o1 + o3, ev4 = o0 + 4.f * o2, od2 = 2.f * o1 + 8.f * o3; \
        t[0 * ts + l] = o0;                                                                  \
        t[1 * ts + l] = ev + od;                                                             \
        t[2 * ts + l] = ev - od;                                                             \
        t[3 * ts + l] = ev4 + od2;                                                           \
        t[4 * ts + l] = ev4 - od2;                                                           \
        t[5 * ts + l] = o3;                                                                  \
    }

/* Input tiles (B^T d B) of the planes x: dst[xi * ps + t]. */
void WG_NAME(st_wino_input)(const float *restrict x, const wg_planes *g, float *restrict dst,
                            int64_t ps) {
    const int64_t nt = g->nimg * g->tH * g->tW;
    int64_t base[WG_L], row[WG_L], col[WG_L];
    float d[36 * WG_L], t[36 * WG_L];
    for (int64_t b = 0; b < nt; b += WG_L) {
        const int64_t nl = WG_NAME(wg_lanes)(g, b, base, row, col);
        for (int i = 0; i < 6; ++i)
            for (int j = 0; j < 6; ++j)
                for (int l = 0; l < WG_L; ++l) {
                    const int64_t r = row[l] - g->pt + i, c = col[l] - g->pl + j;
                    d[(i * 6 + j) * WG_L + l] = (r >= 0 && r < g->H && c >= 0 && c < g->W)
                                                    ? x[base[l] + r * g->W + c]
                                                    : 0.f;
                }
        for (int j = 0; j < 6; ++j) { /* columns: t[:, j] = B^T d[:, j] */
            const float *s = d + j * WG_L;
            float *o = t + j * WG_L;
            WG_BT(s, 6 * WG_L, o, 6 * WG_L)
        }
        for (int i = 0; i < 6; ++i) { /* rows: d[i, :] = t[i, :] B */
            const float *s = t + i * 6 * WG_L;
            float *o = d + i * 6 * WG_L;
            WG_BT(s, WG_L, o, WG_L)
        }
        WG_NAME(wg_store36)(dst + b, ps, d, nl);
    }
}

/* Output tiles: the 4x4 block of tile t of the planes y is (A^T m A) + bias, with m read
 * from src[xi * ps + t]; outputs outside the planes are dropped. */
void WG_NAME(st_wino_output)(const float *restrict src, int64_t ps, const wg_planes *g,
                             float bias, float *restrict y) {
    const int64_t nt = g->nimg * g->tH * g->tW;
    int64_t base[WG_L], row[WG_L], col[WG_L];
    float m[36 * WG_L], t[24 * WG_L], o[16 * WG_L];
    for (int64_t b = 0; b < nt; b += WG_L) {
        const int64_t nl = WG_NAME(wg_lanes)(g, b, base, row, col);
        const float *in = src + b;
        for (int xi = 0; xi < 36; ++xi)
            for (int l = 0; l < WG_L; ++l) m[xi * WG_L + l] = l < nl ? in[xi * ps + l] : 0.f;
        for (int j = 0; j < 6; ++j) { /* t[a, j] = sum_i A^T[a, i] m[i, j] */
            const float *s = m + j * WG_L;
            float *r = t + j * WG_L;
            WG_AT(s, 6 * WG_L, r, 6 * WG_L)
        }
        for (int a = 0; a < 4; ++a) { /* o[a, c] = sum_j t[a, j] A^T[c, j] */
            const float *s = t + a * 6 * WG_L;
            float *r = o + a * 4 * WG_L;
            WG_AT(s, WG_L, r, WG_L)
        }
        for (int64_t l = 0; l < nl; ++l)
            for (int a = 0; a < 4 && row[l] + a < g->H; ++a)
                for (int c = 0; c < 4 && col[l] + c < g->W; ++c)
                    y[base[l] + (row[l] + a) * g->W + col[l] + c] = o[(a * 4 + c) * WG_L + l] +
                                                                     bias;
    }
}

/* dY tiles for the weight gradient: dst[xi * ps + t] = (A o A^T)[xi] with o the 4x4 tile t
 * of the planes dy (zero outside them). */
void WG_NAME(st_wino_dy)(const float *restrict dy, const wg_planes *g, float *restrict dst,
                         int64_t ps) {
    const int64_t nt = g->nimg * g->tH * g->tW;
    int64_t base[WG_L], row[WG_L], col[WG_L];
    float o[16 * WG_L], t[24 * WG_L], m[36 * WG_L];
    for (int64_t b = 0; b < nt; b += WG_L) {
        const int64_t nl = WG_NAME(wg_lanes)(g, b, base, row, col);
        for (int a = 0; a < 4; ++a)
            for (int c = 0; c < 4; ++c)
                for (int l = 0; l < WG_L; ++l) {
                    const int64_t r = row[l] + a, q = col[l] + c;
                    o[(a * 4 + c) * WG_L + l] =
                        (r < g->H && q < g->W) ? dy[base[l] + r * g->W + q] : 0.f;
                }
        for (int c = 0; c < 4; ++c) { /* t[i, c] = sum_a A[i, a] o[a, c] */
            const float *s = o + c * WG_L;
            float *r = t + c * WG_L;
            WG_A(s, 4 * WG_L, r, 4 * WG_L)
        }
        for (int i = 0; i < 6; ++i) { /* m[i, j] = sum_c t[i, c] A[j, c] */
            const float *s = t + i * 4 * WG_L;
            float *r = m + i * 6 * WG_L;
            WG_A(s, WG_L, r, WG_L)
        }
        WG_NAME(wg_store36)(dst + b, ps, m, nl);
    }
}

/* G g G^T (6x3 by 3x3 by 3x6) applied lane-wise */
#define WG_G(s0, s1, s2, t, ts)                                                              \
    for (int l = 0; l < WG_L; ++l) {                                                         \
        const float g0 = s0[l], g1 = s1[l], g2 = s2[l];                                      \
        const float e = (g0 + g2) * (-1.f / 6.f), f = g0 * (1.f / 24.f) + g2 * (1.f / 6.f);  \
        t[0 * ts + l] = g0 * 0.25f;                                                          \
        t[1 * ts + l] = e - g1 * (1.f / 6.f);                                                \
        t[2 * ts + l] = e + g1 * (1.f / 6.f);                                                \
        t[3 * ts + l] = f + g1 * (1.f / 12.f);                                               \
        t[4 * ts + l] = f - g1 * (1.f / 12.f);                                               \
        t[5 * ts + l] = g2;                                                                  \
    }

/* Transformed kernels of output channel o: U[xi * uxi + i] = (G g G^T)[xi] for the Ci
 * kernels g = w[(o * Ci + i) * 9 ...] (istride = 9, ostride = Ci * 9: forward) or, rotated by
 * 180 degrees (flip), g = w[(i * Co + o) * 9 ...] (backward-data). */
void WG_NAME(st_wino_weights)(const float *restrict w, int64_t o, int64_t Co, int64_t Ci,
                              int flip, float *restrict U, int64_t uxi) {
    float g[9 * WG_L], t[18 * WG_L], u[36 * WG_L];
    for (int64_t i0 = 0; i0 < Ci; i0 += WG_L) {
        const int64_t nl = Ci - i0 < WG_L ? Ci - i0 : WG_L;
        for (int l = 0; l < WG_L; ++l) {
            const int64_t i = i0 + (l < nl ? l : 0);
            const float *src = flip ? w + (i * Co + o) * 9 : w + (o * Ci + i) * 9;
            for (int k = 0; k < 9; ++k) g[k * WG_L + l] = src[flip ? 8 - k : k];
        }
        for (int c = 0; c < 3; ++c) { /* t[:, c] = G g[:, c] */
            const float *s0 = g + c * WG_L, *s1 = g + (3 + c) * WG_L, *s2 = g + (6 + c) * WG_L;
            float *r = t + c * WG_L;
            WG_G(s0, s1, s2, r, 3 * WG_L)
        }
        for (int r = 0; r < 6; ++r) { /* u[r, :] = t[r, :] G^T */
            const float *s0 = t + 3 * r * WG_L, *s1 = s0 + WG_L, *s2 = s0 + 2 * WG_L;
            float *q = u + 6 * r * WG_L;
            WG_G(s0, s1, s2, q, WG_L)
        }
        for (int xi = 0; xi < 36; ++xi)
            for (int64_t l = 0; l < nl; ++l) U[xi * uxi + i0 + l] = u[xi * WG_L + l];
    }
}

/* G^T applied lane-wise: 6 -> 3 (the adjoint of G, for the weight gradient) */
#define WG_GT(s, ss, t, ts)                                                                  \
    for (int l = 0; l < WG_L; ++l) {                                                         \
        const float u0 = s[0 * ss + l], u1 = s[1 * ss + l], u2 = s[2 * ss + l];              \
        const float u3 = s[3 * ss + l], u4 = s[4 * ss + l], u5 = s[5 * ss + l];              \
        t[0 * ts + l] = u0 * 0.25f - (u1 + u2) * (1.f / 6.f) + (u3 + u4) * (1.f / 24.f);     \
        t[1 * ts + l] = (u2 - u1) * (1.f / 6.f) + (u3 - u4) * (1.f / 12.f);                  \
        t[2 * ts + l] = (u3 + u4 - u1 - u2) * (1.f / 6.f) + u5;                              \
    }

/* Kernel gradients from the accumulated Winograd-domain products: for the n kernels
 * u0 .. u0+n-1, dw[u * 9 + 3r + c] = (G^T dU G)[r][c] with dU[xi] at dU[xi * ps + u]. */
void WG_NAME(st_wino_dw)(const float *restrict dU, int64_t ps, int64_t u0, int64_t n,
                         float *restrict dw) {
    float m[36 * WG_L], t[18 * WG_L], o[9 * WG_L];
    for (int64_t b = 0; b < n; b += WG_L) {
        const int64_t nl = n - b < WG_L ? n - b : WG_L;
        const float *in = dU + u0 + b;
        for (int xi = 0; xi < 36; ++xi)
            for (int l = 0; l < WG_L; ++l) m[xi * WG_L + l] = l < nl ? in[xi * ps + l] : 0.f;
        for (int j = 0; j < 6; ++j) { /* t[r, j] = sum_i G^T[r, i] m[i, j] */
            const float *s = m + j * WG_L;
            float *r = t + j * WG_L;
            WG_GT(s, 6 * WG_L, r, 6 * WG_L)
        }
        for (int r = 0; r < 3; ++r) { /* o[r, c] = sum_j t[r, j] G[j, c] */
            const float *s = t + 6 * r * WG_L;
            float *q = o + 3 * r * WG_L;
            WG_GT(s, WG_L, q, WG_L)
        }
        float *out = dw + (u0 + b) * 9;
        for (int64_t l = 0; l < nl; ++l)
            for (int k = 0; k < 9; ++k) out[l * 9 + k] = o[k * WG_L + l];
    }
}
