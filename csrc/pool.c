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

/* Work (in window taps or elements) below which a call stays on one thread. */
enum { ST_POOL_PAR_MIN_WORK = 32768 };

typedef void (*maxrow_fn)(ST_POOL_ROW_ARGS, float *, int32_t *);
typedef void (*avgrow_fn)(ST_POOL_ROW_ARGS, float, float *);
typedef float (*sum_fn)(const float *, int64_t);

static maxrow_fn pick_maxrow(void) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: return st_maxpool_row_avx512;
    case ST_ARCH_AVX2: return st_maxpool_row_avx2;
    default: return st_maxpool_row_generic;
    }
}

static avgrow_fn pick_avgrow(void) {
    switch (st_arch_get()) {
    case ST_ARCH_AVX512: return st_avgpool_row_avx512;
    case ST_ARCH_AVX2: return st_avgpool_row_avx2;
    default: return st_avgpool_row_generic;
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
    const int64_t W = g->W;
    for (int64_t ow = ow0; ow < ow1; ++ow) {
        const int64_t iw0 = ow * g->sw - g->pw;
        int64_t mi = (ih0 + (int64_t)ki0 * g->dh) * W + iw0;
        float m = xp[mi];
        for (int ki = ki0; ki < ki1; ++ki) {
            const int64_t rbase = (ih0 + (int64_t)ki * g->dh) * W + iw0;
            for (int kj = (ki == ki0); kj < g->kw; ++kj) {
                const int64_t i = rbase + (int64_t)kj * g->dw;
                const float v = xp[i];
                if (v > m || isnan(v)) {
                    m = v;
                    mi = i;
                }
            }
        }
        y[ow] = m;
        idx[ow] = (int32_t)mi;
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

/* Valid window rows of output row oh: ki in [*ki0, *ki1) (empty when *ki0 >= *ki1). */
static void row_taps(const st_pool2d_geom *g, int64_t ih0, int dh, int *ki0, int *ki1) {
    int64_t a = 0, b;
    if (ih0 < 0) a = (-ih0 + dh - 1) / dh;
    if (ih0 > g->H - 1)
        b = 0;
    else
        b = (g->H - 1 - ih0) / dh + 1;
    if (b > g->kh) b = g->kh;
    *ki0 = (int)a;
    *ki1 = (int)(a > b ? a : b);
}

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
                if (mi < 0 || v > m || isnan(v)) {
                    m = v;
                    mi = ih * W + iw;
                }
            }
        }
        y[ow] = m;
        idx[ow] = (int32_t)mi;
    }
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

int st_maxpool2d_f32(const st_pool2d_geom *g, int64_t P, const float *x, float *y,
                     int32_t *idx) {
    const int64_t rows = P * g->Ho, HW = g->H * g->W;
    const maxrow_fn row = pick_maxrow();
    int64_t lo, hi;
    interior_cols(g, g->dw, &lo, &hi);
    const int64_t work = rows * g->Wo * g->kh * g->kw;
    (void)work;
#pragma omp parallel for schedule(static) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t p = r / g->Ho, oh = r % g->Ho;
        const float *xp = x + p * HW;
        float *yr = y + r * g->Wo;
        int32_t *ir = idx + r * g->Wo;
        const int64_t ih0 = oh * g->sh - g->ph;
        int ki0, ki1;
        row_taps(g, ih0, g->dh, &ki0, &ki1);
        if (ki0 >= ki1) { /* no window row inside the input (dilation only) */
            for (int64_t ow = 0; ow < g->Wo; ++ow) {
                yr[ow] = -INFINITY;
                ir[ow] = -1;
            }
            continue;
        }
        maxpool_border(g, xp, ih0, ki0, ki1, 0, lo, yr, ir);
        if (hi > lo) row(g, xp, ih0, ki0, ki1, lo, hi, yr, ir);
        maxpool_border(g, xp, ih0, ki0, ki1, hi, g->Wo, yr, ir);
    }
    return ST_OK;
}

int st_maxpool2d_backward_f32(const st_pool2d_geom *g, int64_t P, const float *gy,
                              const int32_t *idx, float *gx) {
    const int64_t HW = g->H * g->W, HWo = g->Ho * g->Wo;
    const int64_t work = P * (HW + HWo);
    (void)work;
#pragma omp parallel for schedule(static) if (work > ST_POOL_PAR_MIN_WORK)
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

int st_avgpool2d_f32(const st_pool2d_geom *g, int64_t P, int count_include_pad,
                     int64_t divisor_override, const float *x, float *y) {
    const int64_t rows = P * g->Ho, HW = g->H * g->W;
    const avgrow_fn row = pick_avgrow();
    int64_t lo, hi;
    interior_cols(g, 1, &lo, &hi);
    const int64_t work = rows * g->Wo * g->kh * g->kw;
    (void)work;
#pragma omp parallel for schedule(static) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t p = r / g->Ho, oh = r % g->Ho;
        const float *xp = x + p * HW;
        float *yr = y + r * g->Wo;
        const int64_t ih0 = oh * g->sh - g->ph;
        int ki0, ki1;
        row_taps(g, ih0, 1, &ki0, &ki1);
        if (ki0 >= ki1 || hi <= lo) {
            avgpool_border(g, xp, oh, 0, g->Wo, count_include_pad, divisor_override, yr);
            continue;
        }
        avgpool_border(g, xp, oh, 0, lo, count_include_pad, divisor_override, yr);
        /* Interior columns share one divisor per row. */
        const avg_win a = avg_window(g, oh, lo, count_include_pad, divisor_override);
        row(g, xp, ih0, ki0, ki1, lo, hi, a.inv_div, yr);
        avgpool_border(g, xp, oh, hi, g->Wo, count_include_pad, divisor_override, yr);
    }
    return ST_OK;
}

int st_avgpool2d_backward_f32(const st_pool2d_geom *g, int64_t P, int count_include_pad,
                              int64_t divisor_override, const float *gy, float *gx) {
    const int64_t HW = g->H * g->W, HWo = g->Ho * g->Wo;
    const int64_t work = P * (HW + HWo * g->kh * g->kw);
    (void)work;
#pragma omp parallel for schedule(static) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t p = 0; p < P; ++p) {
        float *gxp = gx + p * HW;
        const float *gyp = gy + p * HWo;
        memset(gxp, 0, (size_t)HW * sizeof(float));
        for (int64_t oh = 0; oh < g->Ho; ++oh)
            for (int64_t ow = 0; ow < g->Wo; ++ow) {
                const avg_win a = avg_window(g, oh, ow, count_include_pad, divisor_override);
                const float v = gyp[oh * g->Wo + ow] * a.inv_div;
                for (int64_t ih = a.h0; ih < a.h1; ++ih) {
                    float *r = gxp + ih * g->W;
                    for (int64_t iw = a.w0; iw < a.w1; ++iw) r[iw] += v;
                }
            }
    }
    return ST_OK;
}

int st_global_avgpool2d_f32(int64_t P, int64_t HW, const float *x, float *y) {
    const sum_fn sum = pick_sum();
    const float inv = HW > 0 ? 1.f / (float)HW : 0.f;
    const int64_t work = P * HW;
    (void)work;
#pragma omp parallel for schedule(static) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t p = 0; p < P; ++p) y[p] = sum(x + p * HW, HW) * inv;
    return ST_OK;
}

int st_global_avgpool2d_backward_f32(int64_t P, int64_t HW, const float *gy, float *gx) {
    const float inv = HW > 0 ? 1.f / (float)HW : 0.f;
    const int64_t work = P * HW;
    (void)work;
#pragma omp parallel for schedule(static) if (work > ST_POOL_PAR_MIN_WORK)
    for (int64_t p = 0; p < P; ++p) {
        const float v = gy[p] * inv;
        float *r = gx + p * HW;
        for (int64_t i = 0; i < HW; ++i) r[i] = v;
    }
    return ST_OK;
}
