/* Direct stride-1 convolution of one output plane for kernels of R = 3, 5 or 7 rows, a few
 * rows at a time (conv.c, rowdirect_run), written once and compiled per ISA:
 * csrc/conv_avx512_direct.c and csrc/conv_avx2_direct.c define the macros below and include
 * this file.
 *
 *   out[h * W + w] = bias + sum_{c < Cn} sum_{s < S} sum_{r < R} wp[(c * R + r) * S + s]
 *                                * in[c * cstride + (h + r0 + r) * Win + w + coff[s]]
 *
 * for rows h in [h0, h1) and columns w < W, the input read as zero outside its Hin x Win
 * plane, summed in that order.  The forward has r0 = -pad_t, coff[s] = s*dil_w - pad_l;
 * backward-data reads dy with the kernel rows flipped (r0 = pad_t - (R - 1)), coff[s] =
 * pad_l - s*dil_w, and the weights transposed.
 *
 * For layers with few outputs per group (a first layer's input gradient, a 3-channel output):
 * RB rows x VB vectors of accumulators stay in registers while the sum runs over the input
 * channels and kernel columns; each input row vector is one masked load straight from the
 * plane (no im2col matrix, no shifted copies) feeding the R output rows it touches, its lanes
 * outside the plane read as zero and touch no memory.  Row blocks whose every input row lies
 * inside the plane run without row checks.  One output is summed in one order whatever the
 * blocking, so results do not depend on the thread count.
 *
 * A row block reads Cn planes at once, too many streams for the hardware prefetcher when the
 * input comes from memory: `next` (or NULL) is where the caller's next call reads, next_len
 * floats of each of its Cn planes (stride cstride), fetched in even pieces meanwhile.
 *
 * RD_WNAME is the weight gradient of one (output, input) channel pair of such a layer:
 *
 *   dw[r * 3 + s] = sum_{n < N} sum_{h < Ho, w < Wo} dy[n * dstride + h * Wo + w]
 *                                 * x[n * xstride + (h + r0 + r) * Win + w + coff[s]]
 *
 * 9 x VB vectors of partial sums in registers, an input row vector loaded once per kernel
 * column and multiplied with the 3 dy rows it meets, summed over the lanes in order at the
 * end (one pair, one thread, one order).
 *
 * The includer defines: RD_NAME, RD_WNAME (functions), RD_VL (lanes), RD_VEC, RD_MASK_T,
 * RD_MASK(a, b) (lanes [a, b) set, clamped to [0, RD_VL)), RD_LOADM(p, m) (masked load, other
 * lanes 0), RD_STOREM(p, m, v), RD_SET1(x), RD_FMA(a, b, c) (a * b + c), RD_STOREU(p, v),
 * RD_RB(VB, R) (block rows for VB vectors and R kernel rows), RD_VB_CAP(R) (the most vectors
 * per column block), and for RD_WNAME RD_WVB (vectors per
 * column block, 1 or 2) and RD_WRB1 / RD_WRB2 (rows of a block of 1 / 2 vectors). */
#include <stdint.h>

#define RD_MAX_S 64 /* conv.c sends no wider kernels */
#define RD_MAX_VB 4
#define RD_MAX_R 7
#define RD_MAX_RB 16
#define RD_CAT_(a, b) a##b
#define RD_CAT(a, b) RD_CAT_(a, b)
#define RD_BLOCK RD_CAT(RD_NAME, _block)
#define RD_ROWS RD_CAT(RD_NAME, _rows)
#define RD_HEIGHT RD_CAT(RD_NAME, _height)
#define RD_WROWS RD_CAT(RD_WNAME, _rows)

/* RB output rows x VB vectors from column w0, rows [h, h + nr) stored; check: rows may fall
 * outside the input plane or the block is short (nr < RB).  Input channel c also fetches
 * pf[c * cstride + o], o < min(pfl, pfn). */
static inline __attribute__((always_inline)) void RD_BLOCK(
    const float *restrict in, int64_t Hin, int64_t Win, int64_t cstride, int64_t Cn,
    const float *restrict wp, int64_t S, int64_t r0, const int64_t *restrict coff,
    const RD_MASK_T *restrict mk, const RD_MASK_T *restrict sm, float bias,
    float *restrict out, int64_t W, int64_t h, int64_t w0, int64_t nr, const float *pf,
    int64_t pfl, int64_t pfn, const int RB, const int VB, const int R, const int check) {
    RD_VEC acc[RD_MAX_RB][RD_MAX_VB];
#pragma GCC unroll 32
    for (int i = 0; i < RB; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < VB; ++v) acc[i][v] = RD_SET1(bias);
    const int64_t pend = pfl < pfn ? pfl : pfn;
    for (int64_t c = 0; c < Cn; ++c) {
        const float *ic = in + c * cstride + w0 + (h + r0) * Win;
        const float *wc = wp + c * R * S;
        if (pf)
            for (int64_t o = 0; o < pend; o += 16)
                _mm_prefetch((const char *)(pf + c * cstride + o), _MM_HINT_T0);
        for (int64_t s = 0; s < S; ++s) {
            RD_VEC wr[RD_MAX_R];
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) wr[r] = RD_SET1(wc[r * S + s]);
            const RD_MASK_T *m = mk + s * VB;
            const float *ps = ic + coff[s];
            /* input row j of the block feeds output rows j - r, r < R */
#pragma GCC unroll 32
            for (int j = 0; j < RB + R - 1; ++j) {
                if (check && (j >= nr + R - 1 || h + r0 + j < 0 || h + r0 + j >= Hin)) continue;
#pragma GCC unroll 4
                for (int v = 0; v < VB; ++v) {
                    const RD_VEC x = RD_LOADM(ps + j * Win + v * RD_VL, m[v]);
#pragma GCC unroll 8
                    for (int r = 0; r < R; ++r)
                        if (j - r >= 0 && j - r < RB)
                            acc[j - r][v] = RD_FMA(wr[r], x, acc[j - r][v]);
                }
            }
        }
    }
#pragma GCC unroll 32
    for (int i = 0; i < RB; ++i) {
        if (check && i >= nr) continue;
#pragma GCC unroll 4
        for (int v = 0; v < VB; ++v)
            RD_STOREM(out + (h + i) * W + w0 + v * RD_VL, sm[v], acc[i][v]);
    }
}

/* Rows [h0, h1) of the plane in column blocks of VB vectors and row blocks of RB. */
static inline __attribute__((always_inline)) void RD_ROWS(
    const float *restrict in, int64_t Hin, int64_t Win, int64_t cstride, int64_t Cn,
    const float *restrict wp, int64_t S, int64_t r0, const int64_t *restrict coff, float bias,
    float *restrict out, int64_t W, int64_t h0, int64_t h1, const float *next,
    int64_t next_len, const int RB, const int VB, const int R) {
    RD_MASK_T mk[RD_MAX_S * RD_MAX_VB], sm[RD_MAX_VB];
    /* `next` in pieces of pfl floats per plane, one piece per block */
    const int64_t blocks = (h1 - h0 + RB - 1) / RB * ((W + VB * RD_VL - 1) / (VB * RD_VL));
    const int64_t pfl = next && blocks > 0 ? (next_len / blocks + 16) & ~(int64_t)15 : 0;
    int64_t done = 0; /* floats of each plane of `next` fetched */
    for (int64_t w0 = 0; w0 < W; w0 += VB * RD_VL) {
        for (int v = 0; v < VB; ++v) {
            const int64_t a = w0 + v * RD_VL; /* column of lane 0 */
            sm[v] = RD_MASK(0, W - a);
            for (int64_t s = 0; s < S; ++s) { /* lanes with 0 <= a + j + coff < Win */
                int64_t hi = Win - coff[s] - a;
                if (hi > W - a) hi = W - a;
                mk[s * VB + v] = RD_MASK(-coff[s] - a, hi);
            }
        }
        for (int64_t h = h0; h < h1; h += RB) {
            const int64_t nr = h1 - h < RB ? h1 - h : RB;
            const float *pf = next ? next + done : NULL;
            const int64_t pfn = next_len - done;
            done += pfl;
            if (nr == RB && h + r0 >= 0 && h + RB + R - 2 + r0 < Hin)
                RD_BLOCK(in, Hin, Win, cstride, Cn, wp, S, r0, coff, mk, sm, bias, out, W, h,
                         w0, nr, pf, pfl, pfn, RB, VB, R, 0);
            else
                RD_BLOCK(in, Hin, Win, cstride, Cn, wp, S, r0, coff, mk, sm, bias, out, W, h,
                         w0, nr, pf, pfl, pfn, RB, VB, R, 1);
        }
    }
}

/* One kernel height R (3, 5 or 7), its column blocks of 1-4 vectors. */
static inline __attribute__((always_inline)) void RD_HEIGHT(
    const float *restrict in, int64_t Hin, int64_t Win, int64_t cstride, int64_t Cn,
    const float *restrict wp, int64_t S, int64_t r0, const int64_t *restrict coff, float bias,
    float *restrict out, int64_t W, int64_t h0, int64_t h1, const float *next,
    int64_t next_len, const int R) {
    int64_t vb = (W + RD_VL - 1) / RD_VL; /* vectors per column block */
    if (vb > RD_VB_CAP(R)) vb = RD_VB_CAP(R);
    if (vb == 1)
        RD_ROWS(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                next_len, RD_RB(1, R), 1, R);
    else if (vb == 2)
        RD_ROWS(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                next_len, RD_RB(2, R), 2, R);
    else if (vb == 3)
        RD_ROWS(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                next_len, RD_RB(3, R), 3, R);
    else
        RD_ROWS(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                next_len, RD_RB(4, R), 4, R);
}

void RD_NAME(const float *restrict in, int64_t Hin, int64_t Win, int64_t cstride, int64_t Cn,
             const float *restrict wp, int64_t R, int64_t S, int64_t r0,
             const int64_t *restrict coff, float bias, float *restrict out, int64_t W,
             int64_t h0, int64_t h1, const float *next, int64_t next_len) {
    if (R == 3)
        RD_HEIGHT(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                  next_len, 3);
    else if (R == 5)
        RD_HEIGHT(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                  next_len, 5);
    else
        RD_HEIGHT(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                  next_len, 7);
}

/* Rows of dy in blocks of RB, columns in blocks of VB vectors, into acc[(r * 3 + s) * VB + v];
 * check: the block is short or some input row lies outside the plane. */
static inline __attribute__((always_inline)) void RD_WROWS(
    const float *restrict dy, int64_t Ho, int64_t Wo, const float *restrict x, int64_t Hin,
    int64_t Win, int64_t r0, const int64_t *restrict coff, const RD_MASK_T *restrict mk,
    const RD_MASK_T *restrict sm, int64_t w0, RD_VEC *restrict accp, const int RB,
    const int VB) {
    RD_VEC acc[9][2];
#pragma GCC unroll 9
    for (int t = 0; t < 9; ++t)
#pragma GCC unroll 2
        for (int v = 0; v < VB; ++v) acc[t][v] = accp[t * VB + v];
    for (int64_t h = 0; h < Ho; h += RB) {
        const int64_t nr = Ho - h < RB ? Ho - h : RB;
        const int check = nr < RB || h + r0 < 0 || h + RB + 1 + r0 >= Hin;
        RD_VEC d[RD_MAX_RB][2];
#pragma GCC unroll 16
        for (int i = 0; i < RB; ++i)
#pragma GCC unroll 2
            for (int v = 0; v < VB; ++v)
                d[i][v] = i < nr ? RD_LOADM(dy + (h + i) * Wo + w0 + v * RD_VL, sm[v])
                                 : RD_SET1(0.f);
        const float *xr = x + (h + r0) * Win + w0;
#pragma GCC unroll 18
        for (int j = 0; j < RB + 2; ++j) {
            if (check && (j >= nr + 2 || h + r0 + j < 0 || h + r0 + j >= Hin)) continue;
#pragma GCC unroll 3
            for (int s = 0; s < 3; ++s)
#pragma GCC unroll 2
                for (int v = 0; v < VB; ++v) {
                    const RD_VEC xv = RD_LOADM(xr + j * Win + coff[s] + v * RD_VL, mk[s * VB + v]);
                    /* input row j meets dy row j - r through kernel row r */
                    if (j < RB) acc[s][v] = RD_FMA(d[j][v], xv, acc[s][v]);
                    if (j >= 1 && j - 1 < RB)
                        acc[3 + s][v] = RD_FMA(d[j - 1][v], xv, acc[3 + s][v]);
                    if (j >= 2) acc[6 + s][v] = RD_FMA(d[j - 2][v], xv, acc[6 + s][v]);
                }
        }
    }
#pragma GCC unroll 9
    for (int t = 0; t < 9; ++t)
#pragma GCC unroll 2
        for (int v = 0; v < VB; ++v) accp[t * VB + v] = acc[t][v];
}

void RD_WNAME(const float *restrict dy, int64_t dstride, int64_t Ho, int64_t Wo,
              const float *restrict x, int64_t xstride, int64_t Hin, int64_t Win, int64_t N,
              int64_t r0, const int64_t *restrict coff, float *restrict dw) {
    const int VB = Wo <= RD_VL ? 1 : RD_WVB;
    RD_VEC acc[9 * 2];
    for (int t = 0; t < 9 * 2; ++t) acc[t] = RD_SET1(0.f);
    RD_MASK_T mk[3 * 2], sm[2];
    for (int64_t w0 = 0; w0 < Wo; w0 += VB * RD_VL) {
        for (int v = 0; v < VB; ++v) {
            const int64_t a = w0 + v * RD_VL; /* column of lane 0 */
            sm[v] = RD_MASK(0, Wo - a);
            for (int64_t s = 0; s < 3; ++s) { /* lanes with 0 <= a + j + coff < Win */
                int64_t hi = Win - coff[s] - a;
                if (hi > Wo - a) hi = Wo - a;
                mk[s * VB + v] = RD_MASK(-coff[s] - a, hi);
            }
        }
        for (int64_t n = 0; n < N; ++n) {
            if (VB == 1)
                RD_WROWS(dy + n * dstride, Ho, Wo, x + n * xstride, Hin, Win, r0, coff, mk, sm,
                         w0, acc, RD_WRB1, 1);
            else
                RD_WROWS(dy + n * dstride, Ho, Wo, x + n * xstride, Hin, Win, r0, coff, mk, sm,
                         w0, acc, RD_WRB2, 2);
        }
    }
    for (int t = 0; t < 9; ++t) {
        float lanes[2 * RD_VL];
        for (int v = 0; v < VB; ++v) RD_STOREU(lanes + v * RD_VL, acc[t * VB + v]);
        float sum = 0.f;
        for (int l = 0; l < VB * RD_VL; ++l) sum += lanes[l];
        dw[t] = sum;
    }
}

#undef RD_NAME
#undef RD_BLOCK
#undef RD_ROWS
#undef RD_HEIGHT
#undef RD_RB
#undef RD_VB_CAP
#undef RD_MAX_R
#undef RD_WNAME
#undef RD_WROWS
#undef RD_WVB
#undef RD_WRB1
#undef RD_WRB2
#undef RD_STOREU
#undef RD_CAT
#undef RD_CAT_
#undef RD_VL
#undef RD_VEC
#undef RD_MASK_T
#undef RD_MASK
#undef RD_LOADM
#undef RD_STOREM
#undef RD_SET1
#undef RD_FMA
#undef RD_MAX_S
#undef RD_MAX_VB
#undef RD_MAX_RB
