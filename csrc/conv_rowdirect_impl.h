/* Direct stride-1 convolution of one output plane for 3-row kernels, a few rows at a time
 * (conv.c, rowdirect_run), written once and compiled per ISA: csrc/conv_avx512_direct.c and
 * csrc/conv_avx2_direct.c define the macros below and include this file.
 *
 *   out[h * W + w] = bias + sum_{c < Cn} sum_{s < S} sum_{r < 3} wp[(c * 3 + r) * S + s]
 *                                * in[c * cstride + (h + r0 + r) * Win + w + coff[s]]
 *
 * for rows h in [h0, h1) and columns w < W, the input read as zero outside its Hin x Win
 * plane, summed in that order.  The forward has r0 = -pad_t, coff[s] = s*dil_w - pad_l;
 * backward-data reads dy with the kernel rows flipped (r0 = pad_t - 2), coff[s] =
 * pad_l - s*dil_w, and the weights transposed.
 *
 * For layers with few outputs per group (a first layer's input gradient, a 3-channel output):
 * RB rows x VB vectors of accumulators stay in registers while the sum runs over the input
 * channels and kernel columns; each input row vector is one masked load straight from the
 * plane (no im2col matrix, no shifted copies) feeding the 3 output rows it touches, its lanes
 * outside the plane read as zero and touch no memory.  Row blocks whose every input row lies
 * inside the plane run without row checks.  One output is summed in one order whatever the
 * blocking, so results do not depend on the thread count.
 *
 * A row block reads Cn planes at once, too many streams for the hardware prefetcher when the
 * input comes from memory: `next` (or NULL) is where the caller's next call reads, next_len
 * floats of each of its Cn planes (stride cstride), fetched in even pieces meanwhile.
 *
 * The includer defines: RD_NAME (function), RD_VL (lanes), RD_VEC, RD_MASK_T,
 * RD_MASK(a, b) (lanes [a, b) set, clamped to [0, RD_VL)), RD_LOADM(p, m) (masked load, other
 * lanes 0), RD_STOREM(p, m, v), RD_SET1(x), RD_FMA(a, b, c) (a * b + c), and the block rows
 * RD_RB1..RD_RB4 for 1..4 vectors. */
#include <stdint.h>

#define RD_MAX_S 64 /* conv.c sends no wider kernels */
#define RD_MAX_VB 4
#define RD_MAX_RB 16
#define RD_CAT_(a, b) a##b
#define RD_CAT(a, b) RD_CAT_(a, b)
#define RD_BLOCK RD_CAT(RD_NAME, _block)
#define RD_ROWS RD_CAT(RD_NAME, _rows)

/* RB output rows x VB vectors from column w0, rows [h, h + nr) stored; check: rows may fall
 * outside the input plane or the block is short (nr < RB).  Input channel c also fetches
 * pf[c * cstride + o], o < min(pfl, pfn). */
static inline __attribute__((always_inline)) void RD_BLOCK(
    const float *restrict in, int64_t Hin, int64_t Win, int64_t cstride, int64_t Cn,
    const float *restrict wp, int64_t S, int64_t r0, const int64_t *restrict coff,
    const RD_MASK_T *restrict mk, const RD_MASK_T *restrict sm, float bias,
    float *restrict out, int64_t W, int64_t h, int64_t w0, int64_t nr, const float *pf,
    int64_t pfl, int64_t pfn, const int RB, const int VB, const int check) {
    RD_VEC acc[RD_MAX_RB][RD_MAX_VB];
#pragma GCC unroll 32
    for (int i = 0; i < RB; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < VB; ++v) acc[i][v] = RD_SET1(bias);
    const int64_t pend = pfl < pfn ? pfl : pfn;
    for (int64_t c = 0; c < Cn; ++c) {
        const float *ic = in + c * cstride + w0 + (h + r0) * Win;
        const float *wc = wp + c * 3 * S;
        if (pf)
            for (int64_t o = 0; o < pend; o += 16)
                _mm_prefetch((const char *)(pf + c * cstride + o), _MM_HINT_T0);
        for (int64_t s = 0; s < S; ++s) {
            const RD_VEC w0v = RD_SET1(wc[s]), w1v = RD_SET1(wc[S + s]),
                         w2v = RD_SET1(wc[2 * S + s]);
            const RD_MASK_T *m = mk + s * VB;
            const float *ps = ic + coff[s];
            /* input row j of the block feeds output rows j, j - 1 and j - 2 */
#pragma GCC unroll 32
            for (int j = 0; j < RB + 2; ++j) {
                if (check && (j >= nr + 2 || h + r0 + j < 0 || h + r0 + j >= Hin)) continue;
#pragma GCC unroll 4
                for (int v = 0; v < VB; ++v) {
                    const RD_VEC x = RD_LOADM(ps + j * Win + v * RD_VL, m[v]);
                    if (j < RB) acc[j][v] = RD_FMA(w0v, x, acc[j][v]);
                    if (j >= 1 && j - 1 < RB) acc[j - 1][v] = RD_FMA(w1v, x, acc[j - 1][v]);
                    if (j >= 2) acc[j - 2][v] = RD_FMA(w2v, x, acc[j - 2][v]);
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
    int64_t next_len, const int RB, const int VB) {
    RD_MASK_T mk[RD_MAX_S * RD_MAX_VB], sm[RD_MAX_VB];
    /* `next` in pieces of pfl floats per plane, one piece per block */
    const int64_t blocks = (h1 - h0 + RB - 1) / RB * ((W + VB * RD_VL - 1) / (VB * RD_VL));
    const int64_t pfl = next ? (next_len / blocks + 16) & ~(int64_t)15 : 0;
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
            if (nr == RB && h + r0 >= 0 && h + RB + 1 + r0 < Hin)
                RD_BLOCK(in, Hin, Win, cstride, Cn, wp, S, r0, coff, mk, sm, bias, out, W, h,
                         w0, nr, pf, pfl, pfn, RB, VB, 0);
            else
                RD_BLOCK(in, Hin, Win, cstride, Cn, wp, S, r0, coff, mk, sm, bias, out, W, h,
                         w0, nr, pf, pfl, pfn, RB, VB, 1);
        }
    }
}

void RD_NAME(const float *restrict in, int64_t Hin, int64_t Win, int64_t cstride, int64_t Cn,
             const float *restrict wp, int64_t S, int64_t r0, const int64_t *restrict coff,
             float bias, float *restrict out, int64_t W, int64_t h0, int64_t h1,
             const float *next, int64_t next_len) {
    if (W <= RD_VL)
        RD_ROWS(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                next_len, RD_RB1, 1);
    else if (W <= 2 * RD_VL)
        RD_ROWS(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                next_len, RD_RB2, 2);
    else if (W <= 3 * RD_VL)
        RD_ROWS(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                next_len, RD_RB3, 3);
    else
        RD_ROWS(in, Hin, Win, cstride, Cn, wp, S, r0, coff, bias, out, W, h0, h1, next,
                next_len, RD_RB4, 4);
}

#undef RD_NAME
#undef RD_BLOCK
#undef RD_ROWS
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
#undef RD_RB1
#undef RD_RB2
#undef RD_RB3
#undef RD_RB4
#undef RD_MAX_S
#undef RD_MAX_VB
#undef RD_MAX_RB
