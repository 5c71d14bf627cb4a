/* striate 2-D convolution, NCHW float32: forward, backward-data, backward-weight, bias.
 *
 * Algorithms (chosen per call from the descriptor and the ISA path, never by the caller):
 *   - 3x3, stride 1, undilated, ungrouped, enough channels: Winograd F(4x4, 3x3) in all three
 *     directions (conv_winograd.c; see st_conv_set_winograd below for the rule and memory).
 *   - depthwise (groups == C > 1, any channel multiplier K / C): a direct
 *     kernel over zero-padded planes whose inner loops are compiled per ISA
 *     (conv_dw_impl.h; AVX-512 intrinsics in conv_avx512_dw.c), selected with st_arch_get().
 *     Workspace per thread: one padded plane plus one output plane.
 *   - AVX-512 and AVX2 paths, stride 1, other kernels (not 1x1): a direct kernel
 *     (conv_avx512_direct.c, conv_avx2_direct.c) for forward and backward-data that keeps
 *     8 output channels x 48 positions (AVX2: 4 x 24, twice) in registers.  Workspace per thread: one image-group's padded planes (C/groups or
 *     K/groups of them) plus 8 output planes; packed weights (K*(C/groups)*R*S floats,
 *     rounded up to multiples of 8 channels) in the calling thread's ST_WS_AUX.
 *   - AVX-512 and AVX2 paths, stride 1, at most 4 channels per group (a first layer on grey
 *     or colour images), backward-weight: the same shifted planes dotted with dY, which is
 *     read once, two output channels at a time (conv_avx512_direct.c, conv_avx2_direct.c,
 *     one body in conv_direct_dw_impl.h), the batch in up to 8 fixed parts with 16-lane
 *     partial sums (K*(C/groups)*R*S*16 floats each, ST_WS_AUX) added in order: results do
 *     not depend on the thread count.  Used only when both the planes and the parts' sums
 *     fit the chunk budget.
 *   - 1x1, stride 1, pad 0: per group, one batched GEMM (st_sgemm_batch) over the images
 *     directly on the NCHW tensors, no column matrix: Y[n] = W (Kg x Cg) @ X[n] (Cg x HW)
 *     and dX[n] = W^T @ dY[n] with W packed once per thread, threads taking images as they
 *     come; dW^T = sum_n X[n] @ dY[n]^T summed over up to 8 fixed parts of the batch (fewer
 *     when their partials, K*(C/groups) floats each in ST_WS_AUX, exceed the chunk budget),
 *     threads taking parts as they come, partials added in order: results do not depend on
 *     the thread count.
 *   - otherwise (and backward-weight always, except the cases above): im2col + GEMM per group,
 *     col2im for backward-data, GEMM with beta = 1 for backward-weight.  The column
 *     workspace a thread holds (slot ST_WS_COL) is at most
 *         max(chunk budget, (C/groups)*R*S * ST_CONV_MIN_TILE floats):
 *     an image whose column matrix exceeds the budget is done a tile of output positions
 *     at a time; images with fewer than ST_CONV_TARGET_COLS outputs whose column matrices
 *     fit the budget are batched into one column matrix (with a (K/groups) x columns
 *     staging matrix in ST_WS_AUX2) so one GEMM amortises the weight packing.  The budget
 *     is st_conv_get_chunk_bytes() (default ST_CONV_DEFAULT_CHUNK_BYTES = 8 MiB, settable
 *     with st_conv_set_chunk_bytes or the STRIATE_CONV_CHUNK_BYTES environment variable
 *     read at first use); results do not depend on it beyond float32 rounding.
 * Threads: when N >= threads each thread takes whole images (single-threaded GEMMs, its own
 * workspace); otherwise images run one after another with the GEMM threaded inside.  The
 * direct kernels split (image, group, block of 8 channels) units over the threads.
 * Backward-weight with batch parallelism gives each thread its own dW accumulator
 * (slot ST_WS_AUX, K*(C/groups)*R*S floats) and reduces them in a fixed order, so results
 * are deterministic for a given thread count.  No call allocates except through the
 * per-thread workspace cache (st_workspace), which is reused across calls. */
#ifndef STRIATE_CONV_H
#define STRIATE_CONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ST_CONV_DEFAULT_CHUNK_BYTES ((size_t)8 << 20)
#define ST_CONV_MIN_TILE 16 /* smallest tile of output positions per column matrix */
/* Columns one GEMM should see at least before small images are batched into one column
 * matrix (amortises packing the weights and the passes over dW). */
#define ST_CONV_TARGET_COLS 512

/* Shapes: x (N, C, H, W), w (K, C/groups, R, S), y (N, K, P, Q).  Output position (p, q)
 * reads input rows p*stride_h - pad_t + r*dil_h and columns q*stride_w - pad_l + s*dil_w;
 * positions outside [0, H) x [0, W) are zero padding, so the bottom/right padding is
 * implied by P and Q.  C and K are divisible by groups.  All sizes > 0. */
typedef struct {
    int64_t N, C, H, W;
    int64_t K, R, S;
    int64_t P, Q;
    int64_t stride_h, stride_w;
    int64_t pad_t, pad_l;
    int64_t dil_h, dil_w;
    int64_t groups;
} st_conv_desc;

/* y = conv(x, w) + bias (bias may be NULL).  y is overwritten. */
int st_conv2d_forward(const st_conv_desc *d, const float *x, const float *w, const float *bias,
                      float *y);
/* dx = d(conv)/dx^T dy; dx is overwritten. */
int st_conv2d_backward_data(const st_conv_desc *d, const float *dy, const float *w, float *dx);
/* dw = d(conv)/dw^T dy; dw is overwritten. */
int st_conv2d_backward_weight(const st_conv_desc *d, const float *dy, const float *x,
                              float *dw);
/* db[k] = sum over n, p, q of dy[n, k, p, q]; db is overwritten. */
int st_conv2d_backward_bias(const st_conv_desc *d, const float *dy, float *db);

/* The Winograd F(4x4, 3x3) path for 3x3, stride-1, undilated, ungrouped layers (forward,
 * backward-data, backward-weight): AUTO takes it where a cost model says it is faster (enough
 * channels on both sides, enough 4x4 output tiles); NEVER keeps im2col/direct; ALWAYS takes
 * it wherever it applies.
 * It needs 2.25 instead of 9 multiplies per output and tap, at the price of float32
 * rounding a few times larger (relative error ~1e-5 instead of ~1e-6).  Workspace: the
 * transformed kernels (36*K*C floats, slot ST_WS_AUX), a chunk of images' transformed
 * tiles (36*(C+K) floats per 4x4 output tile; half the chunk budget, or enough images for
 * 128 tiles, at least one image; slot ST_WS_COL) and, for backward-weight, the 36*K*C
 * accumulator (ST_WS_AUX).  Returns the old mode. */
enum { ST_WINOGRAD_NEVER = 0, ST_WINOGRAD_AUTO = 1, ST_WINOGRAD_ALWAYS = 2 };
int st_conv_set_winograd(int mode);
int st_conv_get_winograd(void);

/* Budget in bytes of one thread's column workspace; returns the previous value.  0 restores
 * the default. */
size_t st_conv_set_chunk_bytes(size_t bytes);
size_t st_conv_get_chunk_bytes(void);

#ifdef __cplusplus
}
#endif
#endif
