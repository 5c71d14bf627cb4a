/* Winograd F(4x4, 3x3) convolution for 3x3, stride 1, undilated, ungrouped layers: forward,
 * backward-data (the forward of dy with the kernels rotated and transposed) and
 * backward-weight (the adjoint of the forward's transforms).  A batch chunk of images is
 * transformed to 36 "points" per 6x6 tile; the channel sums become 36 independent GEMMs
 * (spread over the threads, each single-threaded), and the result is transformed back.
 * Multiplies per output: 36/16 = 2.25 against 9 for direct convolution.  Tile transforms
 * are in conv_winograd_impl.h, compiled per ISA.  See striate/conv.h for the memory bound. */
#include "conv_winograd.h"

#include <stdint.h>

#include "striate/gemm.h"
#include "striate/runtime.h"

#define WG_NAME(f) f##_generic
#include "conv_winograd_impl.h"
#undef WG_NAME

#define WG_DECLARE(sfx)                                                                      \
    void st_wino_input_##sfx(const float *, const wg_planes *, float *, int64_t);            \
    void st_wino_output_##sfx(const float *, int64_t, const wg_planes *, float, float *);    \
    void st_wino_dy_##sfx(const float *, const wg_planes *, float *, int64_t);               \
    void st_wino_weights_##sfx(const float *, int64_t, int64_t, int64_t, int, float *,       \
                               int64_t);                                                     \
    void st_wino_dw_##sfx(const float *, int64_t, int64_t, int64_t, float *);
WG_DECLARE(avx2)
WG_DECLARE(avx512)

typedef struct {
    void (*input)(const float *, const wg_planes *, float *, int64_t);
    void (*output)(const float *, int64_t, const wg_planes *, float, float *);
    void (*dy)(const float *, const wg_planes *, float *, int64_t);
    void (*weights)(const float *, int64_t, int64_t, int64_t, int, float *, int64_t);
    void (*dw)(const float *, int64_t, int64_t, int64_t, float *);
} wg_kernels;

#define WG_ROW(sfx) {st_wino_input_##sfx, st_wino_output_##sfx, st_wino_dy_##sfx, \
                     st_wino_weights_##sfx, st_wino_dw_##sfx}
static const wg_kernels WG_TABLE[ST_ARCH_COUNT] = {WG_ROW(generic), WG_ROW(avx2),
                                                   WG_ROW(avx512)};

/* The path's kernels.  The AVX-512 ones index a chunk's planes with int32 and number an
 * image's tiles through a float quotient exact below 2^22, so a chunk of more than
 * 2^31 - 1 floats per channel side, or an image of 2^22 - 16 tiles or more, takes the
 * portable ones. */
static const wg_kernels *wg_pick(int64_t chunk_floats, int64_t tiles_per_image) {
    const int arch = st_arch_get();
    if (arch == ST_ARCH_AVX512 &&
        (chunk_floats >= INT32_MAX || tiles_per_image >= (1 << 22) - WG_L))
        return &WG_TABLE[ST_ARCH_GENERIC];
    return &WG_TABLE[arch];
}

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

/* Auto mode, from measurements on the AVX-512 and AVX2 paths: the GEMMs do 4 times fewer
 * multiplies than direct convolution on outputs that fill whole 4x4 tiles (`waste` is the
 * ratio of tiled to real outputs), while transforming tiles costs ~(C + K) per tile against
 * the GEMMs' C*K, and transforming kernels (or the dW accumulator) ~C*K per call.  So it wins
 * when C*K/(C+K)/waste is large enough and there are enough tiles to spread the kernel
 * transform over (thresholds in conv_winograd.h). */
int st_conv_use_winograd(const st_conv_desc *d) {
    if (g_mode == ST_WINOGRAD_NEVER || !st_conv_winograd_applies(d)) return 0;
    if (g_mode == ST_WINOGRAD_ALWAYS) return 1;
    const int64_t tH = (d->P + 3) / 4, tW = (d->Q + 3) / 4, tiles = d->N * tH * tW;
    const double waste = (double)(16 * tH * tW) / (double)(d->P * d->Q);
    const double score = (double)(d->C * d->K) / (double)(d->C + d->K) / waste;
    return score >= ST_WINOGRAD_MIN_SCORE && tiles >= ST_WINOGRAD_MIN_TILES;
}

/* One direction of a Winograd convolution: `in` (N, Ci, Hi, Wi) -> `out` (N, Co, Ho, Wo), an
 * output position (p, q) reading input rows p - pt + r and columns q - pl + s. */
typedef struct {
    int64_t N, Ci, Hi, Wi, Co, Ho, Wo, pt, pl;
    int64_t tH, tW, TI; /* tiles per column, per row, per image */
} wg_geom;

static void wg_geom_init(wg_geom *g, int64_t N, int64_t Ci, int64_t Hi, int64_t Wi, int64_t Co,
                         int64_t Ho, int64_t Wo, int64_t pt, int64_t pl) {
    g->N = N, g->Ci = Ci, g->Hi = Hi, g->Wi = Wi, g->Co = Co, g->Ho = Ho, g->Wo = Wo;
    g->pt = pt, g->pl = pl;
    g->tH = (Ho + 3) / 4, g->tW = (Wo + 3) / 4, g->TI = g->tH * g->tW;
}

/* Images per chunk: the transformed tiles of a chunk (36 * (Ci + Co) floats per tile) stay
 * within half the chunk budget, so they mostly live in cache between the transforms and the
 * GEMMs, unless the GEMMs would then get fewer than ST_WINOGRAD_MIN_CHUNK_TILES columns;
 * at least one image; chunks of equal size. */
static int64_t wg_chunk(const wg_geom *g, int64_t ch_total) {
    const size_t per_image = sizeof(float) * 36 * (size_t)(ch_total * g->TI);
    int64_t nb = (int64_t)(st_conv_get_chunk_bytes() / 2 / per_image);
    const int64_t nb_tiles = (ST_WINOGRAD_MIN_CHUNK_TILES + g->TI - 1) / g->TI;
    if (nb < nb_tiles) nb = nb_tiles;
    if (nb < 1) nb = 1;
    if (nb >= g->N) return g->N;
    const int64_t chunks = (g->N + nb - 1) / nb;
    return (g->N + chunks - 1) / chunks; /* equal chunks: no small last one */
}

/* U[xi][o][i] = (G g G^T)[xi] with g = w[o][i] (forward) or, for backward-data (flip), the
 * kernel w[i][o] rotated by 180 degrees; w is (Co, Ci, 3, 3) or (Ci, Co, 3, 3). */
static void wg_weights(const wg_kernels *kr, const float *w, int64_t Co, int64_t Ci, int flip,
                       float *U) {
#pragma omp parallel for schedule(static) if (Co * Ci > 4096)
    for (int64_t o = 0; o < Co; ++o) kr->weights(w, o, Co, Ci, flip, U + o * Ci, Co * Ci);
}

/* out = conv(in) + bias with the transformed kernels U ([36][Co][Ci]). */
static int wg_run(const wg_geom *g, const float *in, const float *U, const float *bias,
                  float *out) {
    const int64_t nb = wg_chunk(g, g->Ci + g->Co), Tmax = nb * g->TI;
    const int64_t in_img = g->Ci * g->Hi * g->Wi, out_img = g->Co * g->Ho * g->Wo;
    const wg_kernels *kr = wg_pick(nb * (in_img > out_img ? in_img : out_img), g->TI);
    float *V = (float *)st_workspace(ST_WS_COL, sizeof(float) * 36 * (size_t)((g->Ci + g->Co) *
                                                                              Tmax));
    if (!V) return ST_ENOMEM;
    float *M = V + 36 * g->Ci * Tmax;
    for (int64_t n0 = 0; n0 < g->N; n0 += nb) {
        const int64_t nc = g->N - n0 < nb ? g->N - n0 : nb, T = nc * g->TI;
        const wg_planes pin = {nc, g->Hi, g->Wi, in_img, g->pt, g->pl, g->tH, g->tW};
        const wg_planes pout = {nc, g->Ho, g->Wo, out_img, 0, 0, g->tH, g->tW};
#pragma omp parallel
        {
#pragma omp for schedule(static)
            for (int64_t c = 0; c < g->Ci; ++c)
                kr->input(in + (n0 * g->Ci + c) * g->Hi * g->Wi, &pin, V + c * T, g->Ci * T);
#pragma omp for schedule(static)
            for (int xi = 0; xi < 36; ++xi)
                st_sgemm_serial(0, 0, g->Co, T, g->Ci, 1.f, U + xi * g->Co * g->Ci, g->Ci,
                                V + xi * g->Ci * T, T, 0.f, M + xi * g->Co * T, T);
#pragma omp for schedule(static)
            for (int64_t k = 0; k < g->Co; ++k)
                kr->output(M + k * T, g->Co * T, &pout, bias ? bias[k] : 0.f,
                           out + (n0 * g->Co + k) * g->Ho * g->Wo);
        }
    }
    return ST_OK;
}

int st_conv_winograd_forward(const st_conv_desc *d, const float *x, const float *w,
                             const float *bias, float *y) {
    float *U = (float *)st_workspace(ST_WS_AUX, sizeof(float) * 36 * (size_t)(d->K * d->C));
    if (!U) return ST_ENOMEM;
    wg_weights(&WG_TABLE[st_arch_get()], w, d->K, d->C, 0, U);
    wg_geom g;
    wg_geom_init(&g, d->N, d->C, d->H, d->W, d->K, d->P, d->Q, d->pad_t, d->pad_l);
    return wg_run(&g, x, U, bias, y);
}

int st_conv_winograd_backward_data(const st_conv_desc *d, const float *dy, const float *w,
                                   float *dx) {
    float *U = (float *)st_workspace(ST_WS_AUX, sizeof(float) * 36 * (size_t)(d->K * d->C));
    if (!U) return ST_ENOMEM;
    wg_weights(&WG_TABLE[st_arch_get()], w, d->C, d->K, 1, U);
    /* dx[h] = sum_r dy[h + pt - r] w[r] = sum_r' dy[h - (2 - pt) + r'] w[2 - r'] */
    wg_geom g;
    wg_geom_init(&g, d->N, d->K, d->P, d->Q, d->C, d->H, d->W, 2 - d->pad_t, 2 - d->pad_l);
    return wg_run(&g, dy, U, NULL, dx);
}

int st_conv_winograd_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                                     float *dw) {
    wg_geom g;
    wg_geom_init(&g, d->N, d->C, d->H, d->W, d->K, d->P, d->Q, d->pad_t, d->pad_l);
    const int64_t C = d->C, K = d->K, nb = wg_chunk(&g, C + K), Tmax = nb * g.TI;
    const int64_t x_img = C * d->H * d->W, dy_img = K * d->P * d->Q;
    const wg_kernels *kr = wg_pick(nb * (x_img > dy_img ? x_img : dy_img), g.TI);
    float *dU = (float *)st_workspace(ST_WS_AUX, sizeof(float) * 36 * (size_t)(K * C));
    float *V = (float *)st_workspace(ST_WS_COL, sizeof(float) * 36 * (size_t)((C + K) * Tmax));
    if (!dU || !V) return ST_ENOMEM;
    float *D = V + 36 * C * Tmax;
    for (int64_t n0 = 0; n0 < d->N; n0 += nb) {
        const int64_t nc = d->N - n0 < nb ? d->N - n0 : nb, T = nc * g.TI;
        const float beta = n0 == 0 ? 0.f : 1.f;
        const wg_planes px = {nc, d->H, d->W, x_img, d->pad_t, d->pad_l, g.tH, g.tW};
        const wg_planes pdy = {nc, d->P, d->Q, dy_img, 0, 0, g.tH, g.tW};
#pragma omp parallel
        {
#pragma omp for schedule(static) nowait
            for (int64_t c = 0; c < C; ++c)
                kr->input(x + (n0 * C + c) * d->H * d->W, &px, V + c * T, C * T);
#pragma omp for schedule(static)
            for (int64_t k = 0; k < K; ++k)
                kr->dy(dy + (n0 * K + k) * d->P * d->Q, &pdy, D + k * T, K * T);
#pragma omp for schedule(static)
            for (int xi = 0; xi < 36; ++xi) /* dU[xi] (K x C) += D[xi] (K x T) V[xi]^T */
                st_sgemm_serial(0, 1, K, C, T, 1.f, D + xi * K * T, T, V + xi * C * T, T, beta,
                                dU + xi * K * C, C);
        }
    }
    /* dw[k][c] = G^T dU[:, k, c] G (3x3), in blocks of 256 kernels */
    const int64_t KC = K * C, blk = 256;
#pragma omp parallel for schedule(static) if (KC > 4096)
    for (int64_t u = 0; u < KC; u += blk)
        kr->dw(dU, KC, u, KC - u < blk ? KC - u : blk, dw);
    return ST_OK;
}
