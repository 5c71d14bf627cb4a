/* striate SGEMM driver: BLIS-style packed, cache-blocked C = alpha * op(A) @ op(B) + beta * C
 * (row-major).
 *
 * Five loops around a register-tile micro-kernel:
 *   jc over N in NC blocks      packed B block (KC x NC) shared by all threads (L3)
 *    pc over K in KC blocks     B packed cooperatively into NR-column micro-panels
 *     ic over M in MC blocks    A block (MC x KC) packed per thread into MR-row micro-panels (L2)
 *      jr over NR panels        B micro-panel (KC x NR)
 *       ir over MR panels       micro-kernel: MR x NR tile in registers
 * Partial panels are zero-padded when packed; the micro-kernels write only the valid part of a
 * partial tile (masked stores), and a partial last row panel runs an m-row edge kernel, so
 * nothing outside A, B or C is touched and M % MR rows cost only their share.
 *
 * Variants by shape (each sums every C element in the same order as the plain path):
 *   - few rows (M <= BDIR_MAX_M, B not transposed): B is read in place, not packed;
 *   - each thread's rows fit one MC block: B micro-panels are packed just in time by the thread
 *     that uses them (B_JIT), no shared block, no barrier;
 *   - threads that share no columns, or a narrow B: each thread packs its own columns of B
 *     (B_PRIVATE), no barrier;
 *   - narrow products (N <= SKINNY_N): a 16-wide tile that reads full row tiles of A in place.
 *
 * Threads: one parallel region per call.  C is partitioned on a tm x tn grid of MR-row and
 * NR-column panels (the grid minimising the largest share); in the shared mode each k block of
 * B is packed by all threads into one double buffer taken from the master's workspace (one
 * barrier per k block), then each thread packs its rows of A into its own workspace and runs
 * its tiles.  Every C element is summed in the same order whatever the thread count, so
 * results do not depend on it.  Small products run serially.
 *
 * Block sizes live in per-ISA tables (CFG_MAIN, CFG_SKINNY) measured on an AMD Zen 4 (32 KiB
 * L1d, 1 MiB L2 per core). */
#include <stdlib.h>
#include <string.h>

#include "sgemm_kernels.h"
#include "striate/gemm.h"
#include "striate/runtime.h"

#if STRIATE_OPENMP
#include <omp.h>
#endif

typedef struct {
    int mr, nr;          /* register tile */
    int64_t mc, kc, nc;  /* cache blocks: mc multiple of mr, nc multiple of nr */
    st_sgemm_ukr_fn ukr;
    st_sgemm_pack_fn pack;
    const char *name;
    st_sgemm_ukr_rows_fn ukr_rows; /* optional: full MR-row tiles of a non-transposed A read
                                      in place, without packing */
    const st_sgemm_ukr_fn *edge;   /* optional: edge[m] computes only m < MR rows of a panel */
    st_sgemm_ukr_bdir_fn ukr_bdir; /* optional: reads a non-transposed B in place, used when
                                      M <= BDIR_MAX_M (B packing would not be amortised) */
    const st_sgemm_ukr_bdir_fn *bdir_edge; /* its m-row edges, like edge */
} gemm_cfg;

/* Products with at most this many rows read a non-transposed B in place when the path has a
 * kernel for it: each B element is used only M times, so packing it costs too much. */
#define BDIR_MAX_M 64

/* Main kernel of each ISA path. */
static const gemm_cfg CFG_MAIN[ST_ARCH_COUNT] = {
    /*                  mr  nr   mc   kc    nc   micro-kernel / packing */
    [ST_ARCH_GENERIC] = {4, 8, 128, 256, 4096, st_sgemm_ukr_generic_4x8, st_sgemm_pack_generic,
                         "sgemm_generic_4x8"},
    [ST_ARCH_AVX2] = {6, 16, 192, 256, 4096, st_sgemm_ukr_avx2_6x16, st_sgemm_pack_avx2,
                      "sgemm_avx2_6x16", NULL, st_sgemm_ukr_avx2_6x16_edge},
    [ST_ARCH_AVX512] = {14, 32, 112, 512, 4096, st_sgemm_ukr_avx512_14x32, st_sgemm_pack_avx512,
                        "sgemm_avx512_14x32", NULL, st_sgemm_ukr_avx512_14x32_edge,
                        st_sgemm_ukr_avx512_14x32_bdirect,
                        st_sgemm_ukr_avx512_14x32_bdirect_edge},
};

/* Kernel for narrow products (N <= SKINNY_N), e.g. conv512x4608x16: each element of A is used
 * only N times, so full row tiles read A in place (ukr_rows) instead of packing it.  On
 * AVX-512 the AVX2 6 x 16 tile wins here: it streams 6 rows of A at a time, where a 24 x 16
 * zmm tile (measured: 75 vs 105 GFLOP/s on Zen 4) streams 24 and defeats the prefetchers. */
#define SKINNY_N 16
static const gemm_cfg CFG_SKINNY[ST_ARCH_COUNT] = {
    [ST_ARCH_GENERIC] = {4, 8, 128, 256, 4096, st_sgemm_ukr_generic_4x8, st_sgemm_pack_generic,
                         "sgemm_generic_4x8"},
    [ST_ARCH_AVX2] = {6, 16, 192, 1024, 4096, st_sgemm_ukr_avx2_6x16, st_sgemm_pack_avx2,
                      "sgemm_avx2_6x16", st_sgemm_ukr_avx2_6x16_rows, st_sgemm_ukr_avx2_6x16_edge},
    [ST_ARCH_AVX512] = {6, 16, 192, 1024, 4096, st_sgemm_ukr_avx2_6x16, st_sgemm_pack_avx512,
                        "sgemm_avx2_6x16", st_sgemm_ukr_avx2_6x16_rows,
                        st_sgemm_ukr_avx2_6x16_edge},
};

/* Products below this many flops (2*M*N*K) run on one thread; above, each thread gets at
 * least this much work. */
#define PAR_MIN_FLOPS 4.0e6

static const gemm_cfg *pick_cfg(int64_t N) {
    int arch = st_arch_get();
    if (arch < 0 || arch >= ST_ARCH_COUNT) arch = ST_ARCH_GENERIC;
    return N <= SKINNY_N ? &CFG_SKINNY[arch] : &CFG_MAIN[arch];
}

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* ---- packing ----------------------------------------------------------------------------- */

/* Portable packing (see st_sgemm_pack_fn); the AVX-512 path has its own in
 * sgemm_avx512_pack.c.  R is a compile-time constant in the common cases so the compiler can
 * unroll and vectorise. */
static inline void pack_generic_r(int kmajor, int64_t kc, int n, const float *src, int64_t ld,
                                  float *restrict dst, const int R) {
    if (kmajor) {
        for (int64_t k = 0; k < kc; ++k) {
            const float *s = src + k * ld;
            float *d = dst + k * R;
            if (n == R) {
                for (int r = 0; r < R; ++r) d[r] = s[r];
            } else {
                for (int r = 0; r < n; ++r) d[r] = s[r];
                for (int r = n; r < R; ++r) d[r] = 0.f;
            }
        }
        return;
    }
    /* row layout: read each source row contiguously, write with stride R */
    for (int r = 0; r < n; ++r) {
        const float *s = src + (int64_t)r * ld;
        for (int64_t k = 0; k < kc; ++k) dst[k * R + r] = s[k];
    }
    for (int r = n; r < R; ++r)
        for (int64_t k = 0; k < kc; ++k) dst[k * R + r] = 0.f;
}

void st_sgemm_pack_generic(int kmajor, int64_t kc, int n, int R, const float *src, int64_t ld,
                           float *dst) {
    switch (R) {
    case 4: pack_generic_r(kmajor, kc, n, src, ld, dst, 4); break;
    case 6: pack_generic_r(kmajor, kc, n, src, ld, dst, 6); break;
    case 8: pack_generic_r(kmajor, kc, n, src, ld, dst, 8); break;
    default: pack_generic_r(kmajor, kc, n, src, ld, dst, R); break;
    }
}

/* ---- the blocked product ---------------------------------------------------------------- */

typedef struct {
    const gemm_cfg *cfg;
    int ta, tb;
    int64_t M, N, K;
    float alpha, beta;
    const float *A, *B;
    int64_t lda, ldb, ldc;
    float *C;
    float *pack_b;  /* shared KC x round_up(min(N, NC), NR) buffer (two of them when threaded) */
    int64_t b_stride; /* floats between the two B buffers (0: a single buffer) */
    int tm, tn;     /* thread grid */
    int bmode;      /* B_SHARED, B_PRIVATE, B_JIT or B_DIRECT */
} gemm_job;

/* How B reaches the micro-kernel:
 *   B_SHARED  each k block of B is packed by all threads into one shared buffer (barrier)
 *   B_PRIVATE each thread packs the B panels of its own columns into its own buffer, no
 *             barrier: when threads share no columns (tm == 1) or B is narrow (N <= SKINNY_N),
 *             so repeating the packing costs little; a barrier per k block would make every
 *             thread wait for any one that the OS has descheduled
 *   B_JIT     each thread packs a B micro-panel just before its tiles use it (own buffer, no
 *             barrier): when every thread's rows fit one MC block, a shared block would only
 *             round-trip through L3
 *   B_DIRECT  a non-transposed B is read in place by cfg->ukr_bdir (no packing) */
enum { B_SHARED = 0, B_JIT = 1, B_DIRECT = 2, B_PRIVATE = 3 };

static inline const float *a_at(const gemm_job *J, int64_t i, int64_t k) {
    return J->ta ? J->A + k * J->lda + i : J->A + i * J->lda + k;
}

static inline const float *b_at(const gemm_job *J, int64_t k, int64_t j) {
    return J->tb ? J->B + j * J->ldb + k : J->B + k * J->ldb + j;
}

/* The share of thread `tid` of `nt`; pack_a (and, in B_JIT and B_PRIVATE modes, pack_b_own) is
 * that thread's own workspace.  Barriers only in B_SHARED mode with nt > 1, so the serial path may run
 * inside a caller's parallel region. */
static void gemm_thread(const gemm_job *J, int tid, int nt, float *pack_a_buf,
                        float *pack_b_own) {
    const gemm_cfg *cf = J->cfg;
    const int mr = cf->mr, nr = cf->nr;
    const int ti = tid / J->tn, tj = tid % J->tn;
    const int64_t mp = cdiv(J->M, mr);
    const int64_t m0 = (ti * mp / J->tm) * mr, m1 = min64(J->M, ((ti + 1) * mp / J->tm) * mr);

    int64_t step = 0; /* k blocks done: selects the shared B buffer */
    for (int64_t jc = 0; jc < J->N; jc += cf->nc) {
        const int64_t nc = min64(cf->nc, J->N - jc), np = cdiv(nc, nr);
        const int64_t q0 = tj * np / J->tn, q1 = (tj + 1) * np / J->tn;
        for (int64_t pc = 0; pc < J->K; pc += cf->kc) {
            const int64_t kc = min64(cf->kc, J->K - pc);
            const float beta = pc == 0 ? J->beta : 1.f;
            /* B_SHARED: every thread packs its share of the B panels, then waits for the
             * others.  B alternates between two buffers, so one barrier per k block suffices:
             * a thread past this barrier knows all have finished the block before last, the
             * previous user of the buffer it will pack next. */
            float *pb = NULL;
            if (J->bmode == B_PRIVATE) {
                for (int64_t q = q0; q < q1; ++q)
                    cf->pack(!J->tb, kc, (int)min64(nr, nc - q * nr), nr,
                             b_at(J, pc, jc + q * nr), J->ldb, pack_b_own + (q - q0) * nr * kc);
            } else if (J->bmode == B_SHARED) {
                pb = J->pack_b + (step++ & 1) * J->b_stride;
                for (int64_t q = tid * np / nt; q < (tid + 1) * np / nt; ++q)
                    cf->pack(!J->tb, kc, (int)min64(nr, nc - q * nr), nr,
                             b_at(J, pc, jc + q * nr), J->ldb, pb + q * nr * kc);
                if (nt > 1) {
#pragma omp barrier
                }
            }
            for (int64_t ic = m0; ic < m1; ic += cf->mc) {
                const int64_t mc = min64(cf->mc, m1 - ic);
                /* rows [0, mdir) of the block are read in place, the rest packed */
                const int64_t mdir =
                    (cf->ukr_rows && !J->ta && J->bmode != B_DIRECT) ? mc / mr * mr : 0;
                for (int64_t ip = mdir; ip < mc; ip += mr)
                    cf->pack(J->ta, kc, (int)min64(mr, mc - ip), mr, a_at(J, ic + ip, pc),
                             J->lda, pack_a_buf + ip * kc);
                for (int64_t q = q0; q < q1; ++q) {
                    const int n = (int)min64(nr, nc - q * nr);
                    float *cp = J->C + ic * J->ldc + jc + q * nr;
                    if (J->bmode == B_DIRECT) {
                        const float *bq = b_at(J, pc, jc + q * nr);
                        for (int64_t ip = 0; ip < mc; ip += mr) {
                            const int m = (int)min64(mr, mc - ip);
                            const st_sgemm_ukr_bdir_fn ukr =
                                (m < mr && cf->bdir_edge) ? cf->bdir_edge[m] : cf->ukr_bdir;
                            ukr(kc, pack_a_buf + ip * kc, bq, J->ldb, cp + ip * J->ldc, J->ldc, m,
                                n, J->alpha, beta);
                        }
                        continue;
                    }
                    const float *bp;
                    if (J->bmode == B_JIT) { /* pack this panel now, while it is hot */
                        cf->pack(!J->tb, kc, n, nr, b_at(J, pc, jc + q * nr), J->ldb,
                                 pack_b_own);
                        bp = pack_b_own;
                    } else if (J->bmode == B_PRIVATE) {
                        bp = pack_b_own + (q - q0) * nr * kc;
                    } else {
                        bp = pb + q * nr * kc;
                    }
                    for (int64_t ip = 0; ip < mdir; ip += mr)
                        cf->ukr_rows(kc, a_at(J, ic + ip, pc), J->lda, bp, cp + ip * J->ldc,
                                     J->ldc, n, J->alpha, beta);
                    for (int64_t ip = mdir; ip < mc; ip += mr) {
                        const int m = (int)min64(mr, mc - ip);
                        const st_sgemm_ukr_fn ukr = (m < mr && cf->edge) ? cf->edge[m] : cf->ukr;
                        ukr(kc, pack_a_buf + ip * kc, bp, cp + ip * J->ldc, J->ldc, m, n,
                            J->alpha, beta);
                    }
                }
            }
        }
    }
}

/* C = beta * C (K == 0 or alpha == 0: A and B are not read). */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; ++i) {
        float *c = C + i * ldc;
        if (beta == 0.f)
            memset(c, 0, (size_t)N * sizeof(float));
        else if (beta != 1.f)
            for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
}

/* Choose the tm x tn grid (tm * tn == nt) minimising the largest per-thread cost.  A thread
 * with r rows and c columns costs about r * (c + PACK_COST): its tiles (the edge kernels make
 * a partial row panel cost its rows; columns come in whole NR panels) plus packing its rows of
 * A, which threads of one grid row repeat.  Ties go to more row blocks (threads share B). */
#define PACK_COST 5
static void thread_grid(const gemm_cfg *cf, int64_t M, int64_t N, int nt, int *tm, int *tn) {
    const int64_t mp = cdiv(M, cf->mr), np = cdiv(min64(N, cf->nc), cf->nr);
    int64_t best = -1;
    for (int a = nt; a >= 1; --a) {
        if (nt % a) continue;
        const int b = nt / a;
        int64_t rows = 0;
        for (int t = 0; t < a; ++t) {
            const int64_t r0 = (t * mp / a) * cf->mr, r1 = min64(M, ((t + 1) * mp / a) * cf->mr);
            if (r1 - r0 > rows) rows = r1 - r0;
        }
        const int64_t cols = cdiv(np, b) * cf->nr;
        const int64_t cost = rows * (cols + PACK_COST);
        if (best < 0 || cost < best) {
            best = cost;
            *tm = a;
            *tn = b;
        }
    }
}

static int sgemm_impl(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                      float *C, int64_t ldc, int nt) {
    if (M <= 0 || N <= 0) return ST_OK;
    if (K <= 0 || alpha == 0.f) {
        scale_c(M, N, beta, C, ldc);
        return ST_OK;
    }
    const gemm_cfg *cf = pick_cfg(N);
    const double flops = 2.0 * (double)M * (double)N * (double)K;
    if (nt > 1 && flops < (double)nt * PAR_MIN_FLOPS) {
        int cap = (int)(flops / PAR_MIN_FLOPS);
        nt = cap < 1 ? 1 : cap;
    }
    gemm_job J = {cf, ta, tb, M, N, K, alpha, beta, A, B, lda, ldb, ldc, C, NULL, 0, 1, 1,
                  B_SHARED};
    if (nt > 1) thread_grid(cf, M, N, nt, &J.tm, &J.tn);
    if (cf->ukr_bdir && !tb && M <= BDIR_MAX_M)
        J.bmode = B_DIRECT;
    else if (cdiv(cdiv(M, cf->mr), J.tm) * cf->mr <= cf->mc)
        J.bmode = B_JIT;
    const size_t a_bytes = (size_t)cf->mc * (size_t)cf->kc * sizeof(float);
    if (J.bmode == B_SHARED && nt > 1 && (J.tm == 1 || N <= SKINNY_N)) J.bmode = B_PRIVATE;
    /* own B buffer: one panel (B_JIT) or the panels of the thread's columns (B_PRIVATE; all
     * of them when one thread ends up doing the whole product) */
    const size_t panel_bytes = (size_t)cf->kc * (size_t)cf->nr * sizeof(float);
    const int64_t np_all = cdiv(min64(N, cf->nc), cf->nr);
    const size_t jit_bytes = panel_bytes * (size_t)(J.bmode == B_PRIVATE ? cdiv(np_all, J.tn) : 1);
    const size_t solo_bytes = panel_bytes * (size_t)(J.bmode == B_PRIVATE ? np_all : 1);
    const int own_b = J.bmode == B_JIT || J.bmode == B_PRIVATE;
    if (J.bmode == B_SHARED) {
        const size_t b_bytes = (size_t)min64(cf->kc, K) *
                               (size_t)(cdiv(min64(N, cf->nc), cf->nr) * cf->nr) * sizeof(float);
        if (nt > 1) J.b_stride = (int64_t)(b_bytes / sizeof(float));
        J.pack_b = (float *)st_workspace(ST_WS_PACK_B, nt > 1 ? 2 * b_bytes : b_bytes);
        if (!J.pack_b) return ST_ENOMEM;
    }
    if (nt <= 1 || !STRIATE_OPENMP) {
        float *pa = (float *)st_workspace(ST_WS_PACK_A, a_bytes);
        float *pbj = own_b ? (float *)st_workspace(ST_WS_PACK_B, solo_bytes) : NULL;
        if (!pa || (own_b && !pbj)) return ST_ENOMEM;
        J.tm = J.tn = 1;
        gemm_thread(&J, 0, 1, pa, pbj);
        return ST_OK;
    }
    int failed = 0;
#if STRIATE_OPENMP
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num(), team = omp_get_num_threads();
        gemm_job Jt = J;
        if (team != nt) { /* fewer threads than asked (nested region): one thread does all */
            Jt.tm = Jt.tn = 1;
        }
        float *pa = (float *)st_workspace(ST_WS_PACK_A, a_bytes);
        float *pbj = own_b ? (float *)st_workspace(ST_WS_PACK_B,
                                                   team == nt ? jit_bytes : solo_bytes)
                           : NULL;
        if (!pa || (own_b && !pbj)) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        int f;
#pragma omp atomic read
        f = failed;
        if (!f) {
            if (team == nt)
                gemm_thread(&Jt, tid, team, pa, pbj);
            else if (tid == 0)
                gemm_thread(&Jt, 0, 1, pa, pbj);
        }
    }
#endif
    return failed ? ST_ENOMEM : ST_OK;
}

int st_sgemm_serial(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                    const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                    float *C, int64_t ldc) {
    return sgemm_impl(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1);
}

int st_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
             int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    int nt = 1;
#if STRIATE_OPENMP
    if (!omp_in_parallel()) nt = omp_get_max_threads();
#endif
    return sgemm_impl(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt);
}

void st_sgemm_get_info(int arch, st_gemm_info *info) {
    if (arch < 0 || arch >= ST_ARCH_COUNT) arch = ST_ARCH_GENERIC;
    const gemm_cfg *cf = &CFG_MAIN[arch];
    info->mr = cf->mr;
    info->nr = cf->nr;
    info->mc = cf->mc;
    info->kc = cf->kc;
    info->nc = cf->nc;
    info->kernel = cf->name;
}
