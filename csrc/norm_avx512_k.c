/* AVX-512 primitives of the normalisation family: the plain loops of norm_body.inc, which the
 * compiler vectorises with this file's flags, and the exact (erf) GELU and the sigmoid family
 * of norm_gelu_simd.h (2^n by vscalefps). */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "norm_isa.h"
#include "simd_avx512.h"

#define ST_SFX avx512
#define ST_NORM_OWN_TABLE
#include "norm_body.inc"

enum { VL = 16 };


#define V __m512
#define GV 4
#define VMASK __mmask16
#define VLANES(r) st_avx512_lanes((r) > 0 ? (r) : 0)
#define VLOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define VSTOREM(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define VLOADU(p) _mm512_loadu_ps(p)
#define VSTOREU(p, v) _mm512_storeu_ps((p), (v))
#define VSET(c) _mm512_set1_ps(c)
#define VZERO() _mm512_setzero_ps()
#define VADD _mm512_add_ps
#define VSUB _mm512_sub_ps
#define VMUL _mm512_mul_ps
#define VMIN _mm512_min_ps
#define VMAX _mm512_max_ps
#define VABS _mm512_abs_ps
#define VFMA _mm512_fmadd_ps
#define VFNMA _mm512_fnmadd_ps
#define VFMS _mm512_fmsub_ps
#define VRCP _mm512_rcp14_ps
#define VROUND(x) _mm512_roundscale_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define EXP_LO (-104.f)
#define VSCALE2N(p, n) _mm512_scalef_ps((p), (n)) /* underflows gracefully to 0 */
#define VEXP_FLUSH(r, xin) ((void)(xin), (r)) /* vscalefps underflows to 0 itself */
#define VSEL_NONNEG(x, a, b) \
    _mm512_mask_mov_ps((b), _mm512_cmp_ps_mask((x), _mm512_setzero_ps(), _CMP_NLT_UQ), (a))
#define VNABS(x) _mm512_or_ps((x), _mm512_set1_ps(-0.f))
#include "norm_gelu_simd.h"

const st_norm_ops st_norm_ops_avx512 = {
    sum_avx512,     sqdev_avx512,   dot_avx512, affine_avx512, lincomb_avx512,
    ln_apply_avx512, ln_sums_avx512, ln_bwd_avx512, gelu_fast,  gelu_bwd_fast,
    silu_fast,    silu_bwd_fast, sigmoid_fast};
