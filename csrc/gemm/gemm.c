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
 *   - narrow products (N <= SKINNY_N): a 16-wide tile that reads full row tiles of A in place;
 *   - a thread's row tiles meeting at most ROWS_MAX_PANELS column panels (a non-transposed A):
 *     full row tiles read in place where the path has such a kernel (AVX-512);
 *   - batches (st_sgemm_batch): a shared A is packed once, not per product.
 *
 * Threads: one parallel region per call.  C is partitioned on a tm x tn grid of MR-row and
 * NR-column panels (the grid minimising the largest share); in the shared mode each k block of
 * B is packed by all threads into one double buffer taken from the master's workspace (one
 * barrier per k block), then each thread packs its rows of A into its own workspace and runs
 * its tiles.  Every C element is summed in the same order whatever the thread count, so
 * results do not depend on it.  Small products run serially.
 *
 * Block sizes live in per-ISA tables (CFG_MAIN, CFG_SKINNY) measured on an AMD Zen 4 (32 KiB
 * L1d, 1 MiB L2 per core); the CPU also chooses: CFG_MAIN_AVX2_BIG_L1 on a 48 KiB L1d, and
 * on Zen 4 the AVX2 narrow-product entry on the AVX-512 path. */
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
                                      in place, without packing, when a thread's share of a
                                      column block has at most ROWS_MAX_PANELS NR panels */
    const st_sgemm_ukr_fn *edge;   /* optional: edge[m] computes only m < MR rows of a panel */
    st_sgemm_ukr_bdir_fn ukr_bdir; /* optional: reads a non-transposed B in place, used when
                                      M <= BDIR_MAX_M (B packing would not be amortised) */
    const st_sgemm_ukr_bdir_fn *bdir_edge; /* its m-row edges, like edge */
} gemm_cfg;

/* A row tile of A meeting at most this many column panels is read in place (ukr_rows): its
 * packing would not be amortised. */
#define ROWS_MAX_PANELS 2
/* ... unless (outside the narrow kernel) A's row stride is a multiple of this many floats
 * (4 KiB): the MR rows read side by side would all fall in one L1 set. */
#define ROWS_ALIAS_LD 1024

/* Products with at most this many rows read a non-transposed B in place when the path has a
 * kernel for it: each B element is used only M times, so packing it costs too much.  Not when
 * B's row stride is a multiple of ROWS_ALIAS_LD: the kc rows of a column panel would then share
 * one L1 set and miss on every reuse (Intel Xeon, 1 thread, 64x576x1024: 0.82-0.88 ms in place
 * against 0.71 packed; 64x576x1000: 0.66 in place, 0.79 packed). */
#define BDIR_MAX_M 64

/* Main kernel of each ISA path. */
static const gemm_cfg CFG_MAIN[ST_ARCH_COUNT] = {
    /*                  mr  nr   mc   kc    nc   micro-kernel / packing */
    [ST_ARCH_GENERIC] = {4, 8, 128, 256, 4096, st_sgemm_ukr_generic_4x8, st_sgemm_pack_generic,
                         "sgemm_generic_4x8"},
    [ST_ARCH_AVX2] = {6, 16, 192, 256, 4096, st_sgemm_ukr_avx2_6x16, st_sgemm_pack_avx2,
                      "sgemm_avx2_6x16", NULL, st_sgemm_ukr_avx2_6x16_edge},
    [ST_ARCH_AVX512] = {14, 32, 112, 512, 4096, st_sgemm_ukr_avx512_14x32, st_sgemm_pack_avx512,
                        "sgemm_avx512_14x32", st_sgemm_ukr_avx512_14x32_rows,
                        st_sgemm_ukr_avx512_14x32_edge,
                        st_sgemm_ukr_avx512_14x32_bdirect,
                        st_sgemm_ukr_avx512_14x32_bdirect_edge},
};

/* The AVX2 path on a CPU with at least 48 KiB of L1d (Intel since Ice Lake): KC = 512 keeps
 * the 32 KiB B micro-panel in L1 beside the streamed A panel, and C is read and written half
 * as often as with KC = 256, which a 32 KiB L1d needs (Intel Xeon, 48 KiB L1d, AVX2 path, 1
 * thread, GFLOP/s for n = 512 / 1024 / 2048: 92-102 / 87-92 / 68-71 at KC = 256, 92-94 /
 * 87-89 / 77-78 at 384, 98-101 / 94 / 82-83 at 512; OpenBLAS's Haswell kernel 96 / 95 / 97). */
#define BIG_L1D_BYTES (48 << 10)
static const gemm_cfg CFG_MAIN_AVX2_BIG_L1 = {6, 16, 192, 512, 4096, st_sgemm_ukr_avx2_6x16,
                                              st_sgemm_pack_avx2, "sgemm_avx2_6x16", NULL,
                                              st_sgemm_ukr_avx2_6x16_edge};

/* Kernel for narrow products (N <= SKINNY_N), e.g. conv512x4608x16 (a 3x3 conv of a 4x4 map at
 * batch 1): each element of A is used only N times, so full row tiles read A in place
 * (ukr_rows) instead of packing it, and the product is bound by broadcasting A.  On AVX-512
 * a 12 x 16 tile does one zmm FMA per broadcast (Intel Xeon, 1 thread, 512x4608x16: 0.87 ->
 * 0.62-0.65 ms in a kernel-only loop against the AVX2 6 x 16 tile).  Where 512-bit FMAs are
 * split in two 256-bit halves (AMD Zen 4) that saves nothing, and there the AVX2 6 x 16 tile
 * measured best: it streams 6 rows of A at a time, where a 24 x 16 zmm tile (75 vs 105
 * GFLOP/s) streams 24 and defeats the prefetchers: such CPUs take the AVX2 entry. */
#define SKINNY_N 16
static const gemm_cfg CFG_SKINNY[ST_ARCH_COUNT] = {
    [ST_ARCH_GENERIC] = {4, 8, 128, 256, 4096, st_sgemm_ukr_generic_4x8, st_sgemm_pack_generic,
                         "sgemm_generic_4x8"},
    [ST_ARCH_AVX2] = {6, 16, 192, 1024, 4096, st_sgemm_ukr_avx2_6x16, st_sgemm_pack_avx2,
                      "sgemm_avx2_6x16", st_sgemm_ukr_avx2_6x16_rows, st_sgemm_ukr_avx2_6x16_edge},
    [ST_ARCH_AVX512] = {12, 16, 192, 1024, 4096, st_sgemm_ukr_avx512_12x16, st_sgemm_pack_avx512,
                        "sgemm_avx512_12x16", st_sgemm_ukr_avx512_12x16_rows,
                        st_sgemm_ukr_avx512_12x16_edge},
};

/* Products below this many flops (2*M*N*K) run on one thread; above, each thread gets at
 * least this much work. */
#define PAR_MIN_FLOPS 4.0e6
/* The same for matrix-vector products, which are bound by reading the matrix: a second core
 * doubles the bandwidth from L3 sooner (Zen 4, 2 threads, with sgemv_run's 64-column
 * blocks: 512x4608 @ 4608x1 133 -> 67 us, 1x4608 @ 4608x512 148 -> 76 us; products of
 * 1 MFLOP and less stay on one thread). */
#define GV_PAR_MIN_FLOPS 5.0e5

static const gemm_cfg *main_cfg(int arch) {
    if (arch == ST_ARCH_AVX2 && st_cpu_l1d_bytes() >= BIG_L1D_BYTES) return &CFG_MAIN_AVX2_BIG_L1;
    return &CFG_MAIN[arch];
}

static const gemm_cfg *pick_cfg(int64_t N) {
    int arch = st_arch_get();
    if (arch < 0 || arch >= ST_ARCH_COUNT) arch = ST_ARCH_GENERIC;
    if (N > SKINNY_N) return main_cfg(arch);
    if (arch == ST_ARCH_AVX512 && st_cpu_avx512_split()) return &CFG_SKINNY[ST_ARCH_AVX2];
    return &CFG_SKINNY[arch];
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

/* Operands of the next product of a batch, fetched into L2 a few lines at a time while the
 * current product runs (its data would otherwise come from memory at the start of each
 * panel): up to three regions of `rows` rows of `row_bytes` bytes, `ld` bytes apart; a
 * `write` region (the next C when it is only written) is fetched for writing. */
typedef struct {
    const char *base[3];
    int64_t rows[3], row_bytes[3], ld[3];
    int write[3];
    int nreg, reg;       /* regions, the one being fetched */
    int64_t r, off;      /* cursor in it */
    int64_t per_step;    /* lines per call of prefetch_some */
} prefetch_run;

static void prefetch_some(prefetch_run *P) {
#if defined(__GNUC__)
    for (int64_t i = 0; i < P->per_step && P->reg < P->nreg; ++i) {
        const char *p = P->base[P->reg] + P->r * P->ld[P->reg] + P->off;
        if (P->write[P->reg])
            __builtin_prefetch(p, 1, 2);
        else
            __builtin_prefetch(p, 0, 2);
        P->off += 64;
        if (P->off >= P->row_bytes[P->reg]) {
            P->off = 0;
            if (++P->r >= P->rows[P->reg]) {
                P->r = 0;
                ++P->reg;
            }
        }
    }
#else
    (void)P;
#endif
}

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
    prefetch_run *pf;     /* optional: the next product's operands, fetched along the way */
    const float *apacked; /* optional: all of op(A) packed by prepack_a (batched calls) */
    int64_t mpad;         /* M rounded up to whole MR panels (layout of apacked) */
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
                /* rows [0, mdir) of the block are read in place, the rest packed (or taken
                 * from the prepacked A: its panels of k block pc start at pc * mpad) */
                const int64_t mdir = (cf->ukr_rows && !J->ta && J->bmode != B_DIRECT &&
                                      !J->apacked && q1 - q0 <= ROWS_MAX_PANELS &&
                                      (J->N <= SKINNY_N || J->lda % ROWS_ALIAS_LD))
                                         ? mc / mr * mr
                                         : 0;
                const float *pa = pack_a_buf;
                if (J->apacked)
                    pa = J->apacked + pc * J->mpad + ic * kc;
                else
                    for (int64_t ip = mdir; ip < mc; ip += mr)
                        cf->pack(J->ta, kc, (int)min64(mr, mc - ip), mr, a_at(J, ic + ip, pc),
                                 J->lda, pack_a_buf + ip * kc);
                for (int64_t q = q0; q < q1; ++q) {
                    if (J->pf) prefetch_some(J->pf);
                    const int n = (int)min64(nr, nc - q * nr);
                    float *cp = J->C + ic * J->ldc + jc + q * nr;
                    if (J->bmode == B_DIRECT) {
                        const float *bq = b_at(J, pc, jc + q * nr);
                        for (int64_t ip = 0; ip < mc; ip += mr) {
                            const int m = (int)min64(mr, mc - ip);
                            const st_sgemm_ukr_bdir_fn ukr =
                                (m < mr && cf->bdir_edge) ? cf->bdir_edge[m] : cf->ukr_bdir;
                            ukr(kc, pa + ip * kc, bq, J->ldb, cp + ip * J->ldc, J->ldc, m,
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
                        ukr(kc, pa + ip * kc, bp, cp + ip * J->ldc, J->ldc, m, n, J->alpha,
                            beta);
                    }
                }
            }
        }
    }
}

/* Set P to fetch, during thread (tid of nt)'s share of J, the rows of the next product's A
 * that the thread uses (A_next NULL: A is shared), its B, and its C (C_next NULL: the same
 * C), all of C when only written (beta 0), else the thread's rows of it. */
static void add_region(prefetch_run *P, const void *base, int64_t rows, int64_t row_floats,
                       int64_t ld_floats, int write) {
    if (rows <= 0 || row_floats <= 0) return;
    const int g = P->nreg++;
    P->base[g] = (const char *)base;
    P->rows[g] = rows;
    P->row_bytes[g] = (int64_t)sizeof(float) * row_floats;
    P->ld[g] = (int64_t)sizeof(float) * ld_floats;
    P->write[g] = write;
}

static void prefetch_plan(prefetch_run *P, const gemm_job *J, int tid, int nt,
                          const float *A_next, const float *B_next, const float *C_next) {
    const gemm_cfg *cf = J->cfg;
    const int64_t mp = cdiv(J->M, cf->mr);
    const int ti = nt > 1 ? tid / J->tn : 0, tm = nt > 1 ? J->tm : 1, tn = nt > 1 ? J->tn : 1;
    const int64_t m0 = (ti * mp / tm) * cf->mr, m1 = min64(J->M, ((ti + 1) * mp / tm) * cf->mr);
    P->nreg = P->reg = 0;
    P->r = P->off = 0;
    if (B_next) {
        if (J->tb)
            add_region(P, B_next, J->N, J->K, J->ldb, 0);
        else
            add_region(P, B_next, J->K, J->N, J->ldb, 0);
    }
    if (A_next) {
        if (J->ta)
            add_region(P, A_next + m0, J->K, m1 - m0, J->lda, 0);
        else
            add_region(P, A_next + m0 * J->lda, m1 - m0, J->K, J->lda, 0);
    }
    if (C_next) add_region(P, C_next + m0 * J->ldc, m1 - m0, J->N, J->ldc, J->beta == 0.f);
    int64_t lines = 0;
    for (int i = 0; i < P->nreg; ++i) lines += P->rows[i] * cdiv(P->row_bytes[i], 64);
    const int64_t steps = cdiv(cdiv(J->N, cf->nr), tn) * cdiv(J->K, cf->kc) *
                          cdiv(m1 > m0 ? m1 - m0 : 1, cf->mc);
    P->per_step = cdiv(lines, steps < 1 ? 1 : steps);
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

/* Workspace sizes of a planned job (bytes). */
typedef struct {
    size_t a;     /* one thread's packed A block (MC x KC) */
    size_t b;     /* shared B block (B_SHARED; two of them when threaded) */
    size_t own;   /* a thread's own B buffer when the team has the planned size */
    size_t solo;  /* its own B buffer when one thread runs the whole product */
    int own_b;    /* the mode uses own B buffers (B_JIT, B_PRIVATE) */
} gemm_ws;

/* Fill J (the operands must be set) for one product on nt threads: kernel, thread grid, how B
 * reaches the micro-kernel (`no_barrier`: never B_SHARED with nt > 1), workspace sizes. */
static void plan_job(gemm_job *J, int nt, int no_barrier, gemm_ws *W) {
    const gemm_cfg *cf = pick_cfg(J->N);
    J->cfg = cf;
    J->tm = J->tn = 1;
    J->bmode = B_SHARED;
    J->pack_b = NULL;
    J->b_stride = 0;
    if (nt > 1) thread_grid(cf, J->M, J->N, nt, &J->tm, &J->tn);
    if (cf->ukr_bdir && !J->tb && J->M <= BDIR_MAX_M && J->ldb % ROWS_ALIAS_LD != 0)
        J->bmode = B_DIRECT;
    else if (cdiv(cdiv(J->M, cf->mr), J->tm) * cf->mr <= cf->mc)
        J->bmode = B_JIT;
    if (J->bmode == B_SHARED && nt > 1 && (J->tm == 1 || J->N <= SKINNY_N || no_barrier))
        J->bmode = B_PRIVATE;
    W->a = (size_t)cf->mc * (size_t)cf->kc * sizeof(float);
    /* own B buffer: one panel (B_JIT) or the panels of the thread's columns (B_PRIVATE; all
     * of them when one thread ends up doing the whole product) */
    const size_t panel_bytes = (size_t)cf->kc * (size_t)cf->nr * sizeof(float);
    const int64_t np_all = cdiv(min64(J->N, cf->nc), cf->nr);
    W->own = panel_bytes * (size_t)(J->bmode == B_PRIVATE ? cdiv(np_all, J->tn) : 1);
    W->solo = panel_bytes * (size_t)(J->bmode == B_PRIVATE ? np_all : 1);
    W->own_b = J->bmode == B_JIT || J->bmode == B_PRIVATE;
    W->b = 0;
    if (J->bmode == B_SHARED) {
        W->b = (size_t)min64(cf->kc, J->K) * (size_t)(np_all * cf->nr) * sizeof(float);
        if (nt > 1) J->b_stride = (int64_t)(W->b / sizeof(float));
    }
}

/* One product, or (batch > 1, stride_c == 0) the sum of `batch` products into one C, on nt
 * threads sharing C.  Products b > 0 take A + b*sa and B + b*sb and accumulate (beta 1), so
 * every C element is summed in the same order whatever the thread count. */
static int gemm_run_shared(gemm_job J, int nt, int64_t batch, int64_t sa, int64_t sb) {
    gemm_ws W;
    plan_job(&J, nt, batch > 1, &W);
    if (J.bmode == B_SHARED) {
        J.pack_b = (float *)st_workspace(ST_WS_PACK_B, nt > 1 ? 2 * W.b : W.b);
        if (!J.pack_b) return ST_ENOMEM;
    }
    const float *A0 = J.A, *B0 = J.B;
    const float beta0 = J.beta;
    if (nt <= 1 || !STRIATE_OPENMP) {
        float *pa = (float *)st_workspace(ST_WS_PACK_A, W.a);
        float *pbj = W.own_b ? (float *)st_workspace(ST_WS_PACK_B, W.solo) : NULL;
        if (!pa || (W.own_b && !pbj)) return ST_ENOMEM;
        J.tm = J.tn = 1;
        prefetch_run P;
        for (int64_t b = 0; b < batch; ++b) {
            J.A = A0 + b * sa;
            J.B = B0 + b * sb;
            J.beta = b == 0 ? beta0 : 1.f;
            J.pf = NULL;
            if (b + 1 < batch) {
                prefetch_plan(&P, &J, 0, 1, sa ? J.A + sa : NULL, sb ? J.B + sb : NULL, NULL);
                J.pf = &P;
            }
            gemm_thread(&J, 0, 1, pa, pbj);
        }
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
        float *pa = (float *)st_workspace(ST_WS_PACK_A, W.a);
        float *pbj =
            W.own_b ? (float *)st_workspace(ST_WS_PACK_B, team == nt ? W.own : W.solo) : NULL;
        if (!pa || (W.own_b && !pbj)) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        int f;
#pragma omp atomic read
        f = failed;
        if (!f && (team == nt || tid == 0)) {
            prefetch_run P;
            for (int64_t b = 0; b < batch; ++b) {
                Jt.A = A0 + b * sa;
                Jt.B = B0 + b * sb;
                Jt.beta = b == 0 ? beta0 : 1.f;
                Jt.pf = NULL;
                if (b + 1 < batch) {
                    prefetch_plan(&P, &Jt, team == nt ? tid : 0, team == nt ? team : 1,
                                  sa ? Jt.A + sa : NULL, sb ? Jt.B + sb : NULL, NULL);
                    Jt.pf = &P;
                }
                if (team == nt)
                    gemm_thread(&Jt, tid, team, pa, pbj);
                else
                    gemm_thread(&Jt, 0, 1, pa, pbj);
            }
        }
    }
#endif
    return failed ? ST_ENOMEM : ST_OK;
}

/* Threads for a product of `flops`: at most nt, and few enough that each gets at least
 * min_flops (at least one thread). */
static int threads_for(int nt, double flops, double min_flops) {
    if (nt <= 1 || flops >= (double)nt * min_flops) return nt;
    const int cap = (int)(flops / min_flops);
    return cap < 1 ? 1 : cap;
}

/* ---- one row or one column: GEMV --------------------------------------------------------- */

#define GV_NAME(f) f##_generic
#include "sgemv_impl.h"
#undef GV_NAME

typedef void (*gv_fn)(int64_t, int64_t, const float *, int64_t, const float *, float *,
                      int64_t, float, float);
#define GV_DECLARE(sfx)                                                                      \
    void st_sgemv_dot_##sfx(int64_t, int64_t, const float *, int64_t, const float *,        \
                            float *, int64_t, float, float);                                 \
    void st_sgemv_axpy_##sfx(int64_t, int64_t, const float *, int64_t, const float *,       \
                             float *, int64_t, float, float);
GV_DECLARE(avx2)
GV_DECLARE(avx512)

static const struct {
    gv_fn dot, axpy;
} GV_TABLE[ST_ARCH_COUNT] = {
    [ST_ARCH_GENERIC] = {st_sgemv_dot_generic, st_sgemv_axpy_generic},
    [ST_ARCH_AVX2] = {st_sgemv_dot_avx2, st_sgemv_axpy_avx2},
    [ST_ARCH_AVX512] = {st_sgemv_dot_avx512, st_sgemv_axpy_avx512},
};

/* M == 1 or N == 1 (K > 0, alpha != 0): the product is a matrix-vector one, bound by reading
 * the matrix once, where packing would cost as much as the arithmetic.  The output vector y
 * is either a row of C (M == 1) or a column (N == 1); it is a row-wise dot product with the
 * matrix when the matrix's rows run along K, else a sum of scaled rows (axpy).  A strided
 * vector operand is gathered into the PACK_B workspace first.  Threads take blocks of
 * outputs (multiples of 4 rows / 64 columns); every output is summed exactly as on one
 * thread. */
static int sgemv_run(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                     float *C, int64_t ldc, int nt) {
    const float *R, *xs;
    int64_t n, incx, ldr, incy;
    int dot;
    if (N == 1) { /* y = column of C; x = op(B)[:, 0]; matrix op(A) */
        n = M, incy = ldc, xs = B, incx = tb ? 1 : ldb, R = A, ldr = lda, dot = !ta;
    } else { /* y = row of C; x = op(A)[0, :]; matrix op(B) */
        n = N, incy = 1, xs = A, incx = ta ? lda : 1, R = B, ldr = ldb, dot = tb;
    }
    const float *x = xs;
    if (incx != 1 && K > 1) {
        float *buf = (float *)st_workspace(ST_WS_PACK_B, sizeof(float) * (size_t)K);
        if (!buf) return ST_ENOMEM;
        for (int64_t k = 0; k < K; ++k) buf[k] = xs[k * incx];
        x = buf;
    }
    const gv_fn f = dot ? GV_TABLE[st_arch_get()].dot : GV_TABLE[st_arch_get()].axpy;
    nt = threads_for(nt, 2.0 * (double)n * (double)K, GV_PAR_MIN_FLOPS);
    const int64_t unit = dot ? 4 : 64; /* 64 columns: whole cache lines of y per thread */
    int64_t chunk = cdiv(cdiv(n, nt), unit) * unit;
    if (chunk < unit) chunk = unit;
    const int64_t chunks = cdiv(n, chunk);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && chunks > 1)
    for (int64_t c = 0; c < chunks; ++c) {
        const int64_t o0 = c * chunk, len = min64(chunk, n - o0);
        f(len, K, dot ? R + o0 * ldr : R + o0, ldr, x, C + o0 * incy, incy, alpha, beta);
    }
    return ST_OK;
}

static int sgemm_impl(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                      float *C, int64_t ldc, int nt) {
    if (M <= 0 || N <= 0) return ST_OK;
    if (K <= 0 || alpha == 0.f) {
        scale_c(M, N, beta, C, ldc);
        return ST_OK;
    }
    if (M == 1 || N == 1)
        return sgemv_run(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt);
    nt = threads_for(nt, 2.0 * (double)M * (double)N * (double)K, PAR_MIN_FLOPS);
    gemm_job J = {NULL, ta, tb, M, N, K, alpha, beta, A, B, lda, ldb, ldc, C};
    return gemm_run_shared(J, nt, 1, 0, 0);
}

/* ---- batched products ------------------------------------------------------------------- */

/* A shared by every product of a batch is packed once per thread when its packed panels
 * (M rounded up to MR, times K) take at most this many bytes. */
#define PREPACK_MAX_BYTES (2u << 20)

/* apacked[pc * mpad + i * kc + ...]: the MR-row panels of op(A) for each k block pc, laid out
 * as gemm_thread reads them. */
static void prepack_a(const gemm_job *J, float *dst) {
    const gemm_cfg *cf = J->cfg;
    for (int64_t pc = 0; pc < J->K; pc += cf->kc) {
        const int64_t kc = min64(cf->kc, J->K - pc);
        for (int64_t i = 0; i < J->M; i += cf->mr)
            cf->pack(J->ta, kc, (int)min64(cf->mr, J->M - i), cf->mr, a_at(J, i, pc), J->lda,
                     dst + pc * J->mpad + i * kc);
    }
}

/* Products [b0, b1) of an independent batch (of `batch`), one after another on the calling
 * thread, with its own workspaces (A packed once when J->mpad != 0); the operands of product
 * b + next are fetched into L2 while product b runs. */
static int run_products(const gemm_job *J0, const gemm_ws *W, int64_t b0, int64_t b1,
                        int64_t sa, int64_t sb, int64_t sc, int64_t batch, int64_t next,
                        int *prepacked) {
    gemm_job J = *J0;
    const size_t a_bytes =
        J.mpad ? (size_t)J.mpad * (size_t)J.K * sizeof(float) : W->a;
    float *pa = (float *)st_workspace(ST_WS_PACK_A, a_bytes);
    float *pb = (float *)st_workspace(ST_WS_PACK_B, J.bmode == B_SHARED ? W->b : W->solo);
    if (!pa || (!pb && (J.bmode == B_SHARED || W->own_b))) return ST_ENOMEM;
    if (J.bmode == B_SHARED) J.pack_b = pb;
    if (J.mpad) {
        if (!*prepacked) {
            prepack_a(&J, pa);
            *prepacked = 1;
        }
        J.apacked = pa;
    }
    prefetch_run P;
    for (int64_t b = b0; b < b1; ++b) {
        J.A = J0->A + b * sa;
        J.B = J0->B + b * sb;
        J.C = J0->C + b * sc;
        J.pf = NULL;
        if (b + next < batch) { /* the product this thread most likely runs next */
            prefetch_plan(&P, &J, 0, 1, sa ? J.A + next * sa : NULL,
                          sb ? J.B + next * sb : NULL, J.C + next * sc);
            J.pf = &P;
        }
        gemm_thread(&J, 0, 1, pa, pb);
    }
    return ST_OK;
}

static int sgemm_batch_impl(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                            const float *A, int64_t lda, int64_t sa, const float *B,
                            int64_t ldb, int64_t sb, float beta, float *C, int64_t ldc,
                            int64_t sc, int64_t batch, int nt) {
    if (M <= 0 || N <= 0 || batch <= 0) return ST_OK;
    const int sum = sc == 0;
    if (K <= 0 || alpha == 0.f) {
        for (int64_t b = 0; b < (sum ? 1 : batch); ++b) scale_c(M, N, beta, C + b * sc, ldc);
        return ST_OK;
    }
    if (M == 1 || N == 1) { /* matrix-vector products, one after another (summing: in order) */
        for (int64_t b = 0; b < batch; ++b) {
            int st = sgemv_run(ta, tb, M, N, K, alpha, A + b * sa, lda, B + b * sb, ldb,
                               sum && b > 0 ? 1.f : beta, C + b * sc, ldc, nt);
            if (st) return st;
        }
        return ST_OK;
    }
    nt = threads_for(nt, 2.0 * (double)M * (double)N * (double)K * (double)batch,
                     PAR_MIN_FLOPS);
    gemm_job J = {NULL, ta, tb, M, N, K, alpha, beta, A, B, lda, ldb, ldc, C};
    if (sum) return gemm_run_shared(J, nt, batch, sa, sb);
    if (nt > 1 && batch < nt) { /* too few products to share out: thread each one */
        for (int64_t b = 0; b < batch; ++b) {
            J.A = A + b * sa;
            J.B = B + b * sb;
            J.C = C + b * sc;
            int st = gemm_run_shared(J, nt, 1, 0, 0);
            if (st) return st;
        }
        return ST_OK;
    }
    /* Threads take whole products (dynamic schedule: a thread that the OS deschedules
     * leaves its products to the others); each product runs serially, so results do not
     * depend on the thread count. */
    gemm_ws W;
    plan_job(&J, 1, 0, &W);
    J.mpad = 0;
    if (sa == 0 && batch > 1) {
        const int64_t mpad = cdiv(M, J.cfg->mr) * J.cfg->mr;
        if ((size_t)mpad * (size_t)K * sizeof(float) <= PREPACK_MAX_BYTES) J.mpad = mpad;
    }
    if (nt <= 1 || !STRIATE_OPENMP) {
        int prepacked = 0;
        return run_products(&J, &W, 0, batch, sa, sb, sc, batch, 1, &prepacked);
    }
    int failed = 0;
#if STRIATE_OPENMP
#pragma omp parallel num_threads(nt)
    {
        int prepacked = 0;
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < batch; ++b) {
            int f;
#pragma omp atomic read
            f = failed;
            if (f) continue;
            if (run_products(&J, &W, b, b + 1, sa, sb, sc, batch, nt, &prepacked)) {
#pragma omp atomic write
                failed = 1;
            }
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

int st_sgemm_batch(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, int64_t stride_a, const float *B, int64_t ldb,
                   int64_t stride_b, float beta, float *C, int64_t ldc, int64_t stride_c,
                   int64_t batch) {
    int nt = 1;
#if STRIATE_OPENMP
    if (!omp_in_parallel()) nt = omp_get_max_threads();
#endif
    return sgemm_batch_impl(ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta,
                            C, ldc, stride_c, batch, nt);
}

int st_sgemm_batch_serial(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                          const float *A, int64_t lda, int64_t stride_a, const float *B,
                          int64_t ldb, int64_t stride_b, float beta, float *C, int64_t ldc,
                          int64_t stride_c, int64_t batch) {
    return sgemm_batch_impl(ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta,
                            C, ldc, stride_c, batch, 1);
}

void st_sgemm_get_info(int arch, st_gemm_info *info) {
    if (arch < 0 || arch >= ST_ARCH_COUNT) arch = ST_ARCH_GENERIC;
    const gemm_cfg *cf = main_cfg(arch);
    info->mr = cf->mr;
    info->nr = cf->nr;
    info->mc = cf->mc;
    info->kc = cf->kc;
    info->nc = cf->nc;
    info->kernel = cf->name;
}
