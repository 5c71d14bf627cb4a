/* Pooling over NCHW float32 planes: driver, border handling and the generic C path.
 * Forward kernels thread over output rows of all planes (so one large plane still uses every
 * thread); backward kernels thread over planes (each plane's scatter stays in one thread, so
 * results do not depend on the thread count).  Small problems run serially. */
#include <math.h>
#include <string.h>

#include "pool_isa.h"
#include "striate/runtime.h"

#if STRIATE_OPENMP
#include <omp.h>
#endif

/* Work (in window taps or elements) below which a call stays on one thread; tasks per thread
 * of the dynamic schedule (so a thread that the OS preempts on a busy machine delays the call
 * by one small task, not by its whole static share). */
enum { ST_POOL_PAR_MIN_WORK = 32768, ST_POOL_TASKS_PER_THREAD = 8 };

static int64_t task_size(int64_t n) {
    return n / ((int64_t)ST_POOL_TASKS_PER_THREAD * st_get_num_threads()) + 1;
}

/* Forward tasks: whole planes when there are enough of them, else each plane's output rows
 * split in *rpt-row pieces; returns the number of pieces per plane. */
static int64_t row_split(int64_t P, int64_t Ho, int64_t *rpt) {
    const int64_t want = (int64_t)ST_POOL_TASKS_PER_THREAD * st_get_num_threads();
    int64_t split = P >= want ? 1 : (want + P - 1) / P;
    if (split > Ho) split = Ho;
    if (split < 1) split = 1;
    *rpt = (Ho + split - 1) / split;
    return (Ho + *rpt - 1) / *rpt;
}

typedef void (*maxrow_fn)(ST_MAXROWS_ARGS);
typedef void (*avgrow_fn)(ST_AVGROWS_ARGS);
typedef float (*sum_fn)(const float *, int64_t);

static maxrow_fn pick_maxrow(void) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: return st_maxpool_rows_avx512;
    case ST_ARCH_AVX2: return st_maxpool_rows_avx2;
    default: return st_maxpool_rows_generic;
    }
}

static avgrow_fn pick_avgrow(void) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: return st_avgpool_rows_avx512;
    case ST_ARCH_AVX2: return st_avgpool_rows_avx2;
    default: return st_avgpool_rows_generic;
    }
}

static sum_fn pick_sum(void) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: return st_pool_sum_avx512;
    case ST_ARCH_AVX2: return st_pool_sum_avx2;
    default: return st_pool_sum_generic;
    }
}

/* ---- generic interior row kernels --------------------------------------------------------- */

void st_maxpool_row_generic(ST_POOL_ROW_ARGS, float *y, int32_t *idx) {
    /* Taps outer, outputs inner: no dependency chain across taps of one output, branch-free
     * selects the compiler can vectorise; per output the taps keep their window order. */
    const int64_t W = g->W, sw = g->sw, c0 = -(int64_t)g->pw;
    for (int ki = ki0; ki < ki1; ++ki) {
        const int64_t roff = (ih0 + (int64_t)ki * g->dh) * W;
        for (int kj = 0; kj < g->kw; ++kj) {
            const int64_t off = roff + c0 + (int64_t)kj * g->dw;
            const float *r = xp + off;
            if (ki == ki0 && kj == 0) {
                for (int64_t ow = ow0; ow < ow1; ++ow) {
                    y[ow] = r[ow * sw];
                    idx[ow] = (int32_t)(off + ow * sw);
                }
                continue;
            }
            for (int64_t ow = ow0; ow < ow1; ++ow) {
                const float v = r[ow * sw], m = y[ow];
                const int take = (v > m) | (v != v);
                y[ow] = take ? v : m;
                idx[ow] = take ? (int32_t)(off + ow * sw) : idx[ow];
            }
        }
    }
}

void st_avgpool_row_generic(ST_POOL_ROW_ARGS, float inv_div, float *y) {
    const int64_t W = g->W;
    for (int64_t ow = ow0; ow < ow1; ++ow) {
        const int64_t iw0 = ow * g->sw - g->pw;
        float s = 0.f;
        for (int ki = ki0; ki < ki1; ++ki) {
            const float *r = xp + (ih0 + ki) * W + iw0;
            for (int kj = 0; kj < g->kw; ++kj) s += r[kj];
        }
        y[ow] = s * inv_div;
    }
}

float st_pool_sum_generic(const float *x, int64_t n) {
    float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += x[i + l];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; ++i) s += x[i];
    return s;
}

/* ---- border (any column position) ---------------------------------------------------------- */

/* Interior output columns [*lo, *hi): every window column inside the input. */
static void interior_cols(const st_pool2d_geom *g, int dw, int64_t *lo, int64_t *hi) {
    int64_t a = (g->pw + g->sw - 1) / g->sw;
    int64_t num = g->W - 1 + g->pw - (int64_t)(g->kw - 1) * dw;
    int64_t b = num < 0 ? 0 : num / g->sw + 1;
    if (a > g->Wo) a = g->Wo;
    if (b > g->Wo) b = g->Wo;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

static void maxpool_border(const st_pool2d_geom *g, const float *xp, int64_t ih0, int ki0,
                           int ki1, int64_t ow0, int64_t ow1, float *y, int32_t *idx) {
    const int64_t W = g->W;
    for (int64_t ow = ow0; ow < ow1; ++ow) {
        const int64_t iw0 = ow * g->sw - g->pw;
        float m = -INFINITY;
        int64_t mi = -1;
        for (int ki = ki0; ki < ki1; ++ki) {
            const int64_t ih = ih0 + (int64_t)ki * g->dh;
            for (int kj = 0; kj < g->kw; ++kj) {
                const int64_t iw = iw0 + (int64_t)kj * g->dw;
                if (iw < 0 || iw >= W) continue;
                const float v = xp[ih * W + iw];
                const int take = (mi < 0) | (v > m) | (v != v);
                m = take ? v : m;
                mi = take ? ih * W + iw : mi;
            }
        }
        y[ow] = m;
        idx[ow] = (int32_t)mi;
    }
}

void st_maxpool_fullrow_generic(ST_MAXROW_FULL_ARGS) {
    if (lo > ow0) maxpool_border(g, xp, ih0, ki0, ki1, ow0, lo, y, idx);
    if (hi > lo) st_maxpool_row_generic(g, xp, ih0, ki0, ki1, lo, hi, y, idx);
    if (ow1 > hi) maxpool_border(g, xp, ih0, ki0, ki1, hi, ow1, y, idx);
}

/* PyTorch's average-pool window for output (oh, ow): clipped bounds and divisor. */
typedef struct {
    int64_t h0, h1, w0, w1;
    float inv_div;
} avg_win;

static avg_win avg_window(const st_pool2d_geom *g, int64_t oh, int64_t ow, int cip,
                          int64_t divisor_override) {
    avg_win a;
    int64_t h0 = oh * g->sh - g->ph, w0 = ow * g->sw - g->pw;
    int64_t h1 = h0 + g->kh, w1 = w0 + g->kw;
    if (h1 > g->H + g->ph) h1 = g->H + g->ph;
    if (w1 > g->W + g->pw) w1 = g->W + g->pw;
    const int64_t pool_size = (h1 - h0) * (w1 - w0);
    if (h0 < 0) h0 = 0;
    if (w0 < 0) w0 = 0;
    if (h1 > g->H) h1 = g->H;
    if (w1 > g->W) w1 = g->W;
    int64_t div;
    if (divisor_override != 0)
        div = divisor_override;
    else if (cip)
        div = pool_size;
    else
        div = (h1 - h0) * (w1 - w0);
    a.h0 = h0;
    a.h1 = h1;
    a.w0 = w0;
    a.w1 = w1;
    a.inv_div = (h0 >= h1 || w0 >= w1 || div == 0) ? 0.f : 1.f / (float)div;
    return a;
}

static void avgpool_border(const st_pool2d_geom *g, const float *xp, int64_t oh, int64_t ow0,
                           int64_t ow1, int cip, int64_t dov, float *y) {
    for (int64_t ow = ow0; ow < ow1; ++ow) {
        const avg_win a = avg_window(g, oh, ow, cip, dov);
        float s = 0.f;
        for (int64_t ih = a.h0; ih < a.h1; ++ih)
            for (int64_t iw = a.w0; iw < a.w1; ++iw) s += xp[ih * g->W + iw];
        y[ow] = (a.h0 >= a.h1 || a.w0 >= a.w1) ? 0.f : s * a.inv_div;
    }
}

/* ---- drivers ------------------------------------------------------------------------------- */

void st_maxpool_rows_generic(ST_MAXROWS_ARGS) {
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        float *yr = yp + oh * g->Wo;
        int32_t *ir = ip + oh * g->Wo;
        const int64_t ih0 = oh * g->sh - g->ph;
        int ki0, ki1;
        st_pool_row_taps(g, ih0, g->dh, &ki0, &ki1);
        if (ki0 >= ki1) { /* no window row inside the input (dilation only) */
            for (int64_t ow = 0; ow < g->Wo; ++ow) {
                yr[ow] = -INFINITY;
                ir[ow] = -1;
            }
            continue;
        }
        st_maxpool_fullrow_generic(g, xp, ih0, ki0, ki1, 0, g->Wo, lo, hi, yr, ir);
    }
}

int st_maxpool2d_f32(const st_pool2d_geom *g, int64_t P, const float *x, float *y,
                     int32_t *idx) {
    const int64_t HW = g->H * g->W, HWo = g->Ho * g->Wo;
    const maxrow_fn rows = pick_maxrow();
    int64_t lo, hi, rpt;
    interior_cols(g, g->dw, &lo, &hi);
    const int64_t split = row_split(P, g->Ho, &rpt), tasks = P * split;
    const int64_t work = P * HWo * g->kh * g->kw, chunk = task_size(tasks);
    (void)work;
    (void)chunk;
#pragma omp parallel for schedule(dynamic, chunk) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t t = 0; t < tasks; ++t) {
        const int64_t p = t / split, oh0 = (t % split) * rpt;
        const int64_t oh1 = oh0 + rpt < g->Ho ? oh0 + rpt : g->Ho;
        rows(g, x + p * HW, oh0, oh1, lo, hi, y + p * HWo, idx + p * HWo);
    }
    return ST_OK;
}

int st_maxpool2d_backward_f32(const st_pool2d_geom *g, int64_t P, const float *gy,
                              const int32_t *idx, float *gx) {
    const int64_t HW = g->H * g->W, HWo = g->Ho * g->Wo;
    const int64_t work = P * (HW + HWo);
    const int64_t chunk = task_size(P);
    (void)work;
    (void)chunk;
#pragma omp parallel for schedule(dynamic, chunk) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t p = 0; p < P; ++p) {
        float *gxp = gx + p * HW;
        const float *gyp = gy + p * HWo;
        const int32_t *ip = idx + p * HWo;
        memset(gxp, 0, (size_t)HW * sizeof(float));
        for (int64_t o = 0; o < HWo; ++o) {
            const int32_t i = ip[o];
            if ((uint64_t)(int64_t)i < (uint64_t)HW) gxp[i] += gyp[o];
        }
    }
    return ST_OK;
}

void st_avgpool_rows_generic(ST_AVGROWS_ARGS) {
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        const int64_t ih0 = oh * g->sh - g->ph;
        int ki0, ki1;
        st_pool_row_taps(g, ih0, 1, &ki0, &ki1);
        if (ki0 < ki1)
            st_avgpool_row_generic(g, xp, ih0, ki0, ki1, lo, hi, row_inv[oh], yp + oh * g->Wo);
    }
}

int st_avgpool2d_f32(const st_pool2d_geom *g, int64_t P, int count_include_pad,
                     int64_t divisor_override, const float *x, float *y) {
    const int64_t HW = g->H * g->W, HWo = g->Ho * g->Wo;
    const avgrow_fn rows = pick_avgrow();
    int64_t lo, hi, rpt;
    interior_cols(g, 1, &lo, &hi);
    /* Reciprocal divisor of each output row's interior windows (the same for every plane). */
    float *row_inv = (float *)st_workspace(ST_WS_AUX, (size_t)g->Ho * sizeof(float));
    if (!row_inv) return ST_ENOMEM;
    for (int64_t oh = 0; oh < g->Ho; ++oh)
        row_inv[oh] = hi > lo ? avg_window(g, oh, lo, count_include_pad, divisor_override).inv_div
                              : 0.f;
    const int64_t split = row_split(P, g->Ho, &rpt), tasks = P * split;
    const int64_t work = P * HWo * g->kh * g->kw, chunk = task_size(tasks);
    (void)work;
    (void)chunk;
#pragma omp parallel for schedule(dynamic, chunk) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t t = 0; t < tasks; ++t) {
        const int64_t p = t / split, oh0 = (t % split) * rpt;
        const int64_t oh1 = oh0 + rpt < g->Ho ? oh0 + rpt : g->Ho;
        const float *xp = x + p * HW;
        float *yp = y + p * HWo;
        if (hi > lo) rows(g, xp, oh0, oh1, lo, hi, row_inv, yp);
        for (int64_t oh = oh0; oh < oh1; ++oh) {
            float *yr = yp + oh * g->Wo;
            int ki0, ki1;
            st_pool_row_taps(g, oh * g->sh - g->ph, 1, &ki0, &ki1);
            if (ki0 >= ki1 || hi <= lo) {
                avgpool_border(g, xp, oh, 0, g->Wo, count_include_pad, divisor_override, yr);
                continue;
            }
            avgpool_border(g, xp, oh, 0, lo, count_include_pad, divisor_override, yr);
            avgpool_border(g, xp, oh, hi, g->Wo, count_include_pad, divisor_override, yr);
        }
    }
    return ST_OK;
}

int st_avgpool2d_backward_f32(const st_pool2d_geom *g, int64_t P, int count_include_pad,
                              int64_t divisor_override, const float *gy, float *gx) {
    const int64_t HW = g->H * g->W, Ho = g->Ho, Wo = g->Wo, HWo = Ho * Wo;
    /* Window bounds per output row / column and the reciprocal divisor per output, the same
     * for every plane: tabulated once (one workspace, read by every thread). */
    const size_t tab = (size_t)(2 * Ho + 2 * Wo) * sizeof(int64_t);
    char *ws = (char *)st_workspace(ST_WS_AUX, tab + (size_t)HWo * sizeof(float));
    if (!ws) return ST_ENOMEM;
    int64_t *h0 = (int64_t *)ws, *h1 = h0 + Ho, *w0 = h1 + Ho, *w1 = w0 + Wo;
    float *inv = (float *)(ws + tab);
    for (int64_t oh = 0; oh < Ho; ++oh) {
        const avg_win a = avg_window(g, oh, 0, count_include_pad, divisor_override);
        h0[oh] = a.h0;
        h1[oh] = a.h1;
    }
    for (int64_t ow = 0; ow < Wo; ++ow) {
        const avg_win a = avg_window(g, 0, ow, count_include_pad, divisor_override);
        w0[ow] = a.w0;
        w1[ow] = a.w1;
    }
    for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow)
            inv[oh * Wo + ow] = avg_window(g, oh, ow, count_include_pad, divisor_override).inv_div;
    int64_t lo, hi;
    interior_cols(g, 1, &lo, &hi);
    const int64_t sw = g->sw;
    const int64_t work = P * (HW + HWo * g->kh * g->kw);
    const int64_t chunk = task_size(P);
    (void)work;
    (void)chunk;
#pragma omp parallel for schedule(dynamic, chunk) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t p = 0; p < P; ++p) {
        float *gxp = gx + p * HW;
        const float *gyp = gy + p * HWo;
        memset(gxp, 0, (size_t)HW * sizeof(float));
        for (int64_t oh = 0; oh < Ho; ++oh) {
            const float *gr = gyp + oh * Wo, *ir = inv + oh * Wo;
            for (int64_t ih = h0[oh]; ih < h1[oh]; ++ih) {
                float *r = gxp + ih * g->W;
                for (int64_t ow = 0; ow < lo; ++ow) { /* border columns: clipped windows */
                    const float v = gr[ow] * ir[ow];
                    for (int64_t iw = w0[ow]; iw < w1[ow]; ++iw) r[iw] += v;
                }
                for (int64_t ow = hi; ow < Wo; ++ow) {
                    const float v = gr[ow] * ir[ow];
                    for (int64_t iw = w0[ow]; iw < w1[ow]; ++iw) r[iw] += v;
                }
                /* Interior columns: taps outer, a plain strided loop per tap. */
                for (int kj = 0; kj < g->kw; ++kj) {
                    float *rk = r - g->pw + kj;
                    for (int64_t ow = lo; ow < hi; ++ow) rk[ow * sw] += gr[ow] * ir[ow];
                }
            }
        }
    }
    return ST_OK;
}

void st_plane_sums_f32(int64_t P, int64_t HW, const float *x, float *sums) {
    const sum_fn sum = pick_sum();
    const int64_t work = P * HW;
    const int64_t chunk = task_size(P);
    (void)work;
    (void)chunk;
#pragma omp parallel for schedule(dynamic, chunk) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t p = 0; p < P; ++p) sums[p] = sum(x + p * HW, HW);
}

int st_global_avgpool2d_f32(int64_t P, int64_t HW, const float *x, float *y) {
    const float inv = HW > 0 ? 1.f / (float)HW : 0.f;
    st_plane_sums_f32(P, HW, x, y);
    for (int64_t p = 0; p < P; ++p) y[p] *= inv;
    return ST_OK;
}

int st_global_avgpool2d_backward_f32(int64_t P, int64_t HW, const float *gy, float *gx) {
    const float inv = HW > 0 ? 1.f / (float)HW : 0.f;
    const int64_t work = P * HW;
    const int64_t chunk = task_size(P);
    (void)work;
    (void)chunk;
#pragma omp parallel for schedule(dynamic, chunk) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t p = 0; p < P; ++p) {
        const float v = gy[p] * inv;
        float *r = gx + p * HW;
        for (int64_t i = 0; i < HW; ++i) r[i] = v;
    }
    return ST_OK;
}
