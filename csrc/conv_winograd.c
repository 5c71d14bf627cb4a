/* Winograd F(4x4, 3x3) convolution for 3x3, stride 1, undilated, ungrouped layers: forward,
 * backward-data (the forward of dy with the kernels rotated and transposed) and
 * backward-weight (the adjoint of the forward's transforms).  A batch chunk of images is
 * transformed to 36 "points" per 6x6 tile; the channel sums become 36 independent GEMMs
 * (spread over the threads, each single-threaded), and the result is transformed back.
 * Multiplies per output: 36/16 = 2.25 against 9 for direct convolution.  Tile transforms
 * are in conv_winograd_impl.h, compiled per ISA.  See striate/conv.h for the memory bound. */
#include "conv_winograd.h"

#include <string.h>

#include "striate/gemm.h"
#include "striate/runtime.h"

#define WG_NAME(f) f##_generic
#include "conv_winograd_impl.h"
#undef WG_NAME

#define WG_DECLARE(sfx)                                                                      \
    void st_wino_input_##sfx(const float *, int64_t, int64_t, int64_t, float *, int64_t);    \
    void st_wino_output_##sfx(const float *, int64_t, int64_t, int64_t, int64_t, float,      \
                              float *);                                                      \
    void st_wino_dy_##sfx(const float *, int64_t, int64_t, int64_t, float *, int64_t);       \
    void st_wino_weights_##sfx(const float *, int64_t, int64_t, int64_t, int, float *,       \
                               int64_t);                                                     \
    void st_wino_dw_##sfx(const float *, int64_t, int64_t, int64_t, float *);
WG_DECLARE(avx2)
WG_DECLARE(avx512)

typedef struct {
    void (*input)(const float *, int64_t, int64_t, int64_t, float *, int64_t);
    void (*output)(const float *, int64_t, int64_t, int64_t, int64_t, float, float *);
    void (*dy)(const float *, int64_t, int64_t, int64_t, float *, int64_t);
    void (*weights)(const float *, int64_t, int64_t, int64_t, int, float *, int64_t);
    void (*dw)(const float *, int64_t, int64_t, int64_t, float *);
} wg_kernels;

#define WG_ROW(sfx) {st_wino_input_##sfx, st_wino_output_##sfx, st_wino_dy_##sfx, \
                     st_wino_weights_##sfx, st_wino_dw_##sfx}
static const wg_kernels WG_TABLE[ST_ARCH_COUNT] = {WG_ROW(generic), WG_ROW(avx2),
                                                   WG_ROW(avx512)};

static int g_mode = ST_WINOGRAD_AUTO;

int st_conv_set_winograd(int mode) {
    const int old = g_mode;
    if (mode >= ST_WINOGRAD_NEVER && mode <= ST_WINOGRAD_ALWAYS) g_mode = mode;
    return old;
}

int st_conv_get_winograd(void) { return g_mode; }

int st_conv_winograd_applies(const st_conv_desc *d) {
    return d->R == 3 && d->S == 3 && d->stride_h == 1 && d->stride_w == 1 && d->dil_h == 1 &&
           d->dil_w == 1 && d->groups == 1;
}

/* Auto mode, from measurements on the AVX-512 path (1 thread): the GEMMs do 4 times fewer
 * multiplies than direct convolution on outputs that fill whole 4x4 tiles (`waste` is the
 * ratio of tiled to real outputs), while transforming tiles costs ~(C + K) per tile against
 * the GEMMs' C*K, and transforming kernels (or the dW accumulator) ~C*K per call.  So it wins
 * when C*K/(C+K)/waste is large enough and there are enough tiles to spread the kernel
 * transform over; the weight gradient, whose im2col path is the slowest, wins earlier. */
int st_conv_use_winograd(const st_conv_desc *d, int weight_grad) {
    if (g_mode == ST_WINOGRAD_NEVER || !st_conv_winograd_applies(d)) return 0;
    if (g_mode == ST_WINOGRAD_ALWAYS) return 1;
    const int64_t tH = (d->P + 3) / 4, tW = (d->Q + 3) / 4, tiles = d->N * tH * tW;
    const double waste = (double)(16 * tH * tW) / (double)(d->P * d->Q);
    const double score = (double)(d->C * d->K) / (double)(d->C + d->K) / waste;
    if (weight_grad) return score >= ST_WINOGRAD_MIN_SCORE_DW && tiles >= ST_WINOGRAD_MIN_TILES_DW;
    return score >= ST_WINOGRAD_MIN_SCORE && tiles >= ST_WINOGRAD_MIN_TILES;
}

/* One direction of a Winograd convolution: `in` (N, Ci, Hi, Wi) -> `out` (N, Co, Ho, Wo), an
 * output position (p, q) reading input rows p - pt + r and columns q - pl + s. */
typedef struct {
    int64_t N, Ci, Hi, Wi, Co, Ho, Wo, pt, pl;
    int64_t tH, tW, TI, Hp, Wp; /* tiles per column/row/image; padded input plane */
} wg_geom;

static void wg_geom_init(wg_geom *g, int64_t N, int64_t Ci, int64_t Hi, int64_t Wi, int64_t Co,
                         int64_t Ho, int64_t Wo, int64_t pt, int64_t pl) {
    g->N = N, g->Ci = Ci, g->Hi = Hi, g->Wi = Wi, g->Co = Co, g->Ho = Ho, g->Wo = Wo;
    g->pt = pt, g->pl = pl;
    g->tH = (Ho + 3) / 4, g->tW = (Wo + 3) / 4, g->TI = g->tH * g->tW;
    g->Hp = 4 * g->tH + 2, g->Wp = 4 * g->tW + 2;
}

/* Images per chunk: the transformed tiles of a chunk (36 * (Ci + Co) floats per tile) fit
 * in ST_WINOGRAD_CHUNK_FACTOR chunk budgets, at least one image; chunks of equal size. */
static int64_t wg_chunk(const wg_geom *g, int64_t ch_total) {
    const size_t per_image = sizeof(float) * 36 * (size_t)(ch_total * g->TI);
    const size_t budget = ST_WINOGRAD_CHUNK_FACTOR * st_conv_get_chunk_bytes();
    int64_t nb = (int64_t)(budget / per_image);
    if (nb < 1) nb = 1;
    if (nb >= g->N) return g->N;
    const int64_t chunks = (g->N + nb - 1) / nb;
    return (g->N + chunks - 1) / chunks; /* equal chunks: no small last one */
}

/* plane (Hp x Wp) = the source plane (h x w) shifted down/right by (pt, pl), zero around */
static void wg_pad_plane(const float *src, int64_t h, int64_t w, int64_t pt, int64_t pl,
                         int64_t Hp, int64_t Wp, float *plane) {
    int64_t c0 = -pl, lo = 0, hi = Wp; /* plane column b reads source column b + c0 */
    if (lo + c0 < 0) lo = -c0;
    if (hi + c0 > w) hi = w - c0;
    if (hi < lo) hi = lo;
    for (int64_t a = 0; a < Hp; ++a) {
        float *row = plane + a * Wp;
        const int64_t r = a - pt;
        if (r < 0 || r >= h || hi == lo) {
            memset(row, 0, sizeof(float) * (size_t)Wp);
            continue;
        }
        memset(row, 0, sizeof(float) * (size_t)lo);
        memcpy(row + lo, src + r * w + lo + c0, sizeof(float) * (size_t)(hi - lo));
        memset(row + hi, 0, sizeof(float) * (size_t)(Wp - hi));
    }
}

/* U[xi][o][i] = (G g G^T)[xi] with g = w[o][i] (forward) or, for backward-data (flip), the
 * kernel w[i][o] rotated by 180 degrees; w is (Co, Ci, 3, 3) or (Ci, Co, 3, 3). */
static void wg_weights(const wg_kernels *kr, const float *w, int64_t Co, int64_t Ci, int flip,
                       float *U) {
#pragma omp parallel for schedule(static) if (Co * Ci > 4096)
    for (int64_t o = 0; o < Co; ++o) kr->weights(w, o, Co, Ci, flip, U + o * Ci, Co * Ci);
}

/* planes of nc images (channel c of each; source planes `sstride` floats apart), padded */
static void wg_pad_planes(const float *src, int64_t nc, int64_t sstride, int64_t h, int64_t w,
                          int64_t pt, int64_t pl, int64_t Hp, int64_t Wp, float *planes) {
    for (int64_t n = 0; n < nc; ++n)
        wg_pad_plane(src + n * sstride, h, w, pt, pl, Hp, Wp, planes + n * Hp * Wp);
}

/* out = conv(in) + bias with the transformed kernels U ([36][Co][Ci]). */
static int wg_run(const wg_kernels *kr, const wg_geom *g, const float *in, const float *U,
                  const float *bias, float *out) {
    const int64_t nb = wg_chunk(g, g->Ci + g->Co), Tmax = nb * g->TI;
    float *V = (float *)st_workspace(ST_WS_COL, sizeof(float) * 36 * (size_t)((g->Ci + g->Co) *
                                                                              Tmax));
    if (!V) return ST_ENOMEM;
    float *M = V + 36 * g->Ci * Tmax;
    const int64_t in_plane = g->Hp * g->Wp, out_plane = 16 * g->TI;
    const size_t plane_bytes = sizeof(float) * (size_t)(nb * (in_plane > out_plane ? in_plane
                                                                                  : out_plane));
    int fail = 0;
    for (int64_t n0 = 0; n0 < g->N && !fail; n0 += nb) {
        const int64_t nc = g->N - n0 < nb ? g->N - n0 : nb, T = nc * g->TI;
#pragma omp parallel
        {
            float *planes = (float *)st_workspace(ST_WS_AUX2, plane_bytes);
            if (!planes) {
#pragma omp atomic write
                fail = 1;
            }
#pragma omp barrier
            if (!fail) {
#pragma omp for schedule(static)
                for (int64_t c = 0; c < g->Ci; ++c) {
                    wg_pad_planes(in + (n0 * g->Ci + c) * g->Hi * g->Wi, nc,
                                  g->Ci * g->Hi * g->Wi, g->Hi, g->Wi, g->pt, g->pl, g->Hp,
                                  g->Wp, planes);
                    kr->input(planes, nc, g->tH, g->tW, V + c * T, g->Ci * T);
                }
#pragma omp for schedule(static)
                for (int xi = 0; xi < 36; ++xi)
                    st_sgemm_serial(0, 0, g->Co, T, g->Ci, 1.f, U + xi * g->Co * g->Ci, g->Ci,
                                    V + xi * g->Ci * T, T, 0.f, M + xi * g->Co * T, T);
#pragma omp for schedule(static)
                for (int64_t k = 0; k < g->Co; ++k) {
                    const int64_t W4 = 4 * g->tW;
                    kr->output(M + k * T, g->Co * T, nc, g->tH, g->tW, bias ? bias[k] : 0.f,
                               planes);
                    for (int64_t n = 0; n < nc; ++n) {
                        float *dst = out + ((n0 + n) * g->Co + k) * g->Ho * g->Wo;
                        const float *src = planes + n * out_plane;
                        for (int64_t p = 0; p < g->Ho; ++p)
                            memcpy(dst + p * g->Wo, src + p * W4,
                                   sizeof(float) * (size_t)g->Wo);
                    }
                }
            }
        }
    }
    return fail ? ST_ENOMEM : ST_OK;
}

int st_conv_winograd_forward(const st_conv_desc *d, const float *x, const float *w,
                             const float *bias, float *y) {
    float *U = (float *)st_workspace(ST_WS_AUX, sizeof(float) * 36 * (size_t)(d->K * d->C));
    if (!U) return ST_ENOMEM;
    const wg_kernels *kr = &WG_TABLE[st_arch_get()];
    wg_weights(kr, w, d->K, d->C, 0, U);
    wg_geom g;
    wg_geom_init(&g, d->N, d->C, d->H, d->W, d->K, d->P, d->Q, d->pad_t, d->pad_l);
    return wg_run(kr, &g, x, U, bias, y);
}

int st_conv_winograd_backward_data(const st_conv_desc *d, const float *dy, const float *w,
                                   float *dx) {
    float *U = (float *)st_workspace(ST_WS_AUX, sizeof(float) * 36 * (size_t)(d->K * d->C));
    if (!U) return ST_ENOMEM;
    const wg_kernels *kr = &WG_TABLE[st_arch_get()];
    wg_weights(kr, w, d->C, d->K, 1, U);
    /* dx[h] = sum_r dy[h + pt - r] w[r] = sum_r' dy[h - (2 - pt) + r'] w[2 - r'] */
    wg_geom g;
    wg_geom_init(&g, d->N, d->K, d->P, d->Q, d->C, d->H, d->W, 2 - d->pad_t, 2 - d->pad_l);
    return wg_run(kr, &g, dy, U, NULL, dx);
}

int st_conv_winograd_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                                     float *dw) {
    const wg_kernels *kr = &WG_TABLE[st_arch_get()];
    wg_geom g;
    wg_geom_init(&g, d->N, d->C, d->H, d->W, d->K, d->P, d->Q, d->pad_t, d->pad_l);
    const int64_t C = d->C, K = d->K, nb = wg_chunk(&g, C + K), Tmax = nb * g.TI;
    float *dU = (float *)st_workspace(ST_WS_AUX, sizeof(float) * 36 * (size_t)(K * C));
    float *V = (float *)st_workspace(ST_WS_COL, sizeof(float) * 36 * (size_t)((C + K) * Tmax));
    if (!dU || !V) return ST_ENOMEM;
    float *D = V + 36 * C * Tmax;
    const int64_t plane_elems = nb * g.Hp * g.Wp;
    int fail = 0;
    for (int64_t n0 = 0; n0 < d->N && !fail; n0 += nb) {
        const int64_t nc = d->N - n0 < nb ? d->N - n0 : nb, T = nc * g.TI;
        const float beta = n0 == 0 ? 0.f : 1.f;
#pragma omp parallel
        {
            float *planes = (float *)st_workspace(ST_WS_AUX2, sizeof(float) * (size_t)plane_elems);
            if (!planes) {
#pragma omp atomic write
                fail = 1;
            }
#pragma omp barrier
            if (!fail) {
#pragma omp for schedule(static) nowait
                for (int64_t c = 0; c < C; ++c) {
                    wg_pad_planes(x + (n0 * C + c) * d->H * d->W, nc, C * d->H * d->W, d->H,
                                  d->W, d->pad_t, d->pad_l, g.Hp, g.Wp, planes);
                    kr->input(planes, nc, g.tH, g.tW, V + c * T, C * T);
                }
#pragma omp for schedule(static)
                for (int64_t k = 0; k < K; ++k) {
                    /* 4tH x 4tW dY planes, zero past P x Q */
                    wg_pad_planes(dy + (n0 * K + k) * d->P * d->Q, nc, K * d->P * d->Q, d->P,
                                  d->Q, 0, 0, 4 * g.tH, 4 * g.tW, planes);
                    kr->dy(planes, nc, g.tH, g.tW, D + k * T, K * T);
                }
#pragma omp for schedule(static)
                for (int xi = 0; xi < 36; ++xi) /* dU[xi] (K x C) += D[xi] (K x T) V[xi]^T */
                    st_sgemm_serial(0, 1, K, C, T, 1.f, D + xi * K * T, T, V + xi * C * T, T,
                                    beta, dU + xi * K * C, C);
            }
        }
    }
    if (fail) return ST_ENOMEM;
    /* dw[k][c] = G^T dU[:, k, c] G (3x3), in blocks of 256 kernels */
    const int64_t KC = K * C, blk = 256;
#pragma omp parallel for schedule(static) if (KC > 4096)
    for (int64_t u = 0; u < KC; u += blk)
        kr->dw(dU, KC, u, KC - u < blk ? KC - u : blk, dw);
    return ST_OK;
}
